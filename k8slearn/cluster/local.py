"""The local control plane: real etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on loopback.

No containers: each program runs as a process of its own, in its own process group, on
free ports of 127.0.0.1, with its log in the cache folder. The flags are the ones kubeadm
writes for a Kind control plane of the same release (cmd/kubeadm/app/phases/controlplane/
manifests.go and phases/etcd/local.go), with file paths and ports of this machine. kwok
plays the kubelet of one fake Node, so Nodes renew their Leases and Pods go Running.

    up(options)   start it (a running, healthy one is kept; a stale one is cleaned first)
    down()        stop every process, remove the state and the kube context
    status()      what runs where: URLs, certificate paths, versions, PIDs and memory

The state lives in <cache>/local/ (or $K8SLEARN_STATE_DIR): pki/, etcd/ (data), logs/,
kubeconfigs and state.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from k8slearn.cluster import addons, binaries, kubeconfig, pki
from k8slearn.errors import K8sLearnError

CONTEXT = "k8slearn-local"
NODE = "k8slearn-worker"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
SERVICE_CIDR = "10.96.0.0/16"  # kind's default service subnet
POD_CIDR = "10.244.0.0/16"  # kind's default pod subnet (kubeadm then sets allocate-node-cidrs)
JSON_MEDIA = "application/json"
PROTOBUF_MEDIA = "application/vnd.kubernetes.protobuf"
# The address the apiserver publishes as the `kubernetes` Service's endpoint. It may not be
# loopback (the endpoint reconciler refuses 127.0.0.0/8); the apiserver listens on 127.0.0.1
# only (--bind-address) and nothing here connects to this address. Kind's first node gets
# 172.18.0.2 on its default Docker network, so the keyspace reads as a Kind cluster's does,
# the same on every machine, and no recording carries the machine's own address.
ADVERTISE_ADDRESS = "172.18.0.2"
ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


class LocalClusterError(K8sLearnError):
    """The local control plane did not start, or is not running."""


@dataclass
class Options:
    """What the curriculum may change about the control plane (the rest follows kubeadm)."""

    storage_media_type: str = PROTOBUF_MEDIA
    encryption_config: str | None = None  # path of an EncryptionConfiguration file
    feature_gates: str = ""  # e.g. "WatchList=false"
    extra_apiserver_flags: list[str] = field(default_factory=list)


def _say(message: str) -> None:
    print(message, flush=True)


def state_dir() -> Path:
    """$K8SLEARN_STATE_DIR (the test suite's own control plane), else <cache>/local."""
    env = os.environ.get("K8SLEARN_STATE_DIR")
    return Path(env).resolve() if env else binaries.cache_dir() / "local"


def state_file() -> Path:
    """The JSON file recording the running control plane."""
    return state_dir() / "state.json"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the command lines


def etcd_args(d: Path, ports: dict) -> list[str]:
    """etcd's command line."""
    pk = d / "pki" / "etcd"
    client, peer = f"https://127.0.0.1:{ports['etcd']}", f"https://127.0.0.1:{ports['etcd-peer']}"
    return [
        f"--name={CONTEXT}",
        f"--data-dir={d / 'etcd'}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster={CONTEXT}={peer}",
        f"--cert-file={pk / 'server.crt'}",
        f"--key-file={pk / 'server.key'}",
        f"--trusted-ca-file={pk / 'ca.crt'}",
        "--client-cert-auth=true",
        f"--peer-cert-file={pk / 'peer.crt'}",
        f"--peer-key-file={pk / 'peer.key'}",
        f"--peer-trusted-ca-file={pk / 'ca.crt'}",
        "--peer-client-cert-auth=true",
        "--snapshot-count=10000",
        f"--listen-metrics-urls=http://127.0.0.1:{ports['etcd-metrics']}",
        "--feature-gates=InitialCorruptCheck=true",
        "--watch-progress-notify-interval=5s",
    ]


def apiserver_args(d: Path, ports: dict, opts: Options) -> list[str]:
    """kube-apiserver's command line with ``opts``."""
    pk = d / "pki"
    args = [
        f"--advertise-address={ADVERTISE_ADDRESS}",
        "--bind-address=127.0.0.1",
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        f"--client-ca-file={pk / 'ca.crt'}",
        "--enable-admission-plugins=NodeRestriction",
        "--enable-bootstrap-token-auth=true",
        f"--etcd-cafile={pk / 'etcd' / 'ca.crt'}",
        f"--etcd-certfile={pk / 'apiserver-etcd-client.crt'}",
        f"--etcd-keyfile={pk / 'apiserver-etcd-client.key'}",
        f"--etcd-servers=https://127.0.0.1:{ports['etcd']}",
        f"--kubelet-client-certificate={pk / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pk / 'apiserver-kubelet-client.key'}",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        f"--proxy-client-cert-file={pk / 'front-proxy-client.crt'}",
        f"--proxy-client-key-file={pk / 'front-proxy-client.key'}",
        "--requestheader-allowed-names=front-proxy-client",
        f"--requestheader-client-ca-file={pk / 'front-proxy-ca.crt'}",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        f"--secure-port={ports['kube-apiserver']}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pk / 'sa.pub'}",
        f"--service-account-signing-key-file={pk / 'sa.key'}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        f"--tls-cert-file={pk / 'apiserver.crt'}",
        f"--tls-private-key-file={pk / 'apiserver.key'}",
    ]
    # the curriculum's options; at their defaults they are left off, as kubeadm leaves them
    if opts.storage_media_type != PROTOBUF_MEDIA:
        args.append(f"--storage-media-type={opts.storage_media_type}")
    if opts.encryption_config:
        args.append(f"--encryption-provider-config={opts.encryption_config}")
    if opts.feature_gates:
        args.append(f"--feature-gates={opts.feature_gates}")
    return args + list(opts.extra_apiserver_flags)


def controller_manager_args(d: Path, ports: dict) -> list[str]:
    """kube-controller-manager's command line."""
    pk, conf = d / "pki", d / "controller-manager.conf"
    return [
        "--allocate-node-cidrs=true",
        f"--cluster-cidr={POD_CIDR}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        f"--authentication-kubeconfig={conf}",
        f"--authorization-kubeconfig={conf}",
        f"--kubeconfig={conf}",
        "--bind-address=127.0.0.1",
        f"--secure-port={ports['kube-controller-manager']}",
        f"--client-ca-file={pk / 'ca.crt'}",
        f"--requestheader-client-ca-file={pk / 'front-proxy-ca.crt'}",
        f"--root-ca-file={pk / 'ca.crt'}",
        f"--service-account-private-key-file={pk / 'sa.key'}",
        f"--cluster-signing-cert-file={pk / 'ca.crt'}",
        f"--cluster-signing-key-file={pk / 'ca.key'}",
        "--controllers=*,bootstrapsigner,tokencleaner",
        "--leader-elect=true",
        "--use-service-account-credentials=true",
        "--cluster-name=k8slearn",
    ]


def scheduler_args(d: Path, ports: dict) -> list[str]:
    """kube-scheduler's command line."""
    conf = d / "scheduler.conf"
    return [
        f"--authentication-kubeconfig={conf}",
        f"--authorization-kubeconfig={conf}",
        f"--kubeconfig={conf}",
        "--bind-address=127.0.0.1",
        f"--secure-port={ports['kube-scheduler']}",
        "--leader-elect=true",
    ]


def kwok_args(d: Path, ports: dict) -> list[str]:
    """kwok's command line."""
    return [
        f"--kubeconfig={d / 'kwok.conf'}",
        f"--config={d / 'kwok-stages.yaml'}",
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={KWOK_ANNOTATION}=fake",
        "--node-ip=127.0.0.1",
        f"--node-port={ports['kwok-node']}",
        "--cidr=10.244.0.0/24",
        "--node-lease-duration-seconds=40",
        f"--server-address=127.0.0.1:{ports['kwok']}",
    ]


# ------------------------------------------------------------------ processes


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is not alive
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def _ours(pid: int) -> bool:
    """Whether `pid` is a process this module started (its command line names our state folder)."""
    try:
        return str(state_dir()) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return _alive(pid)  # no /proc (macOS): trust the state file


def rss_bytes(pid: int) -> int | None:
    """A process's resident memory in bytes (None when it cannot be read)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError, subprocess.SubprocessError):  # macOS
        return int(subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True).stdout) * 1024
    return None


def _log_tail(path: Path, lines: int = 8) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    return "(no log)"


def _start(name: str, binary: Path, args: list[str], d: Path) -> int:
    log = d / "logs" / f"{name}.log"
    with open(log, "ab") as f:
        p = subprocess.Popen(
            [str(binary), *args],
            stdout=f,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=d,
        )
    return p.pid


def _stop_pid(pid: int, timeout: float = 15.0) -> None:
    if not _alive(pid) or not _ours(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


# ------------------------------------------------------------------ health


def _ssl_context(state: dict, who: str = "admin") -> ssl.SSLContext:
    pk = Path(state["dir"]) / "pki"
    ctx = ssl.create_default_context(cafile=str(pk / "ca.crt"))
    ctx.load_cert_chain(str(pk / f"{who}.crt"), str(pk / f"{who}.key"))
    return ctx


def api_get(state: dict, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET ``path`` from kube-apiserver as admin: (HTTP status, body)."""
    req = urllib.request.Request(state["api"] + path)
    try:
        with urllib.request.urlopen(req, context=_ssl_context(state), timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _wait(what: str, check, state: dict, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        pid = state["pids"].get(name)
        if pid and not _alive(pid):
            raise LocalClusterError(
                f"{name} exited while starting; the end of its log "
                f"({Path(state['dir']) / 'logs' / (name + '.log')}):\n"
                f"{_log_tail(Path(state['dir']) / 'logs' / (name + '.log'))}"
            )
        try:
            ok, last = check()
            if ok:
                return
        except Exception as e:  # noqa: BLE001 - not ready yet
            last = f"{type(e).__name__}: {e}"
        time.sleep(0.25)
    raise LocalClusterError(
        f"{what} was not ready after {timeout:.0f} s ({last}); see {Path(state['dir']) / 'logs' / (name + '.log')}"
    )


def _etcd_ready(state: dict):
    pk = Path(state["dir"]) / "pki" / "etcd"
    ctx = ssl.create_default_context(cafile=str(pk / "ca.crt"))
    ctx.load_cert_chain(str(pk / "healthcheck-client.crt"), str(pk / "healthcheck-client.key"))
    with urllib.request.urlopen(f"https://127.0.0.1:{state['ports']['etcd']}/health", context=ctx, timeout=3) as r:
        body = json.loads(r.read())
        return body.get("health") == "true", str(body)


def _readyz(state: dict):
    code, body = api_get(state, "/readyz")
    return code == 200, f"/readyz {code}"


def _node_ready(state: dict):
    code, body = api_get(state, f"/api/v1/nodes/{NODE}")
    if code != 200:
        return False, f"node {code}"
    conds = {c["type"]: c["status"] for c in json.loads(body).get("status", {}).get("conditions", [])}
    return conds.get("Ready") == "True", f"node conditions {conds}"


LEADER_LEASES = (
    "kube-system/kube-controller-manager",
    "kube-system/kube-scheduler",
)


def _lease_holder(state: dict, lease: str) -> str | None:
    ns, name = lease.split("/")
    code, body = api_get(state, f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}")
    return json.loads(body).get("spec", {}).get("holderIdentity") if code == 200 else None


def _new_holder(state: dict, lease: str, before: str | None):
    now = _lease_holder(state, lease)
    return now is not None and now != before, f"lease {lease} held by {now!r} (before the restart: {before!r})"


def _default_sa(state: dict):
    code, _ = api_get(state, "/api/v1/namespaces/default/serviceaccounts/default")
    return code == 200, f"default ServiceAccount {code}"


# ------------------------------------------------------------------ state


_NOT_RUNNING = "the local control plane is not running (start it with `k8slearn cluster up --runtime local`)"


def load_state() -> dict | None:
    """The recorded state of the local control plane, or None when there is none."""
    try:
        return json.loads(state_file().read_text())
    except (OSError, ValueError):
        return None


def require_state(state: dict | None = None) -> dict:
    """``state``, or the recorded one; LocalClusterError when the local control plane is not running."""
    state = state or load_state()
    if not state:
        raise LocalClusterError(_NOT_RUNNING)
    return state


def _save(state: dict) -> None:
    state_file().write_text(json.dumps(state, indent=1) + "\n")


def healthy(state: dict | None = None) -> tuple[bool, str]:
    """Whether the recorded control plane runs: every process alive and /readyz 200."""
    state = state or load_state()
    if not state:
        return False, _NOT_RUNNING
    dead = [n for n, pid in state["pids"].items() if not _alive(pid)]
    if dead:
        return False, f"the local control plane is stale: {', '.join(dead)} not running"
    try:
        ok, why = _readyz(state)
    except Exception as e:  # noqa: BLE001
        return False, f"kube-apiserver at {state['api']} does not answer ({type(e).__name__})"
    return ok, ("ready" if ok else why)


def _cleanup(state: dict | None) -> None:
    if state:
        for name in reversed(ORDER):
            if state["pids"].get(name):
                _stop_pid(state["pids"][name])
    kubeconfig.remove(CONTEXT)
    shutil.rmtree(state_dir(), ignore_errors=True)


# ------------------------------------------------------------------ up / down / status


def up(options: Options | None = None, log: Callable[[str], None] = _say, timeout: float = 120.0) -> dict:
    """Start the local control plane (or keep the running one); return its state."""
    opts = options or Options()
    state = load_state()
    if state:
        revived = _revive(state, log)
        ok, why = healthy(state)
        if ok and revived:
            log(f"restarted {', '.join(revived)}, which had exited (see their logs in {Path(state['dir']) / 'logs'})")
        if ok and state["options"] == asdict(opts):
            log(f"the local control plane is already running ({state['api']})")
            return state
        if ok:
            log("restarting kube-apiserver with the new options")
            return restart_apiserver(opts, log=log, timeout=timeout)
        log(f"cleaning up a stale local control plane ({why})")
        _cleanup(state)
    progs = {name: binaries.require(name) for name in (*ORDER, "kubectl")}
    if not binaries.kwok_stages_path().is_file():
        raise LocalClusterError("kwok's stage file is missing: run `k8slearn cluster build`")
    d = state_dir()
    shutil.rmtree(d, ignore_errors=True)
    (d / "logs").mkdir(parents=True)
    os.chmod(d, 0o700)
    t0 = time.monotonic()
    pki.generate(d / "pki")
    shutil.copyfile(binaries.kwok_stages_path(), d / "kwok-stages.yaml")  # the state folder is self-contained
    ports = {
        k: _free_port()
        for k in (
            "etcd",
            "etcd-peer",
            "etcd-metrics",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok",
            "kwok-node",
        )
    }
    api = f"https://127.0.0.1:{ports['kube-apiserver']}"
    for who, conf in (
        ("admin", "admin.conf"),
        ("controller-manager", "controller-manager.conf"),
        ("scheduler", "scheduler.conf"),
        ("kwok", "kwok.conf"),
    ):
        kubeconfig.write_file(
            d / conf, CONTEXT, api, d / "pki" / "ca.crt", d / "pki" / f"{who}.crt", d / "pki" / f"{who}.key"
        )
    state = {
        "dir": str(d),
        "api": api,
        "context": CONTEXT,
        "ports": ports,
        "pids": {},
        "options": asdict(opts),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "node": NODE,
        "binaries": {n: str(p) for n, p in progs.items()},
        "versions": {n: binaries.version_of(p, n) for n, p in progs.items()},
    }
    _save(state)
    try:
        log("starting etcd")
        state["pids"]["etcd"] = _start("etcd", progs["etcd"], etcd_args(d, ports), d)
        _save(state)
        _wait("etcd", lambda: _etcd_ready(state), state, "etcd", 30)
        log("starting kube-apiserver")
        state["pids"]["kube-apiserver"] = _start(
            "kube-apiserver", progs["kube-apiserver"], apiserver_args(d, ports, opts), d
        )
        _save(state)
        _wait("kube-apiserver", lambda: _readyz(state), state, "kube-apiserver", timeout)
        log("starting kube-controller-manager, kube-scheduler and kwok")
        state["pids"]["kube-controller-manager"] = _start(
            "kube-controller-manager", progs["kube-controller-manager"], controller_manager_args(d, ports), d
        )
        state["pids"]["kube-scheduler"] = _start("kube-scheduler", progs["kube-scheduler"], scheduler_args(d, ports), d)
        state["pids"]["kwok"] = _start("kwok", progs["kwok"], kwok_args(d, ports), d)
        _save(state)
        _create_node(state)
        _wait(f"the fake node {NODE}", lambda: _node_ready(state), state, "kwok", 60)
        _wait("the default ServiceAccount", lambda: _default_sa(state), state, "kube-controller-manager", 60)
        addons.install(d / "admin.conf", SERVICE_CIDR, log=log)
    except BaseException:
        _cleanup(state)
        raise
    state["up_seconds"] = round(time.monotonic() - t0, 1)
    _save(state)
    kubeconfig.merge(CONTEXT, api, d / "pki" / "ca.crt", d / "pki" / "admin.crt", d / "pki" / "admin.key")
    log(f"ready in {state['up_seconds']} s: kube context {CONTEXT} ({api})")
    return state


def _create_node(state: dict) -> None:
    """One fake Node for kwok to play the kubelet of (as kwok's documentation registers them)."""
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE,
            "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": NODE,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "spec": {},
    }
    req = urllib.request.Request(
        state["api"] + "/api/v1/nodes",
        data=json.dumps(node).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        urllib.request.urlopen(req, context=_ssl_context(state), timeout=10).read()
    except urllib.error.HTTPError as e:
        if e.code != 409:
            raise LocalClusterError(f"creating the fake node failed: HTTP {e.code} {e.read()[:300]!r}") from None


FOLLOWERS = ("kube-controller-manager", "kube-scheduler", "kwok")  # they need the apiserver to run


def _args_for(name: str, d: Path, ports: dict) -> list[str]:
    return {"kube-controller-manager": controller_manager_args, "kube-scheduler": scheduler_args, "kwok": kwok_args}[
        name
    ](d, ports)


def _revive(state: dict, log=_say) -> list[str]:
    """Start again the followers that exited while etcd and kube-apiserver still run.

    kube-controller-manager and kube-scheduler exit when they cannot renew their leader-election
    Lease (the apiserver was away longer than their renew deadline); on a kubeadm node the
    kubelet restarts their static Pods, here this does.
    """
    if not all(_alive(state["pids"].get(n, 0) or 0) for n in ("etcd", "kube-apiserver")):
        return []
    d, revived = Path(state["dir"]), []
    for name in FOLLOWERS:
        pid = state["pids"].get(name)
        if pid and not _alive(pid):
            state["pids"][name] = _start(name, Path(state["binaries"][name]), _args_for(name, d, state["ports"]), d)
            revived.append(name)
    if revived:
        _save(state)
    return revived


def restart_apiserver(options: Options, log: Callable[[str], None] = _say, timeout: float = 120.0) -> dict:
    """Restart kube-apiserver with other options (storage media type, encryption, gates).

    kube-controller-manager, kube-scheduler and kwok are restarted after it: while the apiserver
    is away they lose their leases and exit on their own, at a moment of their choosing.
    """
    state = load_state()
    ok, why = healthy(state)
    if not ok or state is None:
        raise LocalClusterError(why)
    d, ports = Path(state["dir"]), state["ports"]
    leaders = {lease: _lease_holder(state, lease) for lease in LEADER_LEASES}
    for name in (*reversed(FOLLOWERS), "kube-apiserver"):
        _stop_pid(state["pids"][name])
    state["options"] = asdict(options)
    state["pids"]["kube-apiserver"] = _start(
        "kube-apiserver", Path(state["binaries"]["kube-apiserver"]), apiserver_args(d, ports, options), d
    )
    _save(state)
    _wait("kube-apiserver", lambda: _readyz(state), state, "kube-apiserver", timeout)
    for name in FOLLOWERS:
        state["pids"][name] = _start(name, Path(state["binaries"][name]), _args_for(name, d, ports), d)
    _save(state)
    _wait(f"the fake node {NODE}", lambda: _node_ready(state), state, "kwok", 60)
    # the new kube-controller-manager and kube-scheduler act only once they hold their lease,
    # up to a lease duration (15 s) after the old holder stopped renewing it: until then a new
    # namespace gets no kube-root-ca.crt and a new Pod no node
    for lease, before in leaders.items():
        owner = lease.rsplit("/", 1)[-1]
        _wait(f"{owner} to take its lease", lambda ls=lease, b=before: _new_holder(state, ls, b), state, owner, 90)
    log(f"kube-apiserver restarted with {apiserver_args(d, ports, options)[-3:]}")
    return state


def down(log: Callable[[str], None] = _say) -> bool:
    """Stop the local control plane and remove its state; False when none was there."""
    state = load_state()
    if not state and not state_dir().exists():
        kubeconfig.remove(CONTEXT)
        return False
    _cleanup(state)
    log("the local control plane is stopped and removed")
    return True


def flags(state: dict | None = None) -> dict[str, list[str]]:
    """Each program's command line as it was started."""
    state = require_state(state)
    d, ports, opts = Path(state["dir"]), state["ports"], Options(**state["options"])
    return {
        "etcd": ["etcd", *etcd_args(d, ports)],
        "kube-apiserver": ["kube-apiserver", *apiserver_args(d, ports, opts)],
        "kube-controller-manager": ["kube-controller-manager", *controller_manager_args(d, ports)],
        "kube-scheduler": ["kube-scheduler", *scheduler_args(d, ports)],
        "kwok": ["kwok", *kwok_args(d, ports)],
    }


def status() -> dict:
    """What runs where, for `k8slearn cluster status`."""
    state = load_state()
    ok, why = healthy(state)
    if not state:
        return {"running": False, "why": why}
    pk = Path(state["dir"]) / "pki"
    procs = {
        n: {
            "pid": pid,
            "alive": _alive(pid),
            "rss_bytes": rss_bytes(pid) if _alive(pid) else None,
            "version": state["versions"].get(n),
            "log": str(Path(state["dir"]) / "logs" / f"{n}.log"),
        }
        for n, pid in state["pids"].items()
    }
    return {
        "running": ok,
        "why": why,
        "context": CONTEXT,
        "api": state["api"],
        "etcd": {
            "endpoint": f"https://127.0.0.1:{state['ports']['etcd']}",
            "cacert": str(pk / "etcd" / "ca.crt"),
            "cert": str(pk / "etcd" / "healthcheck-client.crt"),
            "key": str(pk / "etcd" / "healthcheck-client.key"),
        },
        "kubectl": state["binaries"].get("kubectl"),
        "etcdctl": str(binaries.require("etcdctl")),
        "options": state["options"],
        "processes": procs,
        "started": state["started"],
        "up_seconds": state.get("up_seconds"),
    }


def etcd_client(state: dict | None = None) -> Any:
    """A `pyetcd` client for the local control plane's etcd, with the healthcheck client certificate."""
    import pyetcd

    from k8slearn.cluster.etcd import GRPC_OPTIONS

    state = require_state(state)
    pk = Path(state["dir"]) / "pki" / "etcd"
    return pyetcd.client(
        host="127.0.0.1",
        port=state["ports"]["etcd"],
        ca_cert=str(pk / "ca.crt"),
        cert_cert=str(pk / "healthcheck-client.crt"),
        cert_key=str(pk / "healthcheck-client.key"),
        timeout=10,
        grpc_options=GRPC_OPTIONS,
    )


def describe_yaml() -> str:
    """status() as YAML, for the command line."""
    return yaml.safe_dump(status(), sort_keys=False)
