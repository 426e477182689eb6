"""Make the recordings that replay mode plays back, from a live cluster.

A recording is a folder under data/recordings/<name>/:

    provenance.yaml          how it was made, from what, with which versions
    cluster.yaml             facts about the cluster (Kubernetes version, apiserver flags)
    base.jsonl               the etcd keyspace before any notebook ran (one write per line)
    notebooks/<nb>/api.yaml  the HTTP exchanges of that notebook (a vcrpy cassette)
    notebooks/<nb>/etcd.jsonl every etcd write made while it ran, with its revision
    notebooks/<nb>/reads.json the revision each of its etcd reads saw
    notebooks/<nb>/base.jsonl, cluster.yaml, provenance.yaml
                             only for a notebook recorded alone (`k8slearn record NAME`):
                             its own run's, which replay then uses instead of the shared ones

`k8slearn record` runs each notebook live (mode "record") against the running curriculum
cluster — the local control plane, or the Kind cluster — and writes what the real
kube-apiserver and etcd answered. Secrets outside the curriculum's own `k8slearn-*`
namespaces (a learner's cluster could hold real credentials) are replaced by REDACTED;
the curriculum's demo Secrets are kept, so replay shows what live showed.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from k8slearn import __version__
from k8slearn.cluster import etcd as etcdmod
from k8slearn.errors import K8sLearnError
from k8slearn.recording import etcdlog
from k8slearn.recording.redact import redact_stored_value

if TYPE_CHECKING:
    from k8slearn.cluster.live import Runtime


def notebooks_dir() -> Path:
    """The repository's notebooks/ folder."""
    from k8slearn.recording.layout import data_dir

    return data_dir().parent / "notebooks"


def notebook_names() -> list[str]:
    """The curriculum's notebooks (NN-*.ipynb), by name, in order."""
    return sorted(p.stem for p in notebooks_dir().glob("[0-9][0-9]-*.ipynb"))


def versions() -> dict:
    """The versions of Python, k8slearn, etcd and the libraries a recording is made with."""
    from importlib.metadata import version

    from k8slearn.cluster.localetcd import etcd_version

    out = {"k8slearn": __version__, "python": platform.python_version(), "etcd": etcd_version()}
    for pkg in ("kubernetes", "vcrpy", "papermill", "protobuf"):
        try:
            out[pkg] = version(pkg)
        except Exception:
            out[pkg] = None
    return out


def run_notebook(name: str, record_dir: Path, log_dir: Path) -> None:
    """Execute notebook ``name`` in record mode (papermill), recording into ``record_dir``."""
    import papermill as pm

    env = {"K8SLEARN_RECORD_DIR": str(record_dir)}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    executed = log_dir / f"{name}.ipynb"
    try:
        pm.execute_notebook(
            str(notebooks_dir() / f"{name}.ipynb"),
            str(executed),
            parameters={"mode": "record"},
            cwd=str(notebooks_dir()),
            progress_bar=False,
            kernel_name="python3",
            execution_timeout=300,
        )
    except pm.PapermillExecutionError as e:
        raise K8sLearnError(
            f"recording {name} failed in cell {e.exec_count}: {e.ename}: "
            f"{e.evalue.strip()[:400]} (the executed notebook is {executed})"
        ) from None
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _lease_ttls(client: Any, kvs: Iterable[etcdmod.KeyValue]) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    for kv in kvs:
        if kv.lease and kv.lease not in out:
            try:
                out[kv.lease] = int(client.get_lease_info(kv.lease).grantedTTL)
            except Exception:
                out[kv.lease] = None
    return out


def provenance(rt: Runtime, facts: dict, started: str, names: list[str]) -> dict:
    """provenance.yaml: how the recording was made, from what, with which versions."""
    from kubernetes import client as k8s

    from k8slearn.cluster import binaries, live

    api = rt.api_client()
    v = k8s.VersionApi(api).get_code()
    prov: dict[str, Any] = {
        "provenance": "recorded",
        "summary": f"recorded from {rt.describe().split(' (')[0]}, Kubernetes {v.git_version}",
        "how": "k8slearn record " + " ".join(names),
        "command": " ".join(["k8slearn", *sys.argv[1:]])
        if sys.argv and "k8slearn" in sys.argv[0]
        else "k8slearn record",
        "date": started,
        "runtime": rt.name,
        "version": {
            "gitVersion": v.git_version,
            "gitCommit": v.git_commit,
            "gitTreeState": v.git_tree_state,
            "goVersion": v.go_version,
            "platform": v.platform,
        },
        "versions": versions(),
    }
    if rt.name == "local":
        from k8slearn.cluster import local

        st = local.require_state()
        built = binaries.build_info()
        prov["built_from"] = {
            g: {"module": i["module"], "version": i["version"], "go": i["go"]} for g, i in built.items()
        }
        prov["programs"] = st["versions"]
        prov["flags"] = {n: [f for f in args] for n, args in local.flags(st).items()}
        prov["options"] = st["options"]
        prov["note"] = (
            "the local control plane: real kube-apiserver, kube-controller-manager, kube-scheduler and "
            "etcd built from the modules above, kwok playing the kubelet of one fake Node; kubeadm's "
            "CoreDNS add-on objects are created through the API (their Pods run under kwok); no "
            "kube-proxy and no CNI, so their objects are absent from the keyspace"
        )
    elif rt.name == "kind":
        from k8slearn.cluster import kind

        prov["kind"] = kind.tool_version("kind")
        prov["flags"] = {"kube-apiserver": facts.get("apiserver_flags", [])}
    prov["limits"] = [
        "base.jsonl keeps each key's latest value at its mod_revision; create_revision and version "
        "of keys written before recording started are not reproduced",
        "Secret data outside k8slearn-* namespaces replaced by REDACTED; the curriculum's demo Secrets kept",
        "machine paths in flags are replaced by <state> and <cache>",
    ]
    assert live.CURRICULUM.get(rt.context) == rt.name or rt.name == "other"
    return prov


