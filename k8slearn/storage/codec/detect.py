"""Recognise and decode one value as kube-apiserver stores it in etcd, and encode back.

Recognised forms, tried in this order:

* ``k8s:enc:<transformer>:v1:<key name>:...``: encrypted at rest; the provider is reported,
  nothing is decrypted (https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/;
  value prefixes are built in k8s.io/apiserver/pkg/server/options/encryptionconfig/config.go);
* ``k8s\\x00``: the protobuf envelope (envelope.py);
* ``\\xd9\\xd9\\xf7``: CBOR with the self-described tag 55799, which Kubernetes' CBOR serializer
  writes first (KEP-4222,
  https://github.com/kubernetes/enhancements/tree/master/keps/sig-api-machinery/4222-cbor-serializer);
* JSON (custom resources and anything stored with ``--storage-media-type=application/json``);
* YAML mappings;
* plain text, such as the ``compact_rev_key`` value (a decimal revision written by
  k8s.io/apiserver/pkg/storage/etcd3/compact.go).

Anything else raises :class:`DecodeError` with the reason: so do values larger than
:data:`MAX_VALUE_BYTES`, forms that are not objects (an envelope without a kind, a JSON array),
JSON that Go would refuse (NaN, Infinity, numbers beyond float64), and YAML or CBOR whose
aliases or shared references expand far beyond the input (see docs/codec.md).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from k8slearn.storage.codec.envelope import MAGIC, _unknown_class, build_envelope, split_envelope, wire_tree
from k8slearn.storage.codec.errors import DecodeError, EncodeError
from k8slearn.storage.codec.gojson import STRICT

if TYPE_CHECKING:
    from k8slearn.storage.codec.schema import Schema

ENC_PREFIX = b"k8s:enc:"
# The largest value decode() takes by default: etcd's default --max-request-bytes
# (DefaultMaxRequestBytes = 1.5 MiB in go.etcd.io/etcd/server/v3 v3.7.0 embed/config.go); a
# put larger than that is refused by etcd, so no stored value is larger unless etcd was
# started with a higher limit (pass max_bytes= then).
MAX_VALUE_BYTES = 1536 * 1024
CBOR_PREFIX = b"\xd9\xd9\xf7"
PROTOBUF = "application/vnd.kubernetes.protobuf"
MEDIA_TYPES = (PROTOBUF, "application/json", "application/yaml")


@dataclass
class Decoded:
    """One decoded value.

    ``encoding`` is one of protobuf, json, yaml, cbor, text, encrypted. ``obj`` is a dict for
    objects, a str for text, None for encrypted values. ``raw_tree`` is the field-number
    tree of a protobuf object whose type the schema does not know (else None).
    """

    encoding: str
    obj: Any
    api_version: str | None = None
    kind: str | None = None
    content_type: str | None = None
    raw_tree: list | None = None
    provider: str | None = None
    key_name: str | None = None
    size: int = 0


def _type_of(obj: Any) -> tuple[str | None, str | None]:
    if isinstance(obj, dict):
        av, kind = obj.get("apiVersion"), obj.get("kind")
        return (av if isinstance(av, str) else None), (kind if isinstance(kind, str) else None)
    return None, None


_DEFAULT: list = []


def _default_schema():
    """schema.default(), imported on first use (it compiles the .proto files once)."""
    if not _DEFAULT:
        from k8slearn.storage.codec.schema import default

        _DEFAULT.append(default)
    return _DEFAULT[0]()


def _decode_encrypted(value: bytes) -> Decoded:
    parts = value.split(b":", 5)
    provider = parts[2].decode("ascii", "replace") if len(parts) > 2 and parts[2] else None
    key_name = None
    if len(parts) > 4 and parts[3] in (b"v1", b"v2"):
        key_name = parts[4].decode("utf-8", "replace")
    if not provider:
        raise DecodeError("encrypted value without a provider name after k8s:enc:")
    return Decoded("encrypted", None, provider=provider, key_name=key_name, size=len(value))


def _decode_protobuf(value: bytes, schema) -> Decoded:
    env = split_envelope(value)
    api_version, kind, raw = env["apiVersion"], env["kind"], env["raw"]
    if env["contentEncoding"]:
        raise DecodeError(f"unsupported envelope contentEncoding {env['contentEncoding']!r}")
    if not kind:
        # Kubernetes' protobuf serializer refuses it too (runtime.NewMissingKindErr in
        # k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go)
        raise DecodeError(f"the protobuf envelope names no kind ({len(value)} bytes): not a stored object")
    content_type = env["contentType"] or None
    obj = schema.decode_object(api_version, kind, raw)
    tree = None
    if obj is None:
        tree = wire_tree(raw)
        obj = {"kind": kind, "apiVersion": api_version}
    return Decoded("protobuf", obj, api_version or None, kind or None, content_type, tree, size=len(value))


class _Budget:
    """How many values _plain may still produce: bounds what aliases and shared references
    (YAML ``*alias``, CBOR tag 29) can expand a small input to."""

    __slots__ = ("left", "limit")

    def __init__(self, limit: int):
        self.left = self.limit = limit

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise DecodeError(
                f"the value expands to more than {self.limit} elements through aliases or shared "
                "references (an alias bomb, or an alias that refers to itself)"
            )


def _plain(v: Any, budget: _Budget) -> Any:
    """CBOR/YAML data -> JSON-ready data (Kubernetes writes strings as CBOR byte strings)."""
    budget.spend()
    if isinstance(v, str) or v is None or isinstance(v, (bool, int)):
        return v
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise DecodeError(f"the value holds {v}, which JSON (and so Kubernetes) cannot represent")
        return v
    if isinstance(v, (bytes, bytearray)):
        try:
            return bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            import base64

            return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, dict) or type(v).__name__ == "frozendict":
        return {str(_plain(k, budget)): _plain(x, budget) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x, budget) for x in v]
    if hasattr(v, "value") and hasattr(v, "tag"):  # an unknown CBOR tag: keep the content
        return _plain(v.value, budget)
    if hasattr(v, "isoformat"):  # YAML/CBOR timestamps
        return v.isoformat()
    return str(v)  # CBOR undefined/simple values and other oddities: shown as text


def plain(v: Any, size: int) -> Any:
    """:func:`_plain` for a value parsed from ``size`` bytes: at most a few elements per
    input byte, no cycles, no NaN; DecodeError otherwise."""
    try:
        return _plain(v, _Budget(2 * size + 64))
    except RecursionError:
        raise DecodeError("the value is nested too deeply (or an alias refers to itself)") from None


def _decode_cbor(value: bytes) -> Decoded:
    import cbor2

    try:
        loaded = cbor2.loads(value)
    except Exception as e:
        raise DecodeError(f"invalid CBOR after the self-described tag: {e}") from None
    obj = plain(loaded, len(value))
    if not isinstance(obj, dict):
        raise DecodeError(f"the value is a CBOR {type(obj).__name__}, not an object: kube-apiserver stores objects")
    av, kind = _type_of(obj)
    return Decoded("cbor", obj, av, kind, "application/cbor", size=len(value))


def _text(value: bytes) -> str | None:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.isprintable():
        return text
    return text if text.replace("\n", "").replace("\r", "").replace("\t", "").isprintable() else None


def decode(value: bytes, *, schema: Schema | None = None, max_bytes: int | None = MAX_VALUE_BYTES) -> Decoded:
    """Decode one stored value; raises DecodeError (one-line reason) when it cannot.

    Values larger than ``max_bytes`` (default :data:`MAX_VALUE_BYTES`, etcd's default request
    limit) are refused, so time and memory stay bounded; None lifts the limit."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise DecodeError(f"expected bytes, got {type(value).__name__}")
    check_size(value, max_bytes, DecodeError)
    value = bytes(value)
    if not value:
        raise DecodeError("empty value: nothing to decode")
    if value.startswith(ENC_PREFIX):
        return _decode_encrypted(value)
    if value.startswith(MAGIC):
        if schema is None:
            schema = _default_schema()
        try:
            return _decode_protobuf(value, schema)
        except DecodeError:
            raise
        except RecursionError:
            raise DecodeError("protobuf value nested too deeply") from None
    if value.startswith(CBOR_PREFIX):
        return _decode_cbor(value)
    text = _text(value)
    if text is None:
        head = value[:8].hex(" ")
        raise DecodeError(
            f"not a Kubernetes storage value: binary data ({len(value)} bytes, starts {head}) "
            "that is neither the k8s\\x00 protobuf envelope, CBOR, nor k8s:enc: encrypted"
        )
    if text.lstrip()[:1] in ("{", "["):
        try:
            obj = load_json(text)
        except ValueError as e:
            raise DecodeError(f"looks like JSON but is not valid JSON: {e}") from None
        if not isinstance(obj, dict):
            raise DecodeError(f"the value is a JSON {type(obj).__name__}, not an object: kube-apiserver stores objects")
        av, kind = _type_of(obj)
        return Decoded("json", obj, av, kind, "application/json", size=len(value))
    if ":" in text and "\n" in text.strip() or text.lstrip().startswith(("apiVersion:", "kind:", "---")):
        import yaml

        try:
            loaded = load_yaml(text)
        except yaml.YAMLError:
            loaded = None  # not YAML after all: shown as text
        if isinstance(loaded, dict):
            obj = plain(loaded, len(value))
            av, kind = _type_of(obj)
            return Decoded("yaml", obj, av, kind, "application/yaml", size=len(value))
    return Decoded("text", text, content_type="text/plain", size=len(value))


