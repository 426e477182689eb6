"""Make the recordings that replay mode plays back.

A recording is a folder under data/recordings/<name>/:

    provenance.yaml          recorded | constructed, how, from what, with which versions
    cluster.yaml             facts about the cluster (Kubernetes version, apiserver flags)
    base.jsonl               the etcd keyspace before any notebook ran (one write per line)
    notebooks/<nb>/api.yaml  the HTTP exchanges of that notebook (a vcrpy cassette)
    notebooks/<nb>/etcd.jsonl every etcd write made while it ran, with its revision
    notebooks/<nb>/reads.json the revision each of its etcd reads saw

Two ways to make one, the same recorder underneath (`Lab` in "record" mode):
- `k8slearn record` runs each notebook against the live Kind cluster (Docker + kind).
- `k8slearn record --construct` runs each notebook against `standin.StandIn`, backed by a
  real local etcd holding the constructed fresh-Kind keyspace (`kindstate`). Its output
  says `constructed` everywhere it is shown.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

import yaml

from . import __version__
from . import etcd as etcdmod
from .errors import K8sLearnError

CONSTRUCTED_KUBERNETES_VERSION = "v1.35.0"

# The kube-apiserver flags kubeadm writes into its static pod manifest, as far as the
# curriculum uses them (cmd/kubeadm/app/phases/controlplane/manifests.go,
# getAPIServerCommand), with kind's service subnet (kind's default 10.96.0.0/16:
# https://kind.sigs.k8s.io/docs/user/configuration/#service-subnet). Constructed: a live
# recording stores the real command line instead.
CONSTRUCTED_APISERVER_FLAGS = [
    "kube-apiserver",
    "--authorization-mode=Node,RBAC",
    "--enable-admission-plugins=NodeRestriction",
    "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
    "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
    "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
    "--etcd-servers=https://127.0.0.1:2379",
    "--secure-port=6443",
    "--service-cluster-ip-range=10.96.0.0/16",
]


def constructed_version_info(kubernetes_version: str) -> dict:
    """/version as the stand-in answers it: the build fields it cannot know are left empty."""
    major, minor = kubernetes_version.lstrip("v").split(".")[:2]
    return {"major": major, "minor": minor, "gitVersion": kubernetes_version, "gitCommit": "",
            "gitTreeState": "", "buildDate": "", "goVersion": "", "compiler": "gc",
            "platform": "linux/amd64"}


def notebooks_dir() -> Path:
    from .lab import data_dir

    return data_dir().parent / "notebooks"


def notebook_names() -> list[str]:
    return sorted(p.stem for p in notebooks_dir().glob("[0-9][0-9]-*.ipynb"))


def versions() -> dict:
    from importlib.metadata import version

    from .localetcd import etcd_version

    out = {"k8slearn": __version__, "python": platform.python_version(), "etcd": etcd_version()}
    for pkg in ("kubernetes", "vcrpy", "papermill", "protobuf"):
        try:
            out[pkg] = version(pkg)
        except Exception:
            out[pkg] = None
    return out


def redact_value(key: str, value: bytes) -> bytes:
    """A stored Secret with its data replaced by REDACTED (re-encoded as it was stored)."""
    if "/secrets/" not in key:
        return value
    from . import codec
    from .transcript import REDACTED

    try:
        d = codec.decode(value)
        if d.encoding == "encrypted":
            return b"k8slearn: encrypted Secret value not recorded"
        obj = d.obj
        for field in ("data", "stringData"):
            if isinstance(obj.get(field), dict):
                obj[field] = {k: REDACTED for k in obj[field]}
        media = {"protobuf": "application/vnd.kubernetes.protobuf", "json": "application/json",
                 "yaml": "application/yaml"}[d.encoding]
        return codec.encode(obj, media)
    except Exception:
        return b"k8slearn: Secret value not recorded (could not be redacted)"


def build_base_keyspace(client, kubernetes_version: str) -> list[etcdmod.Op]:
    """Write the constructed fresh-Kind keyspace into `client`'s etcd; return the writes."""
    from . import codec, kindstate

    start = etcdmod.current_revision(client)
    rec = etcdmod.OpsRecorder(client, start + 1)
    leases = {}
    for e in kindstate.fresh_cluster(kubernetes_version.lstrip("v")):
        value = e.text.encode() if e.text is not None else codec.encode(e.obj, "application/vnd.kubernetes.protobuf")
        lease = None
        if e.lease_ttl:
            lease = leases.get(e.lease_ttl) or client.lease(e.lease_ttl)
            leases[e.lease_ttl] = lease
        client.put(e.key.encode(), value, lease=lease)
    return rec.stop(etcdmod.current_revision(client))


