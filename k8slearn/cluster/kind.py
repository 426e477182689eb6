"""The curriculum's Kind cluster (Docker + kind): its name, its config, and reading its etcd.

`k8slearn cluster up --runtime kind` creates it (kube context `kind-k8slearn`); the guard
that keeps live mode on the curriculum's own clusters is in `k8slearn.cluster.live`.
The Kind cluster uses the same Kubernetes release as the local control plane
(`kindest/node` image of the version pinned in controlplane/kubernetes/go.mod).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8slearn.errors import K8sLearnError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

CLUSTER = "k8slearn"
CONTEXT = f"kind-{CLUSTER}"  # = cluster.live.KIND_CONTEXT
NODE = f"{CLUSTER}-control-plane"
ETCD_HOST_PORT = 32379  # the node's etcd client port, published on the host's loopback only

# The node image of the same minor release as the local control plane: kind v0.33.0's release
# notes list kindest/node:v1.37.0 as its default image (kind publishes node images per kind
# release, so a v1.37.2 image may not exist). Unverified here: no Docker on the project's machines.
NODE_IMAGE = "kindest/node:v1.37.0"

# kind's Cluster config: https://kind.sigs.k8s.io/docs/user/configuration/
CLUSTER_CONFIG = f"""\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: {CLUSTER}
nodes:
- role: control-plane
  image: {NODE_IMAGE}
  extraPortMappings:
  # etcd's client port, so that notebooks can read what kube-apiserver stored
  - containerPort: 2379
    hostPort: {ETCD_HOST_PORT}
    listenAddress: "127.0.0.1"
"""


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


def _need_engine() -> None:
    _need("docker", "install Docker (https://docs.docker.com/get-docker/) and start it")
    if not docker_engine_running():
        raise K8sLearnError(
            "the docker client is installed but no Docker engine answers `docker info`: start "
            "Docker, or use the local control plane (`k8slearn cluster up --runtime local`)"
        )


def _run(cmd: list[str], what: str, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        last = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise K8sLearnError(f"{what} failed ({' '.join(cmd[:3])} exited {out.returncode}): {last[0]}")
    return out


def up() -> None:
    """Create the curriculum cluster (needs Docker and kind)."""
    _need_engine()
    _need("kind", "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)")
    out = _run(["kind", "get", "clusters"], "listing kind clusters")
    if CLUSTER in out.stdout.split():
        return
    _run(["kind", "create", "cluster", "--config", "-"], "creating the Kind cluster", input=CLUSTER_CONFIG)


def down() -> None:
    """Delete the curriculum cluster."""
    _need("kind", "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)")
    _run(["kind", "delete", "cluster", "--name", CLUSTER], "deleting the Kind cluster")


def etcd_client() -> Any:
    """A read-capable etcd client for the Kind node's etcd, with certificates copied out.

    The certificates stay in a private temporary folder removed at exit; they are never
    printed or recorded. (Unverified on the project's machines, which cannot run Docker.)
    """
    _need_engine()
    tmp = Path(tempfile.mkdtemp(prefix="k8slearn-pki-"))
    os.chmod(tmp, 0o700)
    atexit.register(shutil.rmtree, tmp, True)
    for name in ("ca.crt", "healthcheck-client.crt", "healthcheck-client.key"):
        _run(
            ["docker", "cp", f"{NODE}:/etc/kubernetes/pki/etcd/{name}", str(tmp / name)],
            "copying etcd's client certificate out of the Kind node",
        )
        os.chmod(tmp / name, 0o600)
    import pyetcd

    from k8slearn.cluster.etcd import GRPC_OPTIONS

    return pyetcd.client(
        host="127.0.0.1",
        port=ETCD_HOST_PORT,
        ca_cert=str(tmp / "ca.crt"),
        cert_cert=str(tmp / "healthcheck-client.crt"),
        cert_key=str(tmp / "healthcheck-client.key"),
        timeout=10,
        grpc_options=GRPC_OPTIONS,
    )


def apiserver_flags(api: ApiClient) -> list[str]:
    """kube-apiserver's command line, from its static pod in kube-system."""
    from kubernetes import client

    pod = client.CoreV1Api(api).read_namespaced_pod(f"kube-apiserver-{NODE}", "kube-system")
    if pod.spec is None:
        raise K8sLearnError(f"the kube-apiserver-{NODE} pod came back without a spec")
    c = pod.spec.containers[0]
    return list(c.command or []) + list(c.args or [])
