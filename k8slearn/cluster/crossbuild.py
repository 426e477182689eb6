"""The control plane's programs built for other CPU architectures, read, and run under emulation.

    build("riscv64")                      kube-apiserver and etcd for linux/riscv64, into the cache
    elf_facts(path)                       what a program's ELF header says (pyelftools)
    run_emulated("riscv64", "etcd")       `etcd --version` under qemu-user, timed beside the native run

The recipe is the native one (`binaries.py`: the same Go modules under controlplane/, the same
`-trimpath` and `-ldflags` version stamps, CGO_ENABLED=0) with GOOS=linux and GOARCH set, so the
module cache that `k8slearn cluster build` filled is reused and nothing new is downloaded. Each
architecture's programs go to ``<cache>/bin/cross/<group>-<version>-linux-<arch>/`` with a
build.json (seconds, how many packages were compiled, the machine and its load average), so a
second `build()` returns at once; `rebuild()` builds again into a throw-away folder to time a
build whose packages all come from Go's build cache, and checks the result is byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from k8slearn.cluster import binaries
from k8slearn.errors import K8sLearnError


@dataclass(frozen=True)
class Arch:
    goarch: str  # Go's name (GOARCH)
    qemu: str  # qemu-user's program suffix: qemu-<qemu>
    elf_machine: str  # e_machine as pyelftools names it
    debian: str  # Debian's architecture name


# Kubernetes' release platforms (hack/lib/golang.sh at v1.37.2) and the two the seed asks about.
ARCHES = {
    a.goarch: a
    for a in (
        Arch("amd64", "x86_64", "EM_X86_64", "amd64"),
        Arch("arm64", "aarch64", "EM_AARCH64", "arm64"),
        Arch("ppc64le", "ppc64le", "EM_PPC64", "ppc64el"),
        Arch("s390x", "s390x", "EM_S390", "s390x"),
        Arch("riscv64", "riscv64", "EM_RISCV", "riscv64"),
        Arch("loong64", "loongarch64", "EM_LOONGARCH", "loong64"),
    )
}
DEFAULT_ARCHES = ("riscv64", "loong64")
PROGRAMS = ("kube-apiserver", "etcd")


class UnknownArch(K8sLearnError):
    """An architecture this module has no table row for."""


class QemuMissing(K8sLearnError):
    """qemu-user (the emulator for one architecture) is not installed."""


def arch(goarch: str) -> Arch:
    """The table row of ``goarch``; UnknownArch for anything else."""
    if goarch not in ARCHES:
        raise UnknownArch(f"unknown architecture {goarch!r}: use one of {', '.join(ARCHES)} (Go's GOARCH names)")
    return ARCHES[goarch]


def native() -> str:
    """This machine's GOARCH name (amd64 on x86_64)."""
    m = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "loongarch64": "loong64", "ppc64le": "ppc64le"}.get(m, m)


def cross_root() -> Path:
    """$K8SLEARN_CROSS_DIR, else <cache>/bin/cross (the test suite points the first at the real cache)."""
    env = os.environ.get("K8SLEARN_CROSS_DIR")
    return Path(env) if env else binaries.cache_dir() / "bin" / "cross"


def target_dir(group: binaries.Group, goarch: str) -> Path:
    """Where ``group``'s programs for linux/``goarch`` are kept."""
    return cross_root() / f"{group.module_dir}-{binaries.pinned(group)}-linux-{goarch}"


