"""The curriculum's Kind cluster: its name, its config, and the guard around it.

Live mode talks only to the kube context `kind-k8slearn`, which `k8slearn cluster up`
creates. Any other context is refused unless the learner opts in for that one context by
setting K8SLEARN_ALLOW_CONTEXT=<context name>. Objects are created only in namespaces whose
names start with `k8slearn-`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import ClusterRefused, ClusterUnreachable, K8sLearnError

CLUSTER = "k8slearn"
CONTEXT = f"kind-{CLUSTER}"
NODE = f"{CLUSTER}-control-plane"
ETCD_HOST_PORT = 32379  # the node's etcd client port, published on the host's loopback only
NAMESPACE_PREFIX = "k8slearn-"

# kind's Cluster config: https://kind.sigs.k8s.io/docs/user/configuration/
CLUSTER_CONFIG = f"""\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: {CLUSTER}
nodes:
- role: control-plane
  extraPortMappings:
  # etcd's client port, so that notebooks can read what kube-apiserver stored
  - containerPort: 2379
    hostPort: {ETCD_HOST_PORT}
    listenAddress: "127.0.0.1"
"""


def allowed_context() -> str:
    """The context live mode may use: kind-k8slearn, or the one the learner opted into."""
    return os.environ.get("K8SLEARN_ALLOW_CONTEXT") or CONTEXT


def guard_context(context: str) -> str:
    if context != allowed_context():
        raise ClusterRefused(
            f"refusing kube context {context!r}: k8slearn works only on its own Kind cluster "
            f"({CONTEXT!r}, made by `k8slearn cluster up`). To use another cluster on purpose, set "
            f"K8SLEARN_ALLOW_CONTEXT={context} (objects go only into {NAMESPACE_PREFIX}* namespaces)."
        )
    return context


def guard_namespace(namespace: str) -> str:
    if not namespace.startswith(NAMESPACE_PREFIX):
        raise ClusterRefused(f"namespace {namespace!r}: the curriculum writes only to namespaces named {NAMESPACE_PREFIX}*")
    return namespace


def kubeconfig_path() -> str:
    """$KUBECONFIG (read now: the client library reads it once, at import) or ~/.kube/config."""
    return os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


def contexts() -> list[str]:
    """Context names in the learner's kubeconfig ([] when there is none)."""
    try:
        from kubernetes import config

        ctxs, _active = config.list_kube_config_contexts(config_file=kubeconfig_path())
        return [c["name"] for c in ctxs]
    except Exception:
        return []


def api_client(context: str | None = None):
    """An official ApiClient for the curriculum cluster (after the guard)."""
    from kubernetes import config

    context = guard_context(context or allowed_context())
    if context not in contexts():
        raise ClusterUnreachable(f"kube context {context!r} is not in your kubeconfig; create the cluster "
                                 "with `k8slearn cluster up` (needs Docker and kind), or use mode='replay'")
    return config.new_client_from_config(config_file=kubeconfig_path(), context=context)


def answers(timeout: float = 2.0) -> tuple[bool, str]:
    """Whether the curriculum cluster answers /version, and why not."""
    ctx = allowed_context()
    if ctx not in contexts():
        return False, f"no kube context {ctx!r} in your kubeconfig"
    try:
        from kubernetes import client

        api = api_client(ctx)
        v = client.VersionApi(api).get_code(_request_timeout=timeout)
        return True, f"context {ctx!r} answered (Kubernetes {v.git_version})"
    except K8sLearnError as e:
        return False, str(e)
    except Exception as e:  # noqa: BLE001 - any failure means "not reachable"
        return False, f"context {ctx!r} did not answer: {type(e).__name__}"


def tool_version(tool: str) -> str | None:
    """`tool --version` (or its equivalent) first line, None when the tool is absent."""
    exe = shutil.which(tool)
    if not exe:
        return None
    args = {"kubectl": ["version", "--client"], "kind": ["version"], "docker": ["--version"]}.get(tool, ["--version"])
    try:
        out = subprocess.run([exe, *args], capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else exe
    except (OSError, subprocess.TimeoutExpired):
        return exe


def docker_engine_running() -> bool:
    """Whether a Docker engine answers `docker info` (the client alone is not enough for kind)."""
    exe = shutil.which("docker")
    if not exe:
        return False
    try:
        return subprocess.run([exe, "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _need(tool: str, how: str):
    if not shutil.which(tool):
        raise K8sLearnError(f"`{tool}` is not installed; {how}")


def up() -> None:
    """Create the curriculum cluster (needs Docker and kind)."""
    _need("docker", "install Docker (https://docs.docker.com/get-docker/) and start it")
    _need("kind", "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)")
    out = subprocess.run(["kind", "get", "clusters"], capture_output=True, text=True)
    if CLUSTER in out.stdout.split():
        return
    subprocess.run(["kind", "create", "cluster", "--config", "-"], input=CLUSTER_CONFIG, text=True, check=True)


def down() -> None:
    """Delete the curriculum cluster."""
    _need("kind", "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)")
    subprocess.run(["kind", "delete", "cluster", "--name", CLUSTER], check=True)


def etcd_client():
    """A read-capable etcd client for the Kind node's etcd, with certificates copied out.

    The certificates stay in a private temporary folder removed at exit; they are never
    printed or recorded. (Unverified on the project's machines, which cannot run Docker.)
    """
    _need("docker", "live etcd access copies the client certificates out of the Kind node with docker")
    tmp = Path(tempfile.mkdtemp(prefix="k8slearn-pki-"))
    os.chmod(tmp, 0o700)
    atexit.register(shutil.rmtree, tmp, True)
    for name in ("ca.crt", "healthcheck-client.crt", "healthcheck-client.key"):
        subprocess.run(["docker", "cp", f"{NODE}:/etc/kubernetes/pki/etcd/{name}", str(tmp / name)],
                       check=True, capture_output=True)
        os.chmod(tmp / name, 0o600)
    import pyetcd

    return pyetcd.client(host="127.0.0.1", port=ETCD_HOST_PORT, ca_cert=str(tmp / "ca.crt"),
                         cert_cert=str(tmp / "healthcheck-client.crt"),
                         cert_key=str(tmp / "healthcheck-client.key"), timeout=10)


def apiserver_flags(api) -> list[str]:
    """kube-apiserver's command line, from its static pod in kube-system."""
    from kubernetes import client

    pod = client.CoreV1Api(api).read_namespaced_pod(f"kube-apiserver-{NODE}", "kube-system")
    c = pod.spec.containers[0]
    return list(c.command or []) + list(c.args or [])
