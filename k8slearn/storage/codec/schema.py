"""Where protobuf descriptors come from: the built-in .proto files or a fetched release.

Built-in schema
    The .proto files under ``proto/k8slearn/`` are written for this project (field numbers
    are facts of the published API, checked against kubernetes/api and
    kubernetes/apimachinery). They are compiled at first use with ``grpc_tools.protoc``
    into a ``FileDescriptorSet`` cached as
    ``$K8SLEARN_CACHE/codec/builtin-<hash>.binpb`` (default cache ``~/.cache/k8slearn``),
    where ``<hash>`` covers the .proto sources and the protoc version.
    Why compile instead of committing a descriptor set: nothing generated sits in git, so
    it cannot drift from the .proto sources, and the cost (about a second, once per
    machine) is paid only by the first decode. If the cache folder is not writable the set
    is compiled into a temporary folder and kept in memory.

Fetched schema
    :func:`fetch` downloads the official ``generated.proto`` files of one Kubernetes
    release from ``{base}/kubernetes/{repo}/kubernetes-{version}/{path}`` (repos ``api``,
    ``apimachinery``, ``apiextensions-apiserver``), follows their imports, fetches the
    ``types.go`` beside each for the Go struct tags (see jsonnames.py), compiles the lot
    with protoc and keeps ``descriptors.binpb`` + ``facts.json`` under
    ``$K8SLEARN_CACHE/schemas/<version>/``. :func:`load` reads it back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from k8slearn.storage.codec import protoc
from k8slearn.storage.codec.errors import DecodeError, EncodeError, SchemaError
from k8slearn.storage.codec.jsonnames import BUILTIN_FACTS, GoField, MessageFacts, parse_types_go
from k8slearn.storage.resources import API_GROUPS

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor
    from google.protobuf.message import Message

PROTO_DIR = Path(__file__).parent / "proto"
DEFAULT_BASE_URL = "https://raw.githubusercontent.com"

APIEXTENSIONS_PACKAGE = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions"

# generated.proto files fetched by default, as (repo, path); their imports are followed.
DEFAULT_ROOTS = [
    ("api", f"{g.folder}/{g.fetched_version}/generated.proto") for g in API_GROUPS.values() if g.fetched_version
] + [("apiextensions-apiserver", "pkg/apis/apiextensions/v1/generated.proto")]

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:-(?:alpha|beta|rc)\.\d+)?$")


@cache
def _decode_message():
    """pb.decode_message, imported on first use (it loads protobuf) and then kept."""
    from k8slearn.storage.codec.pb import decode_message

    return decode_message


def cache_dir() -> Path:
    """``$K8SLEARN_CACHE`` or ``~/.cache/k8slearn``."""
    env = os.environ.get("K8SLEARN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "k8slearn"


def package_for(api_version: str) -> str | None:
    """The protobuf package of ``api_version``'s types (None without a version)."""
    group, _, version = api_version.rpartition("/")
    if not version:
        return None
    if group == "apiextensions.k8s.io":
        return f"{APIEXTENSIONS_PACKAGE}.{version}"
    known = API_GROUPS.get(group)
    folder = known.folder if known else group.split(".")[0]
    return f"k8s.io.api.{folder}.{version}"