def machine() -> dict:
    """What a time was measured on: CPU model, cores, load average, Go."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "uarch", "cpu model")):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {"cpu": model or platform.processor() or platform.machine(), "cores": os.cpu_count(), "load_avg": load}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _groups(programs: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in programs:
        if p not in binaries.PROGRAMS:
            raise K8sLearnError(f"unknown program {p!r}: one of {', '.join(binaries.PROGRAMS)}")
        out.setdefault(binaries.PROGRAMS[p].module_dir, []).append(p)
    return out


def _group(module_dir: str) -> binaries.Group:
    return next(g for g in binaries.GROUPS if g.module_dir == module_dir)


def _env(goarch: str, gocache: str | None = None) -> dict[str, str]:
    env = binaries.go_env()
    env.update({"GOOS": "linux", "GOARCH": goarch})
    if gocache:
        env["GOCACHE"] = gocache
    return env


def packages_total(group: binaries.Group, programs: list[str], goarch: str) -> int:
    """How many packages (standard library included) the programs are built from for ``goarch``."""
    out = subprocess.run(
        [binaries.go_binary(), "list", "-deps", *[group.programs[p] for p in programs]],
        cwd=binaries.MODULES / group.module_dir,
        capture_output=True,
        text=True,
        env=_env(goarch),
    )
    if out.returncode != 0:
        raise binaries.BuildFailed(f"go list for linux/{goarch} failed: {out.stderr.strip()[-300:]}")
    return len(out.stdout.split())


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _go_build(
    group: binaries.Group, programs: list[str], goarch: str, out: Path, ldflags: str, log: Callable[[str], None]
) -> tuple[float, int, str, float]:
    """`go build` for linux/goarch into ``out``: (seconds, packages compiled, output, CPU seconds).

    The CPU seconds (user + system, of go and the compilers and linker it ran) do not depend on
    what else the machine was doing, unlike the wall-clock seconds."""
    cpu0 = _children_cpu()
    cmd = [binaries.go_binary(), "build", "-v", "-trimpath", "-ldflags", ldflags, "-o", str(out) + "/"]
    cmd += [group.programs[p] for p in programs]
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as lf:
        proc = subprocess.Popen(
            cmd,
            cwd=binaries.MODULES / group.module_dir,
            env=_env(goarch),
            stdout=lf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            while proc.poll() is None:
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    log(f"  ... linux/{goarch}: {(time.monotonic() - t0) / 60:.1f} min")
        except BaseException:
            proc.terminate()
            proc.wait()
            raise
        seconds = time.monotonic() - t0
        lf.seek(0)
        text = lf.read()
    if proc.returncode != 0:
        tail = " | ".join(text.strip().splitlines()[-6:])
        raise binaries.BuildFailed(f"go build of {', '.join(programs)} for linux/{goarch} failed: {tail}")
    # -v names each package as it is compiled; packages found in Go's build cache are not named
    compiled = sum(1 for line in text.splitlines() if line and " " not in line.strip())
    for p in programs:  # `go build -o dir/` names a program after its package's last element
        pkg = group.programs[p].rstrip("/")
        built = out / (pkg.split("/")[-2] if pkg.endswith("/v3") else pkg.split("/")[-1])
        if built.name != p and built.exists():
            built.rename(out / p)
    return seconds, compiled, text, round(_children_cpu() - cpu0, 1)


def build_info(goarch: str, programs: Iterable[str] = PROGRAMS) -> dict[str, dict]:
    """build.json of each group holding ``programs`` that is built for ``goarch`` (by group)."""
    out = {}
    for module_dir in _groups(programs):
        f = target_dir(_group(module_dir), goarch) / "build.json"
        if f.is_file():
            out[module_dir] = json.loads(f.read_text())
    return out


def _say(message: str) -> None:
    print(message, flush=True)


def build(
    goarch: str, programs: Iterable[str] = PROGRAMS, force: bool = False, log: Callable[[str], None] = _say
) -> dict[str, dict]:
    """Build ``programs`` for linux/``goarch`` unless built; return each group's build.json.

    The first build on a machine compiles every package for the new architecture (nothing for it
    is in Go's build cache yet): build.json keeps its seconds, the packages compiled out of the
    total, and the machine's load average, as measured then.
    """
    arch(goarch)
    programs = list(programs)
    binaries.go_binary()
    done = {}
    for module_dir, names in _groups(programs).items():
        group = _group(module_dir)
        dest = target_dir(group, goarch)
        info_file = dest / "build.json"
        if not force and info_file.is_file():
            info = json.loads(info_file.read_text())
            if all((dest / p).is_file() for p in names) and set(names) <= set(info["programs"]):
                done[module_dir] = info
                continue
            names = sorted(set(names) | set(info["programs"]))
        tmp = dest.with_name(dest.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        ldflags = binaries._ldflags(group, date=date)
        total = packages_total(group, names, goarch)
        before = machine()
        log(f"building {', '.join(names)} for linux/{goarch} ({total} packages, {before['cores']} cores)")
        try:
            seconds, compiled, _, cpu = _go_build(group, names, goarch, tmp, ldflags, log)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        info = {
            "module": group.module,
            "version": binaries.pinned(group),
            "goos": "linux",
            "goarch": goarch,
            "go": binaries.go_version(),
            "cgo_enabled": binaries.GO_ENV["CGO_ENABLED"],
            "ldflags": ldflags,
            "programs": {p: {"size": (tmp / p).stat().st_size, "sha256": sha256(tmp / p)} for p in names},
            "seconds": round(seconds, 1),
            "cpu_seconds": cpu,
            "packages_compiled": compiled,
            "packages_total": total,
            "machine_before": before,
            "machine_after": machine(),
            "built": date,
        }
        (tmp / "build.json").write_text(json.dumps(info, indent=1) + "\n")
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
        log(f"  built in {seconds / 60:.1f} min, {compiled} of {total} packages compiled")
        done[module_dir] = info
    return done


def rebuild(goarch: str, module_dir: str, log: Callable[[str], None] = _say) -> dict:
    """Build a group's cross-built programs again, same recipe, into a throw-away folder: seconds,
    packages compiled (0 when Go's build cache holds them all), and whether every program came
    out byte-identical to the kept one."""
    group = _group(module_dir)
    info = json.loads((target_dir(group, goarch) / "build.json").read_text())
    names = list(info["programs"])
    before = machine()
    with tempfile.TemporaryDirectory(prefix="k8slearn-rebuild-") as tmp:
        seconds, compiled, _, cpu = _go_build(group, names, goarch, Path(tmp), info["ldflags"], log)
        same = {p: sha256(Path(tmp) / p) == info["programs"][p]["sha256"] for p in names}
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": cpu,
        "packages_compiled": compiled,
        "packages_total": info["packages_total"],
        "identical": same,
        "machine_before": before,
    }


def program_path(goarch: str, program: str) -> Path:
    """The path of ``program`` built for ``goarch`` (the native build for this machine's arch)."""
    if goarch == native():
        return binaries.require(program)
    p = target_dir(binaries.PROGRAMS[program], goarch) / program
    if not p.is_file():
        raise K8sLearnError(
            f"{program} is not built for linux/{goarch}: run `k8slearn arch build {goarch}` (needs Go and the "
            "module cache of `k8slearn cluster build`)"
        )
    return p


# ------------------------------------------------------------------ the ELF header


def elf_facts(path: Path) -> dict:
    """What the ELF file says about itself: machine, class, byte order, type, flags, entry point,
    whether it asks for a dynamic loader, .text size; plus the first 64 bytes (the ELF64 header)."""
    from elftools.elf.descriptions import describe_e_machine
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        head = f.read(64)
        f.seek(0)
        elf = ELFFile(f)
        h = elf.header
        text = elf.get_section_by_name(".text")
        interp = [s for s in elf.iter_segments() if s["p_type"] == "PT_INTERP"]
        return {
            "machine": h["e_machine"],
            "machine_description": describe_e_machine(h["e_machine"]),
            "class": h["e_ident"]["EI_CLASS"],
            "data": h["e_ident"]["EI_DATA"],
            "osabi": h["e_ident"]["EI_OSABI"],
            "type": h["e_type"],
            "flags": f"0x{h['e_flags']:x}",
            "entry": f"0x{h['e_entry']:x}",
            "static": not interp,
            "text_size": text["sh_size"] if text is not None else None,
            "size": Path(path).stat().st_size,
            "header_hex": head.hex(),
        }


def go_buildinfo(path: Path) -> dict[str, str]:
    """The build settings Go embedded in the binary (`go version -m`): GOARCH, CGO_ENABLED, ..."""
    out = subprocess.run(
        [binaries.go_binary(), "version", "-m", str(path)], capture_output=True, text=True, env=binaries.go_env()
    )
    settings = {}
    for line in out.stdout.splitlines():
        parts = line.strip().split("\t")
        if len(parts) >= 2 and parts[0] == "build" and "=" in parts[1]:
            k, v = parts[1].split("=", 1)
            if k in ("GOOS", "GOARCH", "CGO_ENABLED", "-trimpath") or k.startswith("GO") and k[2:].isalnum():
                settings[k] = v
    return settings


# ------------------------------------------------------------------ qemu-user


def qemu_path(goarch: str) -> Path | None:
    """qemu-user's emulator for ``goarch`` (qemu-<arch>, else qemu-<arch>-static), or None."""
    q = arch(goarch).qemu
    found = shutil.which(f"qemu-{q}") or shutil.which(f"qemu-{q}-static")
    return Path(found) if found else None


def require_qemu(goarch: str) -> Path:
    """The emulator's path; QemuMissing saying what to install when it is not there."""
    p = qemu_path(goarch)
    if p is None:
        q = arch(goarch).qemu
        raise QemuMissing(
            f"qemu-{q} is not installed, so linux/{goarch} programs cannot run on this {native()} machine",
            hint="`make qemu` (runs `apt-get install -y qemu-user` as root on Debian/Ubuntu; "
            "Fedora: `dnf install qemu-user`; or your distribution's qemu-user-static)",
        )
    return p


def qemu_version(path: Path) -> str:
    out = subprocess.run([str(path), "-version"], capture_output=True, text=True, timeout=30)
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else ""


def _timed(argv: list[str], repeat: int, env: dict[str, str] | None = None) -> dict:
    times = []
    out = None
    full = {**os.environ, **(env or {})}
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = subprocess.run(argv, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, env=full)
        times.append(time.perf_counter() - t0)
    assert out is not None
    return {
        "returncode": out.returncode,
        "output": (out.stdout + out.stderr).strip(),
        "seconds": [round(t, 4) for t in times],
        "median": round(statistics.median(times), 4),
    }


def run_emulated(
    goarch: str,
    program: str,
    args: Iterable[str] = ("--version",),
    env: dict[str, str] | None = None,
    repeat: int = 3,
) -> dict:
    """Run the linux/``goarch`` build of ``program`` under qemu-user and the native build beside it.

    Each is run ``repeat`` times with ``env`` added to the environment; the result keeps the
    output, exit codes, every time and the medians, the emulator's version and the machine (no
    paths). A program that exits non-zero is an answer too (etcd refuses unsupported
    architectures), not an error.
    """
    args = list(args)
    qemu = require_qemu(goarch)
    foreign = program_path(goarch, program)
    home = program_path(native(), program)
    emulated = _timed([str(qemu), str(foreign), *args], repeat, env)
    here = _timed([str(home), *args], repeat, env)
    for r, path in ((emulated, foreign), (here, home)):  # no machine paths in what is kept
        r["output"] = r["output"].replace(str(path), program)
    return {
        "arch": goarch,
        "program": program,
        "args": args,
        "env": dict(env or {}),
        "qemu": f"qemu-{arch(goarch).qemu}",
        "qemu_version": qemu_version(qemu),
        "native_arch": native(),
        "emulated": emulated,
        "native": here,
        "slowdown": round(emulated["median"] / here["median"], 1) if here["median"] else None,
        "machine": machine(),
    }


def built(goarch: str, program: str) -> bool:
    """Whether ``program`` is in the cache for linux/``goarch`` (with its build.json)."""
    d = target_dir(binaries.PROGRAMS[program], goarch)
    if not (d / program).is_file() or not (d / "build.json").is_file():
        return False
    return program in json.loads((d / "build.json").read_text()).get("programs", {})


def report(
    goarch: str, programs: Iterable[str] = PROGRAMS, build_missing: bool = True, log: Callable[[str], None] = _say
) -> dict:
    """Everything notebook 06 shows about one architecture, as plain data without paths.

    Builds what is missing (build.json keeps that first build's time) — unless ``build_missing``
    is False, when what is not built is listed under ``missing`` — times a rebuild from Go's
    build cache, and reads each program's ELF header and Go build settings; the native build's
    header is read too, for comparison. A failed build is part of the answer: ``ok`` is False and
    ``error`` holds go's last lines.
    """
    arch(goarch)
    programs = list(programs)
    out: dict = {"arch": goarch, "programs": programs, "machine": machine(), "go": binaries.go_version()}
    missing = [] if build_missing else [p for p in programs if not built(goarch, p)]
    present = [p for p in programs if p not in missing]
    out["missing"] = missing
    try:
        infos = build(goarch, present, log=log) if present else {}
    except binaries.BuildFailed as e:
        return {**out, "ok": False, "error": str(e), "builds": {}, "binaries": {}}
    out["ok"] = not missing
    if missing:
        out["error"] = (
            f"{', '.join(missing)} not built for linux/{goarch} when this ran "
            f"(`k8slearn arch build {goarch}` builds it; a first build takes minutes)"
        )
    out["builds"] = {}
    for module_dir, info in infos.items():
        again = rebuild(goarch, module_dir, log=log)
        out["builds"][module_dir] = {
            "first": {
                k: info.get(k) for k in ("seconds", "cpu_seconds", "packages_compiled", "packages_total", "built", "go")
            }
            | {"machine": info["machine_before"], "load_avg_after": info["machine_after"]["load_avg"]},
            "cached": again,
        }
    out["binaries"] = {}
    for p in present:
        path = program_path(goarch, p)
        out["binaries"][p] = {
            "elf": elf_facts(path),
            "buildinfo": go_buildinfo(path),
            "native_elf": elf_facts(program_path(native(), p)),
        }
    return out


# ------------------------------------------------------------------ what is per-architecture in the source


def _list(group: binaries.Group, program: str, goarch: str, cgo: str) -> list[dict]:
    fmt = '{{.ImportPath}}\t{{.Standard}}\t{{join .SFiles ","}}\t{{join .CgoFiles ","}}\t{{join .GoFiles ","}}'
    env = _env(goarch) | {"CGO_ENABLED": cgo}
    out = subprocess.run(
        [binaries.go_binary(), "list", "-deps", "-f", fmt, group.programs[program]],
        cwd=binaries.MODULES / group.module_dir,
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode != 0:
        raise binaries.BuildFailed(f"go list for linux/{goarch} failed: {out.stderr.strip()[-300:]}")
    rows = []
    for line in out.stdout.splitlines():
        path, std, sfiles, cgofiles, gofiles = (line.split("\t") + [""] * 5)[:5]
        rows.append(
            {
                "path": path,
                "std": std == "true",
                "asm": [f for f in sfiles.split(",") if f],
                "cgo": [f for f in cgofiles.split(",") if f],
                "go": [f for f in gofiles.split(",") if f],
            }
        )
    return rows


def source_survey(goarch: str, program: str = "kube-apiserver", reference: str = "amd64") -> dict:
    """What in ``program``'s source tree depends on the architecture, asked of `go list`:

    - packages with assembly (.s files) for ``goarch`` and for ``reference``, and the
      non-standard-library ones that have assembly for ``reference`` only (they fall back to
      pure Go on ``goarch``);
    - the Go files named for ``goarch`` (``*_riscv64.go`` and the like);
    - the packages that would use cgo if CGO_ENABLED=1 (so would need a C cross-compiler).
    """
    group = binaries.PROGRAMS[program]
    mine = _list(group, program, goarch, "0")
    ref = {r["path"]: r for r in _list(group, program, reference, "0")}
    with_cgo = _list(group, program, goarch, "1")
    suffix = (f"_{goarch}.go", f"_{goarch}.s", f"_linux_{goarch}.go", f"_linux_{goarch}.s")
    fast_path_missing = sorted(
        r["path"]
        for r in mine
        if not r["std"] and not r["asm"] and r["path"] in ref and ref[r["path"]]["asm"] and not ref[r["path"]]["std"]
    )
    return {
        "arch": goarch,
        "reference": reference,
        "program": program,
        "packages": len(mine),
        "asm_packages": {goarch: sum(1 for r in mine if r["asm"]), reference: sum(1 for r in ref.values() if r["asm"])},
        "asm_nonstd": {
            goarch: sorted(r["path"] for r in mine if r["asm"] and not r["std"]),
            reference: sorted(p for p, r in ref.items() if r["asm"] and not r["std"]),
        },
        "asm_only_reference": fast_path_missing,
        "arch_files": sum(1 for r in mine for f in r["go"] + r["asm"] if f.endswith(suffix)),
        "arch_files_examples": sorted(
            f"{r['path']}/{f}" for r in mine if not r["std"] for f in r["go"] + r["asm"] if f.endswith(suffix)
        )[:12],
        "cgo_if_enabled": sorted(r["path"] for r in with_cgo if r["cgo"]),
    }