def load_json(text: str) -> Any:
    """``json.loads`` as strict as Go's encoding/json about NaN and Infinity; ValueError
    (json.JSONDecodeError with line and column where it can) otherwise."""
    try:
        return STRICT.decode(text)
    except RecursionError:
        raise ValueError(f"nested more than about {sys.getrecursionlimit()} levels deep") from None


def load_yaml(text: str) -> Any:
    """One YAML document with PyYAML's safe loader (libyaml's parser when present);
    yaml.YAMLError when it is not YAML, DecodeError when it nests too deeply."""
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    try:
        return yaml.load(text, Loader=loader_cls)  # noqa: S506 - a safe loader
    except RecursionError:
        raise DecodeError("the YAML is nested too deeply") from None
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, OverflowError) as e:
        # PyYAML's constructors raise these for values the parser accepted, e.g. the
        # timestamp 2001-02-30, "!!int abc" or an integer of more than 4300 digits
        raise DecodeError(f"the YAML holds a value that cannot be read: {e}") from None


def check_size(value: bytes | bytearray | memoryview, max_bytes: int | None, error: type[Exception]) -> None:
    """``error`` when ``value`` is larger than ``max_bytes`` (None: no limit)."""
    if max_bytes is not None and len(value) > max_bytes:
        raise error(
            f"the value is {len(value)} bytes, larger than etcd can hold ({max_bytes} bytes, etcd's "
            "default --max-request-bytes); for an etcd started with a larger limit pass max_bytes"
        )


