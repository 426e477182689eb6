"""`k8slearn record`: run the notebooks live and record what the cluster answered."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``record`` verb to the command's subparsers."""
    r = sub.add_parser(
        "record",
        help="run the notebooks live and record what the cluster answered, for replay mode",
        description="Run each notebook against the curriculum cluster that answers now (the local "
        "control plane, or Kind) and write data/recordings/<name>/ for replay mode.",
    )
    r.add_argument("notebooks", nargs="*", help="notebook names such as 02-resource-version (default: all)")
    r.add_argument("--name", help="recording folder name (default: <runtime>-<Kubernetes version>)")
    r.set_defaults(func=cmd_record)


def cmd_record(args: argparse.Namespace) -> int:
    """``k8slearn record``: record the notebooks against the cluster that answers."""
    from k8slearn.recording import record

    out = record.record_live(args.notebooks or None, args.name)
    print(f"wrote {out}")
    return 0
