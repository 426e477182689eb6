"""The control plane's programs: which versions, where they are, and building them from Go modules.

One owner for the pinned versions: the go.mod files under controlplane/. Each Go module there
builds one group of programs:

    controlplane/kubernetes  k8s.io/kubernetes      kube-apiserver, kube-controller-manager,
                                                     kube-scheduler, kubectl
    controlplane/etcd        go.etcd.io/etcd/...     etcd, etcdctl, etcdutl
    controlplane/kwok        sigs.k8s.io/kwok        kwok

`find()` looks for each program in $K8SLEARN_BIN_DIR, then in the build cache, then in
setup-envtest's $KUBEBUILDER_ASSETS, then on PATH, and keeps one only if its `--version`
names the pinned release. `build()` builds what is missing into the cache, keyed by version.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from k8slearn.errors import K8sLearnError

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "controlplane"


class ToolchainMissing(K8sLearnError):
    """Go (or the controlplane/ sources) is not there to build the control plane."""


class BuildFailed(K8sLearnError):
    """`go build` failed."""


@dataclass(frozen=True)
class Group:
    module_dir: str  # folder under controlplane/
    module: str  # the Go module whose version names the group
    programs: dict  # program name -> Go package path
    version_x: tuple = ()  # -X flags, formatted with {version}, {major}, {minor}, {date}


GROUPS = (
    Group(
        "kubernetes",
        "k8s.io/kubernetes",
        {
            "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
            "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
            "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
            "kubectl": "k8s.io/kubernetes/cmd/kubectl",
        },
        (
            # What upstream's hack/lib/version.sh stamps; without it /version says v0.0.0-master.
            # The module proxy does not carry the git commit, so gitCommit is set empty (left
            # alone it would read "$Format:%H$", the git-archive placeholder in the source) and
            # gitTreeState says "archive" (upstream's word for a build from a source archive).
            "k8s.io/component-base/version.gitVersion={version}",
            "k8s.io/component-base/version.gitMajor={major}",
            "k8s.io/component-base/version.gitMinor={minor}",
            "k8s.io/component-base/version.gitTreeState=archive",
            "k8s.io/component-base/version.gitCommit=",
            "k8s.io/component-base/version.buildDate={date}",
            "k8s.io/client-go/pkg/version.gitVersion={version}",
            "k8s.io/client-go/pkg/version.gitMajor={major}",
            "k8s.io/client-go/pkg/version.gitMinor={minor}",
            "k8s.io/client-go/pkg/version.gitTreeState=archive",
            "k8s.io/client-go/pkg/version.gitCommit=",
            "k8s.io/client-go/pkg/version.buildDate={date}",
        ),
    ),
    Group(
        "etcd",
        "go.etcd.io/etcd/server/v3",
        {
            "etcd": "github.com/k8slearn/k8slearn/controlplane/etcd",
            "etcdctl": "go.etcd.io/etcd/etcdctl/v3",
            "etcdutl": "go.etcd.io/etcd/etcdutl/v3",
        },
    ),
    Group(
        "kwok",
        "sigs.k8s.io/kwok",
        {"kwok": "sigs.k8s.io/kwok/cmd/kwok"},
        ("sigs.k8s.io/kwok/pkg/consts.Version={version}",),
    ),
)
PROGRAMS = {name: g for g in GROUPS for name in g.programs}

# The environment every go command runs in: the machine's own Go, no workspace, no cgo
# (upstream builds its release binaries with CGO_ENABLED=0), no VCS stamping.
GO_ENV = {"GOTOOLCHAIN": "local", "GOWORK": "off", "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly -buildvcs=false"}


def pinned(group: Group) -> str:
    """The version of `group.module` its go.mod requires (the one owner of that fact)."""
    gomod = MODULES / group.module_dir / "go.mod"
    if not gomod.is_file():
        raise ToolchainMissing(f"{gomod} is missing: build the control plane from a clone of the k8slearn repository")
    m = re.search(rf"^\s*(?:require\s+)?{re.escape(group.module)}\s+(v\S+)", gomod.read_text(), re.M)
    if not m:
        raise ToolchainMissing(f"{gomod} does not require {group.module}")
    return m.group(1)


def versions() -> dict[str, str]:
    """{"kubernetes": "v1.37.2", "etcd": "v3.7.0", "kwok": "v0.8.0"}."""
    return {g.module_dir: pinned(g) for g in GROUPS}


def cache_dir() -> Path:
    """$K8SLEARN_CACHE, else $XDG_CACHE_HOME/k8slearn, else ~/.cache/k8slearn."""
    env = os.environ.get("K8SLEARN_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "k8slearn"


def group_dir(group: Group) -> Path:
    """The cache folder of ``group``'s programs at its pinned version."""
    return cache_dir() / "bin" / f"{group.module_dir}-{pinned(group)}"