def _scrub_paths(obj, state_dir: str):
    """Replace the machine's state and cache folders in recorded command lines by <state>, <cache>."""
    if isinstance(obj, str):
        from k8slearn.cluster import binaries

        return obj.replace(state_dir, "<state>").replace(str(binaries.cache_dir()), "<cache>")
    if isinstance(obj, list):
        return [_scrub_paths(x, state_dir) for x in obj]
    if isinstance(obj, dict):
        return {k: _scrub_paths(v, state_dir) for k, v in obj.items()}
    return obj


def record_live(names: list[str] | None = None, name: str | None = None) -> Path:
    """Record the notebooks against the running curriculum cluster; returns the recording's folder.

    The recording is written beside the old one and takes its place only when every notebook
    recorded: a failure leaves the previous recording as it was. Recording some notebooks into an
    existing recording replaces only their folders, each with its own base and provenance.
    """
    from datetime import datetime

    from tqdm.auto import tqdm

    from k8slearn.cluster import live
    from k8slearn.recording.layout import recordings_dir

    known = notebook_names()
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise K8sLearnError(f"no notebook named {', '.join(unknown)}; the notebooks are {', '.join(known)}")
    names = names or known
    rt = live.runtime()
    if rt.name == "other":
        raise K8sLearnError(
            "recordings are made only from the curriculum's own clusters "
            "(`k8slearn cluster up --runtime local`); unset K8SLEARN_ALLOW_CONTEXT"
        )
    api = rt.api_client()
    facts = rt.facts(api)
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = name or f"{rt.name}-{facts['kubernetes_version']}"
    final = recordings_dir() / name
    out = recordings_dir() / f".{name}.partial"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    logs = Path(tempfile.mkdtemp(prefix="k8slearn-record-"))
    try:
        state_dir = ""
        if rt.name == "local":
            from k8slearn.cluster import local

            state_dir = local.require_state()["dir"]
        facts = _scrub_paths(facts, state_dir) if state_dir else facts
        client = rt.etcd_client()
        view = etcdmod.Etcd(client, prefix="")
        snapshot = sorted(view.range(""), key=lambda kv: kv.mod_revision)
        ttls = _lease_ttls(client, snapshot)
        base = [
            etcdlog.Op(kv.mod_revision, "put", kv.key, redact_stored_value(kv.key, kv.value), ttls.get(kv.lease))
            for kv in snapshot
        ]
        etcdlog.write_ops(out / "base.jsonl", base)
        (out / "cluster.yaml").write_text(yaml.safe_dump(facts, sort_keys=False))
        for nb in tqdm(names, desc="recording", unit="notebook"):
            run_notebook(nb, out, logs)
            ops_file = out / "notebooks" / nb / "etcd.jsonl"
            ops = [
                etcdlog.Op(o.rev, o.op, o.key, redact_stored_value(o.key, o.value), o.lease_ttl)
                for o in etcdlog.read_ops(ops_file)
            ]
            etcdlog.write_ops(ops_file, ops)
        prov = provenance(rt, facts, started, names)
        prov = _scrub_paths(prov, state_dir) if state_dir else prov
        (out / "provenance.yaml").write_text(yaml.safe_dump(prov, sort_keys=False, allow_unicode=True))
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    shutil.rmtree(logs, ignore_errors=True)
    if set(names) != set(known) and (final / "provenance.yaml").is_file():
        _merge_alone(out, final, names)
    else:
        shutil.rmtree(final, ignore_errors=True)
        out.rename(final)
    return final


def _merge_alone(out: Path, final: Path, names: list[str]) -> None:
    """Some notebooks recorded into an existing recording: each takes its own run's base,
    cluster facts and provenance into its folder, and the other notebooks stay as they were
    (their writes sit on the recording's base, not on this run's)."""
    for nb in names:
        folder = out / "notebooks" / nb
        for shared in ("base.jsonl", "cluster.yaml", "provenance.yaml"):
            shutil.copy2(out / shared, folder / shared)
        target = final / "notebooks" / nb
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(target)
    shutil.rmtree(out, ignore_errors=True)
