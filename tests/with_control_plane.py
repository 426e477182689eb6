"""Run a command (the test suite) with the suite's own local control plane running, then stop it.

    python tests/with_control_plane.py pytest ...

The control plane gets its own state folder (build/control-plane) and kubeconfig
(build/kubeconfig), so a learner's own `k8slearn cluster up` and ~/.kube/config are never
touched. When its programs are not built, the command runs without it and the live tests
skip, saying why — unless K8SLEARN_REQUIRE_LIVE=1 (set by CI), which makes that an error.
The control plane is stopped whatever happens, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"


def main(argv: list[str]) -> int:
    os.environ["K8SLEARN_STATE_DIR"] = str(BUILD / "control-plane")
    os.environ["KUBECONFIG"] = str(BUILD / "kubeconfig")
    for var in ("K8SLEARN_ALLOW_CONTEXT", "K8SLEARN_MODE"):
        os.environ.pop(var, None)
    from k8slearn.cluster import binaries, crossbuild, local
    from k8slearn.errors import K8sLearnError

    # notebook 06's cross-built programs stay reachable when conftest isolates K8SLEARN_CACHE
    os.environ.setdefault("K8SLEARN_CROSS_DIR", str(crossbuild.cross_root()))
    required = os.environ.get("K8SLEARN_REQUIRE_LIVE") == "1"
    missing = [n for n in local.ORDER if binaries.find(n) is None]
    started = False
    if missing:
        why = (
            f"the local control plane is not built ({', '.join(missing)} missing): "
            "run `make cluster` to run the notebooks live too"
        )
        if required:
            print(f"with_control_plane: {why}, and K8SLEARN_REQUIRE_LIVE=1", file=sys.stderr)
            return 1
        print(f"with_control_plane: {why}; live tests will skip", file=sys.stderr)
        os.environ["K8SLEARN_LIVE_SKIP"] = why
    else:
        # the programs in one folder, for tests that isolate the cache (conftest)
        bin_dir = BUILD / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        for name in (*local.ORDER, "kubectl", "etcdctl", "etcdutl"):
            link = bin_dir / name
            link.unlink(missing_ok=True)
            link.symlink_to(binaries.find(name).path)
        os.environ["K8SLEARN_BIN_DIR"] = str(bin_dir)
        # a control plane left by a killed run would carry its objects into this one: start afresh
        local.down(log=lambda m: print(f"with_control_plane: {m} (left by an earlier run)", file=sys.stderr))
        try:
            st = local.up(log=lambda m: print(f"with_control_plane: {m}", file=sys.stderr))
        except K8sLearnError as e:
            print(f"with_control_plane: the local control plane did not start: {e}", file=sys.stderr)
            local.down(log=lambda m: None)
            return 1
        started = True
        os.environ["K8SLEARN_LIVE"] = st["api"]

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    try:
        return subprocess.call(argv)
    except KeyboardInterrupt:
        return 130
    finally:
        if started:
            local.down(log=lambda m: print(f"with_control_plane: {m}", file=sys.stderr))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