def run_notebook(name: str, record_dir: Path, target: str, log_dir: Path):
    import papermill as pm

    env = {"K8SLEARN_RECORD_DIR": str(record_dir), "K8SLEARN_TARGET": target}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    executed = log_dir / f"{name}.ipynb"
    try:
        pm.execute_notebook(str(notebooks_dir() / f"{name}.ipynb"), str(executed),
                            parameters={"mode": "record"}, cwd=str(notebooks_dir()),
                            progress_bar=False, kernel_name="python3", execution_timeout=300)
    except pm.PapermillExecutionError as e:
        raise K8sLearnError(f"recording {name} failed in cell {e.exec_count}: {e.ename}: "
                            f"{e.evalue.strip()[:400]} (the executed notebook is {executed})") from None
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def construct(names: list[str] | None = None, out: Path | None = None,
              kubernetes_version: str = CONSTRUCTED_KUBERNETES_VERSION) -> Path:
    """Build data/recordings/constructed (or `out`) with the stand-in; returns the folder."""
    from tqdm.auto import tqdm

    from .lab import data_dir
    from .localetcd import LocalEtcd
    from .standin import Clock, StandIn
    from .standin_admission import AdmissionStandIn as StandIn  # noqa: F811 - adds CRD rules, policies

    out = Path(out or data_dir() / "recordings" / "constructed")
    names = names or notebook_names()
    out.mkdir(parents=True, exist_ok=True)
    with LocalEtcd(name="construct-base") as server:
        base = build_base_keyspace(server.client(), kubernetes_version)
    etcdmod.write_ops(out / "base.jsonl", base)
    cluster = {"kubernetes_version": kubernetes_version, "etcd_prefix": "/registry",
               "storage_media_type": "application/vnd.kubernetes.protobuf",
               "apiserver_flags": CONSTRUCTED_APISERVER_FLAGS,
               "note": "constructed: the flags kubeadm sets that the curriculum uses, not a real command line"}
    (out / "cluster.yaml").write_text(yaml.safe_dump(cluster, sort_keys=False))
    logs = Path(tempfile.mkdtemp(prefix="k8slearn-construct-"))
    for name in tqdm(names, desc="constructing", unit="notebook"):
        shutil.rmtree(out / "notebooks" / name, ignore_errors=True)
        with LocalEtcd(name="construct") as server:
            client = server.client()
            etcdmod.apply_ops(client, base)
            standin = StandIn(client, clock=Clock(seed=name), version_info=constructed_version_info(kubernetes_version))
            url = standin.start()
            try:
                run_notebook(name, out, f"standin {url} {server.client_port}", logs)
            finally:
                standin.stop()
    prov = {
        "provenance": "constructed",
        "summary": "built by `k8slearn record --construct`: a fresh-Kind-shaped keyspace written through "
                   "k8slearn's encoder into a real local etcd, and each notebook run against k8slearn's "
                   "kube-apiserver stand-in. NOT recorded from a real cluster.",
        "how": "k8slearn record --construct",
        "date": date.today().isoformat(),
        "kubernetes_version_modelled": kubernetes_version,
        "versions": versions(),
        "machine": f"{platform.system()} {platform.machine()}",
        "sources": {
            "keyspace": "k8slearn/kindstate.py (SOURCES lists the documents each object follows)",
            "api_behaviour": "k8slearn/standin.py (each rule cites the documentation it follows)",
        },
        "limits": ["no pods, nodes, deployments or other types without a built-in schema (kindstate.OMITTED)",
                   "timestamps and uids come from a deterministic clock",
                   "the stand-in ends a quiet watch after 0.3 s instead of at timeoutSeconds"],
    }
    (out / "provenance.yaml").write_text(yaml.safe_dump(prov, sort_keys=False, allow_unicode=True))
    shutil.rmtree(logs, ignore_errors=True)
    return out


def record_live(names: list[str] | None = None, name: str | None = None) -> Path:
    """Record the notebooks against the live Kind cluster (needs Docker + kind)."""
    from tqdm.auto import tqdm

    from . import kind
    from .lab import data_dir, live_cluster_facts

    ok, why = kind.answers()
    if not ok:
        raise K8sLearnError(f"cannot record: {why}. Create the cluster with `k8slearn cluster up`.")
    api = kind.api_client()
    facts = live_cluster_facts(api)
    name = name or f"kind-{facts['kubernetes_version']}-{date.today().isoformat()}"
    out = data_dir() / "recordings" / name
    out.mkdir(parents=True, exist_ok=True)
    client = kind.etcd_client()
    view = etcdmod.Etcd(client, prefix="")
    snapshot = sorted(view.range(""), key=lambda kv: kv.mod_revision)
    base = [etcdmod.Op(kv.mod_revision, "put", kv.key, redact_value(kv.key, kv.value)) for kv in snapshot]
    etcdmod.write_ops(out / "base.jsonl", base)
    (out / "cluster.yaml").write_text(yaml.safe_dump(facts, sort_keys=False))
    logs = Path(tempfile.mkdtemp(prefix="k8slearn-record-"))
    for nb in tqdm(names or notebook_names(), desc="recording", unit="notebook"):
        run_notebook(nb, out, "kind", logs)
        ops_file = out / "notebooks" / nb / "etcd.jsonl"
        ops = [etcdmod.Op(o.rev, o.op, o.key, redact_value(o.key, o.value), o.lease_ttl) for o in etcdmod.read_ops(ops_file)]
        etcdmod.write_ops(ops_file, ops)
    prov = {"provenance": "recorded", "summary": f"recorded from a live Kind cluster ({facts['kubernetes_version']})",
            "how": "k8slearn record", "date": date.today().isoformat(), "cluster": facts.get("kubernetes_version"),
            "kind": kind.tool_version("kind"), "versions": versions(),
            "limits": ["base.jsonl keeps each key's latest value at its mod_revision; create_revision and "
                       "version of keys written before recording started are not reproduced",
                       "Secret data replaced by REDACTED"]}
    (out / "provenance.yaml").write_text(yaml.safe_dump(prov, sort_keys=False))
    return out
