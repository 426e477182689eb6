"""A throw-away local control plane for a benchmark: its own state folder and kubeconfig.

Used by bench_watchlist.py and bench_control_plane.py, so a benchmark never touches the
control plane a learner (or the test suite) has running, and leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def own_control_plane(bench: str) -> Iterator[tuple[dict, Path]]:
    """Start a fresh local control plane in a temporary folder; yield (its state, the folder).

    The environment points k8slearn at that folder (K8SLEARN_STATE_DIR, KUBECONFIG) before
    k8slearn is imported. With programs not built, prints one line and exits with 1.
    The control plane is stopped and the folder removed on the way out, error or not.
    """
    tmp = Path(tempfile.mkdtemp(prefix="k8slearn-bench-"))
    os.environ["K8SLEARN_STATE_DIR"] = str(tmp / "state")
    os.environ["KUBECONFIG"] = str(tmp / "kubeconfig")
    os.environ.pop("K8SLEARN_ALLOW_CONTEXT", None)
    from k8slearn.cluster import binaries, local

    try:
        missing = [n for n in local.ORDER if binaries.find(n) is None]
        if missing:
            print(f"{bench}: not built ({', '.join(missing)}): run `make cluster` first", file=sys.stderr)
            raise SystemExit(1)
        try:
            yield local.up(log=lambda m: None), tmp
        finally:
            local.down(log=lambda m: None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