def version_of(path: Path, program: str) -> str | None:
    """What `program --version` says (first line), or None if it does not run.

    Asked once per file as it is on disk (path, size, modification time): every LocalEtcd start
    and every `find()` would otherwise start the program again just to read its version.
    """
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return _version_of(str(path), program, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _version_of(path: str, program: str, _size: int, _mtime_ns: int) -> str | None:
    args = {"kubectl": ["version", "--client"], "etcdctl": ["version"], "etcdutl": ["version"]}.get(
        program, ["--version"]
    )
    try:
        out = subprocess.run([path, *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout + out.stderr).strip()
    return text.splitlines()[0] if text and out.returncode == 0 else None


def _matches(text: str, want: str) -> bool:
    # `kube-apiserver --version` says "Kubernetes v1.37.2"; etcd "etcd Version: 3.7.0";
    # kubectl "Client Version: v1.37.2"; etcdctl "etcdctl version: 3.7.0"; kwok "kwok version v0.8.0 ...".
    return bool(re.search(rf"(?<![\d.]){re.escape(want.lstrip('v'))}(?![\d])", text))


def _candidates(program: str, group: Group):
    for var in ("K8SLEARN_BIN_DIR",):
        if os.environ.get(var):
            yield var, Path(os.environ[var]) / program
    yield "build cache", group_dir(group) / program
    if os.environ.get("KUBEBUILDER_ASSETS"):
        yield "KUBEBUILDER_ASSETS", Path(os.environ["KUBEBUILDER_ASSETS"]) / program
    found = shutil.which(program)
    if found:
        yield "PATH", Path(found)


@dataclass(frozen=True)
class Program:
    name: str
    path: Path
    version: str
    source: str


def find(program: str) -> Program | None:
    """The first copy of `program` at the pinned version, or None."""
    group = PROGRAMS[program]
    want = pinned(group)
    for source, path in _candidates(program, group):
        if path.is_file() and os.access(path, os.X_OK):
            v = version_of(path, program)
            if v and _matches(v, want):
                return Program(program, path, v, source)
    return None


def find_all() -> dict[str, Program | None]:
    """Every program's copy at the pinned version (None where there is none)."""
    return {name: find(name) for name in PROGRAMS}


def require(program: str) -> Path:
    """The path of ``program`` at its pinned version; ToolchainMissing when it is not built."""
    p = find(program)
    if p is None:
        raise ToolchainMissing(
            f"{program} {pinned(PROGRAMS[program])} is not built yet: run `k8slearn cluster build` "
            "(or `make cluster`; needs Go and the Go module proxy), or point K8SLEARN_BIN_DIR at "
            "a folder with the control plane's programs"
        )
    return p.path


def go_binary() -> str:
    """The path of the ``go`` command; ToolchainMissing when Go is not installed."""
    go = shutil.which("go")
    if not go:
        raise ToolchainMissing(
            "Go is not installed: the local control plane is built from Kubernetes' Go modules "
            "(https://go.dev/doc/install), or use replay mode, or the Kind runtime"
        )
    return go


def go_env() -> dict[str, str]:
    """The environment Go builds run in: this process's, plus GO_ENV."""
    env = dict(os.environ)
    env.update(GO_ENV)
    return env


def go_version() -> str:
    """The Go toolchain's version (``go env GOVERSION``)."""
    out = subprocess.run([go_binary(), "env", "GOVERSION"], capture_output=True, text=True, env=go_env())
    return out.stdout.strip()


def _ldflags(group: Group, date: str | None = None) -> str:
    v = pinned(group)
    major, minor = v.lstrip("v").split(".")[:2]
    date = date or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    xs = " ".join(f"-X {x.format(version=v, major=major, minor=minor, date=date)}" for x in group.version_x)
    return f"-s -w {xs}".strip()


def _module_dir(group: Group, module: str) -> Path:
    out = subprocess.run(
        [go_binary(), "list", "-m", "-f", "{{.Dir}}", module],
        cwd=MODULES / group.module_dir,
        capture_output=True,
        text=True,
        env=go_env(),
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise BuildFailed(f"cannot find {module} in the module cache: {out.stderr.strip()[-300:]}")
    return Path(out.stdout.strip())


# kwok reads its behaviour (Stages) from a config file; kwokctl embeds these files from
# kwok's kustomize/stage folder. They are copied from the module cache at build time.
KWOK_STAGES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
)


def kwok_stages_path() -> Path:
    """Where the kwok build leaves its stage configuration (kwok-stages.yaml)."""
    return group_dir(PROGRAMS["kwok"]) / "kwok-stages.yaml"


def _write_kwok_stages(group: Group, out: Path) -> None:
    src = _module_dir(group, "sigs.k8s.io/kwok")
    docs = [(src / rel).read_text().strip() for rel in KWOK_STAGES]
    (out / "kwok-stages.yaml").write_text(
        f"# copied from sigs.k8s.io/kwok@{pinned(group)} by `k8slearn cluster build`\n" + "\n---\n".join(docs) + "\n"
    )


def _say(message: str) -> None:
    print(message, flush=True)


def build_group(group: Group, log: Callable[[str], None] = _say, progress_every: float = 60.0) -> dict:
    """Build one group's programs into the cache; return what was built, with time and sizes."""
    out = group_dir(group)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cmd = [
        go_binary(),
        "build",
        "-trimpath",
        "-ldflags",
        _ldflags(group),
        "-o",
        str(tmp) + "/",
        *group.programs.values(),
    ]
    log(f"building {', '.join(group.programs)} from {group.module}@{pinned(group)} (go build, {os.cpu_count()} cores)")
    t0 = time.monotonic()
    logfile = cache_dir() / "logs" / f"build-{group.module_dir}.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    # -v names each package as it is compiled: the count in the log is the progress shown
    cmd.insert(2, "-v")
    with open(logfile, "w") as lf:
        proc = subprocess.Popen(
            cmd,
            cwd=MODULES / group.module_dir,
            env=go_env(),
            stdout=lf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            while proc.poll() is None:
                try:
                    proc.wait(timeout=progress_every)
                except subprocess.TimeoutExpired:
                    done = sum(1 for _ in open(logfile, errors="replace"))
                    log(f"  ... {(time.monotonic() - t0) / 60:.1f} min, {done} packages compiled so far")
        except BaseException:
            proc.terminate()
            proc.wait()
            raise
    if proc.returncode != 0:
        tail = logfile.read_text(errors="replace").strip().splitlines()[-5:]
        raise BuildFailed(f"go build of {group.module_dir} failed (log: {logfile}): " + " | ".join(tail))
    # `go build -o dir/` names the etcd server after its package's last element
    for name, pkg in group.programs.items():
        built = tmp / pkg.rstrip("/").split("/")[-1]
        if pkg.endswith("/v3"):  # go.etcd.io/etcd/etcdctl/v3 -> etcdctl
            built = tmp / pkg.split("/")[-2]
        if built.name != name and built.exists():
            built.rename(tmp / name)
    if group.module_dir == "kwok":
        _write_kwok_stages(group, tmp)
    seconds = time.monotonic() - t0
    sizes = {name: (tmp / name).stat().st_size for name in group.programs}
    info = {
        "module": group.module,
        "version": pinned(group),
        "go": go_version(),
        "recipe": list(group.version_x),
        "seconds": round(seconds, 1),
        "sizes": sizes,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "ldflags": _ldflags(group),
    }
    (tmp / "build.json").write_text(json.dumps(info, indent=1) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return info


def build(force: bool = False, log: Callable[[str], None] = _say) -> list[dict]:
    """Build every group that has a program missing at the pinned version (all with `force`)."""
    go_binary()
    done = []
    for group in GROUPS:
        missing = [p for p in group.programs if find(p) is None]
        built = build_info().get(group.module_dir)
        first = find(next(iter(group.programs)))
        if (
            built
            and built.get("recipe") != list(group.version_x)
            and first is not None
            and first.source == "build cache"
        ):
            missing = missing or ["(built with other version stamps)"]
        if group.module_dir == "kwok" and not kwok_stages_path().is_file():
            missing = missing or ["kwok-stages.yaml"]
        if not (force or missing):
            continue
        info = build_group(group, log=log)
        sizes = ", ".join(f"{n} {s / 1e6:.0f} MB" for n, s in info["sizes"].items())
        log(f"  built in {info['seconds'] / 60:.1f} min: {sizes}")
        done.append(info)
    return done


def build_info() -> dict[str, dict]:
    """build.json of every group built into the cache."""
    out = {}
    for g in GROUPS:
        f = group_dir(g) / "build.json"
        if f.is_file():
            out[g.module_dir] = json.loads(f.read_text())
    return out


if __name__ == "__main__":  # python -m k8slearn.cluster.binaries: what is found where
    for name, prog in find_all().items():
        print(f"{name:<24} {prog.version + ' (' + prog.source + ')' if prog else 'missing'}", file=sys.stdout)