class Schema:
    """Protobuf descriptors plus the Go JSON facts of their messages."""

    def __init__(self, descriptor_set: bytes, facts: dict[str, MessageFacts], name: str):
        from google.protobuf import descriptor_pb2, descriptor_pool

        from k8slearn.storage.codec.pb import Converters

        self.name = name
        self.descriptor_set = descriptor_set
        self.facts = facts
        fds = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set)
        self.pool = descriptor_pool.DescriptorPool()
        for f in fds.file:
            self.pool.Add(f)
        self.converters = Converters(self.message_class, facts)
        self._by_kind: dict[tuple[str, str], type[Message] | None] = {}

    def __repr__(self) -> str:
        return f"<k8slearn.storage.codec Schema {self.name}>"

    def message_class(self, desc: Descriptor) -> type[Message]:
        """The generated message class of a descriptor in this schema."""
        from google.protobuf import message_factory

        return message_factory.GetMessageClass(desc)

    def find(self, api_version: str, kind: str) -> type[Message] | None:
        """The message class of ``apiVersion``/``kind``, or None when the schema lacks it."""
        key = (api_version, kind)
        if key in self._by_kind:
            return self._by_kind[key]
        cls = None
        pkg = package_for(api_version)
        if pkg and kind:
            try:
                cls = self.message_class(self.pool.FindMessageTypeByName(f"{pkg}.{kind}"))
            except KeyError:
                cls = None
        self._by_kind[key] = cls
        return cls

    def message_names(self) -> list[str]:
        """The full names of the schema's messages."""
        names: list[str] = []
        fds_mod = __import__("google.protobuf.descriptor_pb2", fromlist=["FileDescriptorSet"])
        for f in fds_mod.FileDescriptorSet.FromString(self.descriptor_set).file:
            names.extend(f"{f.package}.{m.name}" for m in f.message_type)
        return names

    def decode_object(self, api_version: str, kind: str, raw: bytes) -> dict | None:
        """Decode the ``raw`` bytes of an object to Kubernetes JSON (None: type unknown)."""
        decode_message = _decode_message()
        cls = self.find(api_version, kind)
        if cls is None:
            return None
        body = decode_message(self.converters, cls, raw)
        if not isinstance(body, dict):
            raise DecodeError(f"{kind} decoded to a {type(body).__name__}, not an object")
        obj = {"kind": kind, "apiVersion": api_version}
        obj.update(body)  # the object messages carry no kind/apiVersion fields of their own
        return obj

    def encode_object(self, obj: dict) -> tuple[str, str, bytes]:
        """(apiVersion, kind, serialized object without TypeMeta)."""
        api_version = obj.get("apiVersion")
        kind = obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str) or not kind:
            raise EncodeError("the object needs string 'apiVersion' and 'kind' fields to be encoded as protobuf")
        cls = self.find(api_version, kind)
        if cls is None:
            raise EncodeError(
                f"schema {self.name} has no protobuf type for {api_version} {kind}; "
                "fetch a release schema (k8slearn schema fetch) or encode as JSON"
            )
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        msg = cls()
        try:
            self.converters.encoder(cls.DESCRIPTOR)(body, msg)
        except EncodeError:
            raise
        except (TypeError, ValueError, OverflowError) as e:
            raise EncodeError(f"{kind}: {e}") from None
        return api_version, kind, msg.SerializeToString(deterministic=True)


# ---------------------------------------------------------------------------------------
# compiling


def _builtin_sources() -> list[Path]:
    return sorted((PROTO_DIR / "k8slearn").glob("*.proto"))


def _builtin_hash() -> str:
    h = hashlib.sha256(protoc.version().encode())
    for p in _builtin_sources():
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def compile_builtin() -> bytes:
    """The built-in .proto files compiled to a FileDescriptorSet (no cache)."""
    return protoc.descriptor_set([PROTO_DIR], [f"k8slearn/{p.name}" for p in _builtin_sources()])


@lru_cache(maxsize=1)
def builtin() -> Schema:
    """The schema compiled from this project's own .proto files (cached on disk)."""
    target = cache_dir() / "codec" / f"builtin-{_builtin_hash()}.binpb"
    try:
        return Schema(target.read_bytes(), BUILTIN_FACTS, "built-in")
    except OSError:
        pass
    data = compile_builtin()
    try:  # keep it for the next process; an unwritable cache only costs a compile per process
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError:
        pass
    return Schema(data, BUILTIN_FACTS, "built-in")


# ---------------------------------------------------------------------------------------
# fetched release schemas


def _check_version(version: str) -> str:
    v = version[1:] if version.startswith("v") else version
    if not _VERSION_RE.match(v):
        raise SchemaError(f"bad Kubernetes version {version!r}: use a release number like 1.36.0")
    return v


def _schema_dir(version: str) -> Path:
    return cache_dir() / "schemas" / version


def cached_versions() -> list[str]:
    """Kubernetes versions whose fetched schema is in the cache, oldest first."""
    root = cache_dir() / "schemas"
    if not root.is_dir():
        return []
    found = [p.name for p in root.iterdir() if (p / "descriptors.binpb").is_file() and (p / "facts.json").is_file()]

    def key(v: str):
        return tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.-]", v))

    return sorted(found, key=key)


def _facts_to_json(facts: dict[str, MessageFacts]) -> dict:
    return {k: {"list_wrapper": v.list_wrapper, "fields": [asdict(f) for f in v.fields]} for k, v in facts.items()}


def _facts_from_json(data: dict) -> dict[str, MessageFacts]:
    return {k: MessageFacts([GoField(**f) for f in v["fields"]], v["list_wrapper"]) for k, v in data.items()}


@lru_cache(maxsize=8)
def _load_cached(root: str, version: str) -> Schema:
    d = Path(root) / "schemas" / version
    try:
        data = (d / "descriptors.binpb").read_bytes()
        facts = _facts_from_json(json.loads((d / "facts.json").read_text()))
    except FileNotFoundError:
        raise SchemaError(
            f"no schema for Kubernetes {version} in {d.parent}; "
            f"run: k8slearn schema fetch --kubernetes-version {version}"
        ) from None
    except (ValueError, KeyError, TypeError) as e:
        raise SchemaError(f"the cached schema in {d} is damaged ({e}); fetch it again") from None
    return Schema(data, facts, f"kubernetes-{version}")