def parse_object(data: bytes, *, max_bytes: int | None = MAX_VALUE_BYTES) -> tuple[str, dict]:
    """(format, object) of one JSON or YAML object given to ``encode``; a stored value
    (protobuf, CBOR) is decoded. EncodeError saying where JSON or YAML text is wrong."""
    import yaml

    check_size(data, max_bytes, EncodeError)
    if data.startswith((MAGIC, CBOR_PREFIX, ENC_PREFIX)):
        try:
            d = decode(data, max_bytes=max_bytes)
        except DecodeError as e:
            raise EncodeError(str(e)) from None
        fmt, obj = d.encoding, d.obj
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise EncodeError(f"the input is not UTF-8 text (byte {e.start}) nor a stored value") from None
        if text.lstrip()[:1] in ("{", "["):
            fmt = "json"
            try:
                obj = load_json(text)
            except json.JSONDecodeError as e:
                raise EncodeError(f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
            except ValueError as e:
                raise EncodeError(f"invalid JSON: {e}") from None
        else:
            fmt = "yaml"
            try:
                loaded = load_yaml(text)
                obj = plain(loaded, len(data))
            except DecodeError as e:
                raise EncodeError(f"invalid YAML: {e}") from None
            except yaml.YAMLError as e:
                mark = getattr(e, "problem_mark", None)
                problem = getattr(e, "problem", None) or str(e).splitlines()[0]
                where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
                raise EncodeError(f"invalid YAML{where}: {problem}") from None
    if not isinstance(obj, dict):
        raise EncodeError(
            f"the input is {fmt} but not an object; give one JSON or YAML object with apiVersion and kind"
        )
    return fmt, obj


def encoding_of(value: bytes) -> str:
    """The ``encoding`` :func:`decode` would report, or "undecodable", without decoding a
    protobuf object: its envelope is checked (magic, runtime.Unknown, a kind), its object
    is not. Other forms are decoded (they are rare in etcd: JSON custom resources, text)."""
    if value.startswith(ENC_PREFIX):
        return "encrypted"
    if value.startswith(MAGIC):
        if len(value) > MAX_VALUE_BYTES:
            return "undecodable"
        try:
            msg = _unknown_class().FromString(value[len(MAGIC) :])
            kind, content_encoding = msg.typeMeta.kind, msg.contentEncoding
        except Exception:  # upb's DecodeError
            return "undecodable"
        return "protobuf" if type(kind) is str and kind and not content_encoding else "undecodable"
    try:
        return decode(value).encoding
    except DecodeError:
        return "undecodable"


def encode(obj: dict, media_type: str = PROTOBUF, *, schema: Schema | None = None) -> bytes:
    """Encode an object the way kube-apiserver stores it in the given media type."""
    try:
        return _encode(obj, media_type, schema)
    except RecursionError:
        raise EncodeError("the object is nested too deeply (or contains itself)") from None


def _encode(obj: dict, media_type: str, schema: Schema | None) -> bytes:
    if not isinstance(obj, dict):
        raise EncodeError(f"expected an object (dict), got {type(obj).__name__}")
    base = media_type.split(";", 1)[0].strip()
    if base == PROTOBUF:
        if schema is None:
            schema = _default_schema()
        api_version, kind, raw = schema.encode_object(obj)
        return build_envelope(api_version, kind, raw)
    if base == "application/json":
        from k8slearn.storage.codec.pb import go_json_dumps

        try:
            return (go_json_dumps(obj) + "\n").encode("utf-8")
        except (TypeError, ValueError) as e:
            raise EncodeError(f"cannot encode as JSON: {e}") from None
    if base in ("application/yaml", "application/x-yaml"):
        import yaml

        try:
            return yaml.safe_dump(obj, default_flow_style=False, sort_keys=True, allow_unicode=True).encode("utf-8")
        except yaml.YAMLError as e:
            raise EncodeError(f"cannot encode as YAML: {e}") from None
    raise EncodeError(f"unsupported media type {media_type!r}; use one of {', '.join(MEDIA_TYPES)}")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _go_string(o):
    # A protobuf string holding invalid UTF-8 decodes as bytes; Go's encoding/json writes such
    # a string with U+FFFD in place of each invalid byte, and so do we.
    if isinstance(o, (bytes, bytearray)):
        return bytes(o).decode("utf-8", "replace")
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """`obj` (a decoded object) as JSON text, the way Go would write its strings; DecodeError
    for what JSON cannot hold (NaN, infinities, an object that contains itself)."""
    try:
        if indent is None:
            text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=_go_string, allow_nan=False)
        else:
            text = json.dumps(obj, indent=indent, ensure_ascii=False, default=_go_string, allow_nan=False)
        if not text.isascii():
            # a lone surrogate ("\ud800" in JSON) cannot be written as UTF-8: Go's
            # encoding/json reads it as U+FFFD, and so do we
            text = _LONE_SURROGATE.sub("\ufffd", text)
        return text
    except ValueError as e:
        raise DecodeError(f"the object cannot be written as JSON: {e}") from None
    except RecursionError:
        raise DecodeError("the object is nested too deeply to be written as JSON") from None
