"""`k8slearn doctor`: what is installed, what is missing, and how to get it."""

from __future__ import annotations

import argparse

from k8slearn.errors import K8sLearnError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``doctor`` verb to the command's subparsers."""
    d = sub.add_parser(
        "doctor",
        help="what is installed, what is missing and how to get it",
        description="Check Python, etcd, the local control plane's programs, Go, Docker and kind, "
        "which curriculum cluster answers, and the recordings; exit 1 if replay mode "
        "cannot run.",
    )
    d.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
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
        print(
            f"  {'ok' if prog else 'absent':<8} {name} {want}: "
            + (f"{prog.source} ({prog.path})" if prog else "live mode (local runtime): `k8slearn cluster build`")
        )
    try:
        print(f"  ok       go: {binaries.go_version()} (builds the local control plane)")
    except K8sLearnError as e:
        print(f"  absent   go: {e}")
    for tool, how in [
        ("docker", "Kind runtime only: https://docs.docker.com/get-docker/"),
        ("kind", "Kind runtime only: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"),
    ]:
        v = kind.tool_version(tool)
        print(f"  {'ok' if v else 'absent':<8} {tool}: {v or how}")
    if kind.tool_version("docker") and not kind.docker_engine_running():
        print(
            "  absent   docker engine: the docker client is installed but no engine answers "
            "(the Kind runtime needs one)"
        )
    ctx, why = live.answers()
    print(f"  {'ok' if ctx else 'absent':<8} curriculum cluster: {why}")
    try:
        from k8slearn.recording.layout import recordings

        recs = recordings()
        print(
            f"  {'ok' if recs else 'MISSING':<8} recordings: "
            + (", ".join(f"{n} ({p.get('provenance')})" for n, p in recs.items()) or "none; run `k8slearn record`")
        )
        ok = ok and bool(recs)
    except K8sLearnError as e:
        print(f"  MISSING  recordings: {e}")
        ok = False
    print("Replay mode is ready." if ok else "Some parts are missing: see above.")
    return 0 if ok else 1
