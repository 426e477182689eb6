"""The k8slearn command line: `k8slearn --help` (or `python -m k8slearn --help`)."""

from __future__ import annotations

import argparse
import sys

from .errors import K8sLearnError


def cmd_doctor(args) -> int:
    """Say what is installed, what is missing, and how to get it."""
    import platform

    from . import __version__, kind
    from .localetcd import HOW_TO_GET_ETCD, etcd_version, find_etcd

    ok = True
    print(f"k8slearn {__version__} on Python {platform.python_version()} ({platform.system()} {platform.machine()})")
    try:
        binary = find_etcd()
        print(f"  ok       etcd {etcd_version(binary)} ({binary})")
    except K8sLearnError:
        ok = False
        print(f"  MISSING  etcd: every mode needs it; {HOW_TO_GET_ETCD}")
    for tool, how in [("docker", "live mode only: https://docs.docker.com/get-docker/"),
                      ("kind", "live mode only: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"),
                      ("kubectl", "optional, for the kubectl cells in live mode: https://kubernetes.io/docs/tasks/tools/")]:
        v = kind.tool_version(tool)
        print(f"  {'ok' if v else 'absent':<8} {tool}: {v or how}")
    if kind.tool_version("docker") and not kind.docker_engine_running():
        print("  absent   docker engine: the docker client is installed but no engine answers (live mode needs one)")
    reachable, why = kind.answers()
    print(f"  {'ok' if reachable else 'absent':<8} curriculum cluster: {why}")
    try:
        from .lab import recordings

        recs = recordings()
        print(f"  {'ok' if recs else 'MISSING':<8} recordings: " +
              (", ".join(f"{n} ({p.get('provenance')})" for n, p in recs.items()) or "none; run `k8slearn record --construct`"))
        ok = ok and bool(recs)
    except K8sLearnError as e:
        print(f"  MISSING  recordings: {e}")
        ok = False
    print("Replay mode is ready." if ok else "Some parts are missing: see above.")
    return 0 if ok else 1


def cmd_cluster(args) -> int:
    from . import kind

    if args.action == "up":
        kind.up()
        print(f"cluster ready: kube context {kind.CONTEXT}")
    elif args.action == "down":
        kind.down()
    else:
        print(kind.CLUSTER_CONFIG, end="")
    return 0


def cmd_record(args) -> int:
    from . import record

    if args.construct:
        out = record.construct(args.notebooks or None)
    else:
        out = record.record_live(args.notebooks or None, args.name)
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="k8slearn", description="Helpers for the k8slearn curriculum.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    d = sub.add_parser("doctor", help="what is installed, what is missing and how to get it")
    d.set_defaults(func=cmd_doctor)
    c = sub.add_parser("cluster", help="create or delete the curriculum's Kind cluster (Docker + kind)")
    c.add_argument("action", choices=["up", "down", "config"])
    c.set_defaults(func=cmd_cluster)
    r = sub.add_parser("record", help="record the notebooks' data for replay mode")
    r.add_argument("notebooks", nargs="*", help="notebook names such as 02-resource-version (default: all)")
    r.add_argument("--construct", action="store_true",
                   help="no cluster: build the constructed recording with the stand-in and a local etcd")
    r.add_argument("--name", help="recording folder name (live recordings)")
    r.set_defaults(func=cmd_record)
    try:
        from .codec import cli as codec_cli

        codec_cli.register(sub)
    except ImportError:
        pass
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except K8sLearnError as e:
        print(f"k8slearn: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("k8slearn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