def load(kubernetes_version: str, *, fetch_missing: bool = False, base_url: str | None = None) -> Schema:
    """The fetched schema of a release from the cache (optionally fetching it first)."""
    version = _check_version(kubernetes_version)
    if fetch_missing and version not in cached_versions():
        fetch(version, base_url=base_url)
    return _load_cached(str(cache_dir()), version)


def _import_location(import_path: str) -> tuple[str, str] | None:
    """'k8s.io/api/core/v1/generated.proto' -> ('api', 'core/v1/generated.proto')."""
    parts = import_path.split("/")
    if len(parts) < 3 or parts[0] != "k8s.io":
        return None
    return parts[1], "/".join(parts[2:])


def _download(url: str, timeout: float) -> bytes | None:
    """Body of ``url``; None on HTTP 404; SchemaError on other failures."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise SchemaError(f"download of {url} failed: HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise SchemaError(f"cannot reach {url}: {e.reason}; check the network or pass --base-url") from None
    except (TimeoutError, OSError) as e:
        raise SchemaError(f"cannot download {url}: {e}; check the network or pass --base-url") from None


def _check_base_url(base_url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(base_url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:
        ok = False
    if not ok:
        raise SchemaError(
            f"base URL {base_url!r} is not an http(s) URL; "
            f"leave --base-url out to use {DEFAULT_BASE_URL}, or give a mirror like it"
        )
    return base_url.rstrip("/")


_IMPORT_RE = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', re.M)
_PACKAGE_RE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.M)


def fetch(
    kubernetes_version: str,
    *,
    base_url: str | None = None,
    roots: Iterable[tuple[str, str]] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download, compile and cache the official schema of one Kubernetes release.

    ``roots`` are (repo, path) pairs of generated.proto files to start from (default
    :data:`DEFAULT_ROOTS`); the first root must exist (a 404 there means the release is
    unknown), later roots missing in that release are skipped. Returns the cache folder.
    """
    version = _check_version(kubernetes_version)
    base = _check_base_url(base_url or DEFAULT_BASE_URL)
    roots = list(roots or DEFAULT_ROOTS)

    def url(repo: str, path: str) -> str:
        return f"{base}/kubernetes/{repo}/kubernetes-{version}/{path}"

    protos: dict[str, bytes] = {}  # import path -> source
    facts: dict[str, MessageFacts] = {}
    skipped: list[str] = []
    queue: list[tuple[str, str, str | None]] = [(r, p, None) for r, p in roots]
    first = True
    while queue:
        repo, path, wanted_by = queue.pop(0)
        import_path = f"k8s.io/{repo}/{path}"
        if import_path in protos:
            continue
        body = _download(url(repo, path), timeout)
        if body is None:
            if first:
                raise SchemaError(
                    f"{url(repo, path)} was not found (HTTP 404): is {version} a released Kubernetes version?"
                )
            if wanted_by:
                raise SchemaError(f"{url(repo, path)} (imported by {wanted_by}) was not found (HTTP 404)")
            skipped.append(import_path)
            first = False
            continue
        first = False
        protos[import_path] = body
        text = body.decode("utf-8", "replace")
        for imp in _IMPORT_RE.findall(text):
            loc = _import_location(imp)
            if loc is None:
                if imp.startswith("google/protobuf/"):
                    continue
                raise SchemaError(f"{import_path} imports {imp}, which k8slearn cannot fetch")
            queue.append((loc[0], loc[1], import_path))
        pkg = _PACKAGE_RE.search(text)
        go_body = _download(url(repo, path.rsplit("/", 1)[0] + "/types.go"), timeout)
        if pkg and go_body is not None:
            facts.update(parse_types_go(go_body.decode("utf-8", "replace"), pkg.group(1)))
    if not protos:
        raise SchemaError("nothing was downloaded")

    target = _schema_dir(version)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        for import_path, body in protos.items():
            p = src / import_path
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(body)
        data = protoc.descriptor_set([src], sorted(protos))
    try:
        target.mkdir(parents=True, exist_ok=True)
        (target / "descriptors.binpb").write_bytes(data)
        (target / "facts.json").write_text(json.dumps(_facts_to_json(facts), indent=0, sort_keys=True))
        (target / "fetched.json").write_text(
            json.dumps({"version": version, "base_url": base, "files": sorted(protos), "skipped": skipped}, indent=1)
        )
    except OSError as e:
        raise SchemaError(f"cannot write the schema cache {target}: {e}; set K8SLEARN_CACHE") from None
    _load_cached.cache_clear()
    return target
