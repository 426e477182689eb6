"""Which platforms Kubernetes releases build for, and multi-architecture image indexes.

Pure functions (no I/O but reading the project's data files):

    server_platforms(golang_sh)    the platform lists in one release's hack/lib/golang.sh
    release_platforms()            data/platforms/release-platforms.yaml (extracted at several tags)
    index_platforms(index)         the platforms an OCI image index (or Docker manifest list) names

`extract(tags)` is the I/O edge that made the data file: it asks the Go module proxy for each
release of k8s.io/kubernetes (the module zip holds hack/) into a throw-away GOMODCACHE.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from k8slearn.errors import FixtureMissing, K8sLearnError

KINDS = ("SERVER", "NODE", "CLIENT", "TEST")
_LIST = re.compile(r"(?:readonly\s+)?KUBE_(SUPPORTED_)?(SERVER|NODE|CLIENT|TEST)_PLATFORMS=\(([^)]*)\)")

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def server_platforms(golang_sh: str) -> dict[str, list[str]]:
    """{"server": [...], "node": [...], "client": [...], "test": [...]} from hack/lib/golang.sh.

    Older releases set KUBE_SERVER_PLATFORMS twice (linux/amd64 alone for KUBE_FASTBUILD, the full
    list otherwise); newer ones name the full list KUBE_SUPPORTED_SERVER_PLATFORMS. The longest
    list of each kind is the one a release build uses.
    """
    out: dict[str, list[str]] = {}
    for m in _LIST.finditer(golang_sh):
        kind = m.group(2).lower()
        items = [w for line in m.group(3).splitlines() for w in line.split("#", 1)[0].split()]
        if len(items) > len(out.get(kind, [])):
            out[kind] = items
    return out


def data_file() -> Path:
    from k8slearn.recording.layout import data_dir

    return data_dir() / "platforms" / "release-platforms.yaml"


def release_platforms() -> dict:
    """The extracted platform lists by release, with their provenance (data/platforms/)."""
    f = data_file()
    if not f.is_file():
        raise FixtureMissing(f"{f} is missing: it ships with the repository (regenerate: `k8slearn arch platforms`)")
    return yaml.safe_load(f.read_text())


def index_platforms(index: dict) -> list[dict]:
    """The platform of each manifest an image index points at: os, architecture, variant, digest.

    Accepts an OCI image index and a Docker manifest list (the older format registries still
    serve); anything else is a K8sLearnError naming what it got.
    """
    media = index.get("mediaType")
    if index.get("schemaVersion") != 2 or media not in (OCI_INDEX, DOCKER_LIST, None):
        raise K8sLearnError(f"not an image index: schemaVersion {index.get('schemaVersion')!r}, mediaType {media!r}")
    if "manifests" not in index:
        raise K8sLearnError("not an image index: it has no manifests list")
    rows = []
    for m in index["manifests"]:
        p = m.get("platform") or {}
        rows.append(
            {
                "os": p.get("os"),
                "architecture": p.get("architecture"),
                "variant": p.get("variant"),
                "digest": m.get("digest"),
                "size": m.get("size"),
                "mediaType": m.get("mediaType"),
            }
        )
    return rows


def pick(index: dict, os_: str, architecture: str, variant: str | None = None) -> dict | None:
    """The manifest a container runtime on os_/architecture would pull from ``index``, or None."""
    for row in index_platforms(index):
        if row["os"] == os_ and row["architecture"] == architecture and (variant is None or row["variant"] == variant):
            return row
    return None


def extract(tags: list[str], log=print) -> dict:
    """Download each k8s.io/kubernetes release into a throw-away GOMODCACHE and read its lists.

    Needs Go and the module proxy; the module zips (tens of MB each) are deleted afterwards.
    """
    from k8slearn.cluster import binaries

    go = binaries.go_binary()
    out: dict = {}
    cache = Path(tempfile.mkdtemp(prefix="k8slearn-platforms-"))
    try:
        for tag in tags:
            env = binaries.go_env() | {"GOMODCACHE": str(cache), "GOFLAGS": "-modcacherw"}
            r = subprocess.run(
                [go, "mod", "download", "-json", f"k8s.io/kubernetes@{tag}"],
                capture_output=True,
                text=True,
                env=env,
                cwd=cache,
            )
            info = json.loads(r.stdout or "{}")
            if r.returncode != 0 or not info.get("Dir"):
                raise K8sLearnError(f"go mod download k8s.io/kubernetes@{tag} failed: {info.get('Error') or r.stderr}")
            text = (Path(info["Dir"]) / "hack/lib/golang.sh").read_text()
            out[tag] = server_platforms(text)
            log(f"{tag}: server {' '.join(out[tag].get('server', []))}")
            shutil.rmtree(info["Dir"], ignore_errors=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return out
