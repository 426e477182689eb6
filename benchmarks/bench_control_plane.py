"""The local control plane's cost on this machine: time from `up` to ready, and memory (RSS).

    python benchmarks/bench_control_plane.py [--settle 20] [--no-notebooks]

Starts a control plane of its own (a temporary state folder and kubeconfig, so a running
`k8slearn cluster up` is not touched), measures `up` to ready with the programs already
built (warm), each process's RSS once idle, then again after every notebook has run live
against it, and stops it. Goal from the curriculum's design: the whole control plane within
1 GiB, so one fits in a learner's JupyterHub pod. Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1 << 30


def rss_table(local, state) -> dict[str, int]:
    return {name: local.rss_bytes(pid) or 0 for name, pid in state["pids"].items()}


def show(title: str, rss: dict[str, int]) -> None:
    print(f"\n{title}")
    for name, b in rss.items():
        print(f"  {name:<26} {b / 2**20:8.0f} MiB")
    total = sum(rss.values())
    print(f"  {'total':<26} {total / 2**20:8.0f} MiB  ({'within' if total <= GOAL else 'OVER'} the 1 GiB goal)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settle", type=float, default=20.0, help="seconds to wait before the idle reading")
    ap.add_argument("--no-notebooks", action="store_true", help="skip running the notebooks live")
    args = ap.parse_args()
    from own_control_plane import own_control_plane

    from k8slearn.errors import K8sLearnError

    try:
        t0 = time.monotonic()
        with own_control_plane("bench_control_plane") as (state, tmp):
            up_seconds = time.monotonic() - t0
            from k8slearn.cluster import binaries, local

            print(
                f"machine: {os.cpu_count()} cores; programs: "
                + ", ".join(f"{k} {v}" for k, v in binaries.versions().items())
            )
            print(f"`up` to ready (warm: programs built, new certificates, empty etcd): {up_seconds:.1f} s")
            time.sleep(args.settle)
            show(f"RSS idle ({args.settle:.0f} s after ready):", rss_table(local, state))
            if not args.no_notebooks:
                import papermill as pm

                names = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
                t1 = time.monotonic()
                for name in names:
                    pm.execute_notebook(
                        str(ROOT / "notebooks" / f"{name}.ipynb"),
                        str(tmp / f"{name}.ipynb"),
                        parameters={"mode": "live"},
                        cwd=str(ROOT / "notebooks"),
                        progress_bar=False,
                        kernel_name="python3",
                        execution_timeout=300,
                    )
                print(f"\nran {len(names)} notebooks live in {time.monotonic() - t1:.0f} s")
                show("RSS after the notebooks:", rss_table(local, state))
    except K8sLearnError as e:
        print(f"bench_control_plane: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
