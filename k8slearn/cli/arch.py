"""`k8slearn arch`: the control plane's programs for other CPU architectures (notebook 06)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``arch`` verb to the command's subparsers."""
    a = sub.add_parser(
        "arch",
        help="cross-build kube-apiserver and etcd for other CPU architectures, inspect and run them under qemu-user",
        description="build: cross-build the pinned programs for linux/ARCH with Go (default: riscv64 loong64), "
        "kept in the cache beside the native build. inspect: their ELF headers. "
        "run: run one under qemu-user (`k8slearn arch run riscv64 kube-apiserver -- --version`). "
        "platforms: read the platform lists of Kubernetes releases from the Go module proxy.",
    )
    a.add_argument("action", choices=["build", "inspect", "run", "platforms"])
    a.add_argument("args", nargs="*", help="build/inspect: architectures; run: ARCH PROGRAM [ARGS...]; platforms: tags")
    a.add_argument(
        "--programs", default="kube-apiserver,etcd", help="build/inspect: comma-separated (default kube-apiserver,etcd)"
    )
    a.add_argument("--force", action="store_true", help="build: build again even what is built")
    a.set_defaults(func=cmd_arch)


def cmd_arch(args: argparse.Namespace) -> int:
    """build | inspect | run | platforms."""
    import json

    from k8slearn.cluster import crossbuild, platforms

    programs = [p for p in args.programs.split(",") if p]
    if args.action == "build":
        for arch in args.args or crossbuild.DEFAULT_ARCHES:
            for group, info in crossbuild.build(arch, programs, force=args.force).items():
                sizes = ", ".join(f"{n} {v['size'] / 1e6:.0f} MB" for n, v in info["programs"].items())
                print(
                    f"linux/{arch} {group}: {sizes}; first build {info['seconds'] / 60:.1f} min "
                    f"({info['packages_compiled']} of {info['packages_total']} packages compiled, "
                    f"load {info['machine_before']['load_avg']} on {info['machine_before']['cores']} cores)"
                )
        return 0
    if args.action == "inspect":
        for arch in args.args or crossbuild.DEFAULT_ARCHES:
            for p in programs:
                e = crossbuild.elf_facts(crossbuild.program_path(arch, p))
                print(
                    f"linux/{arch} {p}: {e['machine']} ({e['machine_description']}), {e['class']}, {e['data']}, "
                    f"flags {e['flags']}, {'static' if e['static'] else 'dynamic'}, {e['size'] / 1e6:.1f} MB"
                )
        return 0
    if args.action == "run":
        if len(args.args) < 2:
            raise crossbuild.K8sLearnError("usage: k8slearn arch run ARCH PROGRAM [-- ARGS...]")
        arch, program, *rest = args.args
        r = crossbuild.run_emulated(arch, program, rest or ["--version"])
        print(r["emulated"]["output"])
        print(
            f"{r['qemu']}: exit {r['emulated']['returncode']}, median {r['emulated']['median']:.3f} s; "
            f"native {r['native_arch']}: {r['native']['median']:.3f} s ({r['slowdown']}x)"
        )
        return r["emulated"]["returncode"]
    print(json.dumps(platforms.extract(args.args or ["v1.37.2"]), indent=1))
    return 0
