"""`k8slearn cluster`: build, start, stop and show the curriculum's cluster."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``cluster`` verb to the command's subparsers."""
    c = sub.add_parser(
        "cluster",
        help="build, start, stop or show the curriculum's cluster (local control plane or Kind)",
        description="build: compile the local control plane's programs from controlplane/ (Go). "
        "up/down: start or stop it (or, with --runtime kind, a Kind cluster). "
        "status: what runs where. config: the Kind cluster's config.",
    )
    c.add_argument("action", choices=["build", "up", "down", "status", "config"])
    c.add_argument(
        "--runtime",
        choices=["local", "kind"],
        default="local",
        help="local: real control plane processes on loopback (default); kind: Docker + kind",
    )
    c.add_argument(
        "--storage-media-type",
        choices=["application/vnd.kubernetes.protobuf", "application/json", "application/yaml"],
        help="up: kube-apiserver's --storage-media-type",
    )
    c.add_argument("--encryption-config", metavar="FILE", help="up: an EncryptionConfiguration for kube-apiserver")
    c.add_argument("--feature-gates", metavar="GATES", help="up: kube-apiserver feature gates, e.g. WatchList=false")
    c.add_argument("--force", action="store_true", help="build: rebuild even what is already built")
    c.add_argument("-o", "--output", choices=["text", "json"], default="text", help="status: output format")
    c.set_defaults(func=cmd_cluster)


def cmd_cluster(args: argparse.Namespace) -> int:
    """build | up | down | status | config, for the local control plane or the Kind cluster."""
    import json

    from k8slearn.cluster import binaries, kind, local

    if args.action == "build":
        t0 = __import__("time").monotonic()
        built = binaries.build(force=args.force)
        for name, prog in binaries.find_all().items():
            print(
                f"  {name:<24} "
                + (
                    f"{prog.version} ({prog.source}: {prog.path})"
                    if prog
                    else "MISSING after the build: see the logs in " + str(binaries.cache_dir() / "logs")
                )
            )
        if not built:
            print("everything was already built (or found); `--force` rebuilds")
        else:
            print(
                f"built in {(__import__('time').monotonic() - t0) / 60:.1f} min; cache: {binaries.cache_dir() / 'bin'}"
            )
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
        opts = local.Options(
            storage_media_type=args.storage_media_type or local.PROTOBUF_MEDIA,
            encryption_config=str(__import__("pathlib").Path(args.encryption_config).resolve())
            if args.encryption_config
            else None,
            feature_gates=args.feature_gates or "",
        )
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
        print(
            "the local control plane has no config file; `k8slearn cluster status` shows its command lines' "
            "results, `--runtime kind config` prints the Kind config"
        )
    return 0
