"""Kubeconfig files: one per login of the local control plane, and its context in the learner's kubeconfig.

`merge` adds (or replaces) one cluster, user and context of the same name in the kubeconfig
kubectl uses — the first file of $KUBECONFIG, else ~/.kube/config — and makes it current,
as `kind create cluster` does; `remove` takes the three out again, as `kind delete cluster`
does. Other entries are left as they were. Certificates are embedded (as kind embeds them),
so the file is written with mode 0600.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml


def target() -> Path:
    """The kubeconfig file written to: the first file of $KUBECONFIG, else ~/.kube/config."""
    env = os.environ.get("KUBECONFIG")
    if env:
        return Path(env.split(os.pathsep)[0])
    return Path.home() / ".kube" / "config"


def _b64(p: Path) -> str:
    return base64.b64encode(Path(p).read_bytes()).decode()


def entries(name: str, server: str, ca: Path, cert: Path, key: Path) -> dict:
    """The cluster, user and context entries of one context, certificates embedded."""
    return {
        "cluster": {"name": name, "cluster": {"server": server, "certificate-authority-data": _b64(ca)}},
        "user": {"name": name, "user": {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}},
        "context": {"name": name, "context": {"cluster": name, "user": name}},
    }


def _dump(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".k8slearn-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    os.replace(tmp, path)


def write_file(path: Path, name: str, server: str, ca: Path, cert: Path, key: Path) -> Path:
    """Write a kubeconfig at ``path`` holding this one context, selected."""
    e = entries(name, server, ca, cert, key)
    _dump(
        path,
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [e["cluster"]],
            "users": [e["user"]],
            "contexts": [e["context"]],
            "current-context": name,
            "preferences": {},
        },
    )
    return path


def _load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text()) if path.is_file() else None
    doc = doc or {}
    doc.setdefault("apiVersion", "v1")
    doc.setdefault("kind", "Config")
    for k in ("clusters", "users", "contexts"):
        doc[k] = doc.get(k) or []
    return doc


def merge(name: str, server: str, ca: Path, cert: Path, key: Path, path: Path | None = None) -> Path:
    """Add (or replace) context ``name`` in the kubeconfig at ``path`` (default: target())."""
    path = path or target()
    doc = _load(path)
    e = entries(name, server, ca, cert, key)
    for plural, one in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
        doc[plural] = [x for x in doc[plural] if x.get("name") != name] + [e[one]]
    doc["current-context"] = name
    _dump(path, doc)
    return path


def remove(name: str, path: Path | None = None) -> bool:
    """Remove context ``name``'s entries from the kubeconfig; False when it had none."""
    path = path or target()
    if not path.is_file():
        return False
    doc = _load(path)
    before = sum(len(doc[k]) for k in ("clusters", "users", "contexts"))
    for k in ("clusters", "users", "contexts"):
        doc[k] = [x for x in doc[k] if x.get("name") != name]
    if doc.get("current-context") == name:
        doc["current-context"] = ""
    if sum(len(doc[k]) for k in ("clusters", "users", "contexts")) == before:
        return False
    _dump(path, doc)
    return True


def server_of(context: str, path: Path | None = None) -> str | None:
    """The server URL a context points at, or None."""
    doc = _load(path or target())
    ctx = next((c for c in doc["contexts"] if c.get("name") == context), None)
    if not ctx:
        return None
    cl = next((c for c in doc["clusters"] if c.get("name") == ctx.get("context", {}).get("cluster")), None)
    return (cl or {}).get("cluster", {}).get("server")
