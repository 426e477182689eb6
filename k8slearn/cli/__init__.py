"""The k8slearn command line: `k8slearn --help` (or `python -m k8slearn --help`).

One parser; one module per verb (doctor, cluster, record, decode/encode/schema), each with a
`register(subparsers)`. One error rule: an error k8slearn raises on purpose is printed as
`k8slearn: <message>` (and its hint, when it has one) and the exit code is 1; nothing else
is printed, no traceback.
"""

from __future__ import annotations

import argparse
import sys

from k8slearn.errors import K8sLearnError


def build_parser() -> argparse.ArgumentParser:
    """The ``k8slearn`` argument parser: one subcommand per verb module."""
    from k8slearn import __version__
    from k8slearn.cli import arch, cluster, decode, doctor, encode, record, schema, snapshot

    p = argparse.ArgumentParser(
        prog="k8slearn", description="Helpers for the k8slearn curriculum: how Kubernetes works inside."
    )
    p.add_argument("--version", action="version", version=f"k8slearn {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for verb in (doctor, cluster, record, decode, encode, schema, snapshot, arch):
        verb.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the ``k8slearn`` command line; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except K8sLearnError as e:
        print(f"k8slearn: {e}", file=sys.stderr)
        if e.hint:
            print(f"  hint: {e.hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("k8slearn: interrupted", file=sys.stderr)
        return 130
