"""The k8slearn command line: `k8slearn --help` (or `python -m k8slearn --help`)."""

from __future__ import annotations

import argparse
import sys

from k8slearn.errors import K8sLearnError


def cmd_doctor(args) -> int:
    """Say what is installed, what is missing, and how to get it."""
    import platform

    from k8slearn import __version__

    from k8slearn.cluster import kind
    from k8slearn.cluster.localetcd import HOW_TO_GET_ETCD, etcd_version, find_etcd

    ok = True
    print(f"k8slearn {__version__} on Python {platform.python_version()} ({platform.system()} {platform.machine()})")
    try:
        binary = find_etcd()
        print(f"  ok       etcd {etcd_version(binary)} ({binary})")
    except K8sLearnError:
        ok = False
        print(f"  MISSING  etcd: every mode needs it; {HOW_TO_GET_ETCD}")
    from k8slearn.cluster import binaries, live

    for name, prog in binaries.find_all().items():
        want = binaries.pinned(binaries.PROGRAMS[name])
        print(f"  {'ok' if prog else 'absent':<8} {name} {want}: " +
              (f"{prog.source} ({prog.path})" if prog else "live mode (local runtime): `k8slearn cluster build`"))
    try:
        print(f"  ok       go: {binaries.go_version()} (builds the local control plane)")
    except K8sLearnError as e:
        print(f"  absent   go: {e}")
    for tool, how in [("docker", "Kind runtime only: https://docs.docker.com/get-docker/"),
                      ("kind", "Kind runtime only: https://kind.sigs.k8s.io/docs/user/quick-start/#installation")]:
        v = kind.tool_version(tool)
        print(f"  {'ok' if v else 'absent':<8} {tool}: {v or how}")
    if kind.tool_version("docker") and not kind.docker_engine_running():
        print("  absent   docker engine: the docker client is installed but no engine answers (the Kind runtime needs one)")
    ctx, why = live.answers()
    print(f"  {'ok' if ctx else 'absent':<8} curriculum cluster: {why}")
    try:
        from k8slearn.recording.layout import recordings

        recs = recordings()
        print(f"  {'ok' if recs else 'MISSING':<8} recordings: " +
              (", ".join(f"{n} ({p.get('provenance')})" for n, p in recs.items()) or "none; run `k8slearn record`"))
        ok = ok and bool(recs)
    except K8sLearnError as e:
        print(f"  MISSING  recordings: {e}")
        ok = False
    print("Replay mode is ready." if ok else "Some parts are missing: see above.")
    return 0 if ok else 1


def cmd_cluster(args) -> int:
    """build | up | down | status | config, for the local control plane or the Kind cluster."""
    import json

    from k8slearn.cluster import kind
    from k8slearn.cluster import binaries, local

    if args.action == "build":
        t0 = __import__("time").monotonic()
        built = binaries.build(force=args.force)
        for name, prog in binaries.find_all().items():
            print(f"  {name:<24} " + (f"{prog.version} ({prog.source}: {prog.path})" if prog else
                                      "MISSING after the build: see the logs in " + str(binaries.cache_dir() / "logs")))
        if not built:
            print("everything was already built (or found); `--force` rebuilds")
        else:
            print(f"built in {(__import__('time').monotonic() - t0) / 60:.1f} min; cache: {binaries.cache_dir() / 'bin'}")
        return 0
    if args.runtime == "kind":
        if args.action == "up":
            kind.up()
            print(f"cluster ready: kube context {kind.CONTEXT}")
        elif args.action == "down":
            kind.down()
        elif args.action == "config":
            print(kind.CLUSTER_CONFIG, end="")
        else:
            from k8slearn.cluster import live

            ctx, why = live.answers()
            print(why)
            return 0 if ctx == kind.CONTEXT else 1
        return 0
    if args.action == "up":
        opts = local.Options(storage_media_type=args.storage_media_type or local.PROTOBUF_MEDIA,
                             encryption_config=str(__import__("pathlib").Path(args.encryption_config).resolve())
                             if args.encryption_config else None,
                             feature_gates=args.feature_gates or "")
        local.up(opts)
    elif args.action == "down":
        if not local.down():
            print("no local control plane was running")
    elif args.action == "status":
        st = local.status()
        if args.output == "json":
            print(json.dumps(st, indent=1))
        elif not st.get("context"):
            print(st["why"])
        else:
            print(f"{'running' if st['running'] else 'NOT RUNNING'}: {st['why']}")
            print(f"  api        {st['api']} (kube context {st['context']})")
            print(f"  etcd       {st['etcd']['endpoint']}")
            print(f"  certs      --cacert {st['etcd']['cacert']} --cert {st['etcd']['cert']} --key {st['etcd']['key']}")
            for n, p in st["processes"].items():
                rss = f"{p['rss_bytes'] / 2**20:.0f} MiB" if p["rss_bytes"] else "-"
                print(f"  {n:<24} pid {p['pid']:<8} {'alive' if p['alive'] else 'DEAD':<6} {rss:>8}  {p['version']}")
        return 0 if st["running"] else 1
    else:
        print("the local control plane has no config file; `k8slearn cluster status` shows its command lines' "
              "results, `--runtime kind config` prints the Kind config")
    return 0


def cmd_record(args) -> int:
    from k8slearn.recording import record

    out = record.record_live(args.notebooks or None, args.name)
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from k8slearn import __version__

    p = argparse.ArgumentParser(prog="k8slearn", description="Helpers for the k8slearn curriculum.")
    p.add_argument("--version", action="version", version=f"k8slearn {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    d = sub.add_parser("doctor", help="what is installed, what is missing and how to get it")
    d.set_defaults(func=cmd_doctor)
    c = sub.add_parser("cluster", help="build, start, stop or show the curriculum's cluster (local control plane or Kind)")
    c.add_argument("action", choices=["build", "up", "down", "status", "config"])
    c.add_argument("--runtime", choices=["local", "kind"], default="local",
                   help="local: real control plane processes on loopback (default); kind: Docker + kind")
    c.add_argument("--storage-media-type", choices=["application/vnd.kubernetes.protobuf", "application/json",
                                                    "application/yaml"], help="up: kube-apiserver's --storage-media-type")
    c.add_argument("--encryption-config", metavar="FILE", help="up: an EncryptionConfiguration for kube-apiserver")
    c.add_argument("--feature-gates", metavar="GATES", help="up: kube-apiserver feature gates, e.g. WatchList=false")
    c.add_argument("--force", action="store_true", help="build: rebuild even what is already built")
    c.add_argument("-o", "--output", choices=["text", "json"], default="text", help="status: output format")
    c.set_defaults(func=cmd_cluster)
    r = sub.add_parser("record", help="run the notebooks live and record what the cluster answered, for replay mode")
    r.add_argument("notebooks", nargs="*", help="notebook names such as 02-resource-version (default: all)")
    r.add_argument("--name", help="recording folder name (default: <runtime>-<Kubernetes version>)")
    r.set_defaults(func=cmd_record)
    from k8slearn.cli import codec as codec_cli

    codec_cli.register(sub)
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
