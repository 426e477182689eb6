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
META_PACKAGE = "k8s.io.apimachinery.pkg.apis.meta.v1"
APIREGISTRATION_PACKAGE = "k8s.io.kube_aggregator.pkg.apis.apiregistration"

# The types served by the apiextensions and aggregator servers (CustomResourceDefinition,
# APIService), which live outside k8s.io/api: every version of them.
EXTRA_ROOTS = [
    ("apiextensions-apiserver", "pkg/apis/apiextensions/v1/generated.proto"),
    ("apiextensions-apiserver", "pkg/apis/apiextensions/v1beta1/generated.proto"),
    ("kube-aggregator", "pkg/apis/apiregistration/v1/generated.proto"),
    ("kube-aggregator", "pkg/apis/apiregistration/v1beta1/generated.proto"),
]

# generated.proto files always fetched, as (repo, path); their imports are followed. The
# first one (core/v1) tells whether the release exists.
DEFAULT_ROOTS = [
    ("api", f"{g.folder}/{g.fetched_version}/generated.proto") for g in API_GROUPS.values() if g.fetched_version
] + EXTRA_ROOTS

# Where a release lists all of its k8s.io/api group versions, alpha and beta included: the
# round-trip test of k8s.io/api imports every k8s.io/api/<group>/<version> package it
# serializes (https://github.com/kubernetes/api/blob/master/roundtrip_test.go). raw
# downloads cannot list a folder, so this file is the release's index.
INDEX = ("api", "roundtrip_test.go")
_INDEX_IMPORT_RE = re.compile(r'"k8s\.io/api/([a-z0-9]+)/(v\d+(?:(?:alpha|beta)\d+)?)"')

# Go files read for struct tags beside each generated.proto: types.go, plus these in some
# repos (apiextensions keeps JSONSchemaProps in types_jsonschema.go).
EXTRA_GO_FILES = {"apiextensions-apiserver": ("types_jsonschema.go",)}

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
    if group == "apiregistration.k8s.io":
        return f"{APIREGISTRATION_PACKAGE}.{version}"
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
            # meta/v1's kinds (Status, WatchEvent, the *Options) are registered into every
            # group version by metav1.AddToGroupVersion (k8s.io/apimachinery/pkg/apis/meta/v1/register.go)
            for candidate in (f"{pkg}.{kind}", f"{META_PACKAGE}.{kind}"):
                try:
                    cls = self.message_class(self.pool.FindMessageTypeByName(candidate))
                    break
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
                f"schema {self.name} has no protobuf type for {api_version!r} {kind!r}; "
                "fetch a release schema (k8slearn schema fetch) or encode as JSON"
            )
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        msg = cls()
        try:
            self.converters.encoder(cls.DESCRIPTOR)(body, msg)
        except EncodeError:
            raise
        except (TypeError, ValueError, OverflowError) as e:
            raise EncodeError(f"{kind!r}: {e}") from None
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


_PREFERRED: list[Schema] = []  # set by prefer(): the schema of the cluster a notebook uses


@lru_cache(maxsize=8)
def _newest_cached(root: str) -> Schema | None:
    versions = cached_versions()
    for version in reversed(versions):
        try:
            return _load_cached(root, version)
        except SchemaError:  # a damaged cache entry: try the next older one
            continue
    return None


def default() -> Schema:
    """The schema ``decode``/``encode`` use when given none: the one :func:`prefer` chose (a
    notebook's cluster's release), else the newest fetched release, else the built-in one."""
    if _PREFERRED:
        return _PREFERRED[0]
    return _newest_cached(str(cache_dir())) or builtin()


def prefer(kubernetes_version: str | None) -> Schema | None:
    """Make the fetched schema of ``kubernetes_version`` the default, if it is in the cache
    (nothing is downloaded); None (and the default unchanged) otherwise. ``prefer(None)``
    forgets an earlier choice."""
    _PREFERRED.clear()
    if not kubernetes_version:
        return None
    try:
        version = _check_version(kubernetes_version.split("+", 1)[0])
    except SchemaError:
        return None
    if version not in cached_versions():
        return None
    try:
        chosen = _load_cached(str(cache_dir()), version)
    except SchemaError:
        return None
    _PREFERRED.append(chosen)
    return chosen


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


def index_roots(index_source: str) -> list[tuple[str, str]]:
    """The (repo, path) of every k8s.io/api generated.proto an index file imports."""
    roots: list[tuple[str, str]] = []
    for folder, version in _INDEX_IMPORT_RE.findall(index_source):
        root = ("api", f"{folder}/{version}/generated.proto")
        if root not in roots:
            roots.append(root)
    return roots


def fetch(
    kubernetes_version: str,
    *,
    base_url: str | None = None,
    roots: Iterable[tuple[str, str]] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download, compile and cache the official schema of one Kubernetes release.

    ``roots`` are (repo, path) pairs of generated.proto files to start from; by default
    :data:`DEFAULT_ROOTS` plus every group version the release's :data:`INDEX` names. The
    first root must exist (a 404 there means the release is unknown), later roots missing
    in that release are skipped. Returns the cache folder.
    """
    version = _check_version(kubernetes_version)
    base = _check_base_url(base_url or DEFAULT_BASE_URL)

    def url(repo: str, path: str) -> str:
        return f"{base}/kubernetes/{repo}/kubernetes-{version}/{path}"

    index_used = None
    if roots is None:
        roots = list(DEFAULT_ROOTS)
        index = _download(url(*INDEX), timeout)
        if index is not None:
            index_used = f"k8s.io/{INDEX[0]}/{INDEX[1]}"
            roots += [r for r in index_roots(index.decode("utf-8", "replace")) if r not in roots]
    roots = list(roots)

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
        folder = path.rsplit("/", 1)[0]
        for go_file in ("types.go", *EXTRA_GO_FILES.get(repo, ())):
            go_body = _download(url(repo, f"{folder}/{go_file}"), timeout)
            if pkg and go_body is not None:
                for name, mf in parse_types_go(go_body.decode("utf-8", "replace"), pkg.group(1)).items():
                    facts.setdefault(name, mf)
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
            json.dumps(
                {
                    "version": version,
                    "base_url": base,
                    "index": index_used,
                    "files": sorted(protos),
                    "skipped": skipped,
                },
                indent=1,
            )
        )
    except OSError as e:
        raise SchemaError(f"cannot write the schema cache {target}: {e}; set K8SLEARN_CACHE") from None
    _load_cached.cache_clear()
    _newest_cached.cache_clear()
    return target
