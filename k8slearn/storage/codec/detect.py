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

Anything else raises :class:`DecodeError` with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from k8slearn.storage.codec.envelope import MAGIC, build_envelope, split_envelope, wire_tree
from k8slearn.storage.codec.errors import DecodeError, EncodeError

if TYPE_CHECKING:
    from k8slearn.storage.codec.schema import Schema

ENC_PREFIX = b"k8s:enc:"
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
    content_type = env["contentType"] or None
    obj = schema.decode_object(api_version, kind, raw)
    tree = None
    if obj is None:
        tree = wire_tree(raw)
        obj = {"kind": kind, "apiVersion": api_version}
    return Decoded("protobuf", obj, api_version or None, kind or None, content_type, tree, size=len(value))


def _plain(v: Any) -> Any:
    """CBOR data -> JSON-ready data (Kubernetes writes strings as CBOR byte strings)."""
    if isinstance(v, (bytes, bytearray)):
        try:
            return bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            import base64

            return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, dict) or type(v).__name__ == "frozendict":
        return {str(_plain(k)): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "value") and hasattr(v, "tag"):  # an unknown CBOR tag: keep the content
        return _plain(v.value)
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    if hasattr(v, "isoformat"):  # YAML/CBOR timestamps
        return v.isoformat()
    return str(v)  # CBOR undefined/simple values and other oddities: shown as text


def _decode_cbor(value: bytes) -> Decoded:
    import cbor2

    try:
        obj = _plain(cbor2.loads(value))
    except Exception as e:
        raise DecodeError(f"invalid CBOR after the self-described tag: {e}") from None
    av, kind = _type_of(obj)
    return Decoded("cbor", obj, av, kind, "application/cbor", size=len(value))


def _text(value: bytes) -> str | None:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if all(c.isprintable() or c in "\t\r\n" for c in text) else None


def decode(value: bytes, *, schema: Schema | None = None) -> Decoded:
    """Decode one stored value; raises DecodeError (one-line reason) when it cannot."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise DecodeError(f"expected bytes, got {type(value).__name__}")
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
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            obj = json.loads(text)
        except ValueError as e:
            raise DecodeError(f"looks like JSON but is not valid JSON: {e}") from None
        av, kind = _type_of(obj)
        return Decoded("json", obj, av, kind, "application/json", size=len(value))
    if ":" in text and "\n" in text.strip() or text.lstrip().startswith(("apiVersion:", "kind:", "---")):
        import yaml

        try:
            obj = yaml.safe_load(text)
        except yaml.YAMLError:
            obj = None
        except RecursionError:
            obj = None
        if isinstance(obj, dict):
            obj = _plain(obj)
            av, kind = _type_of(obj)
            return Decoded("yaml", obj, av, kind, "application/yaml", size=len(value))
    return Decoded("text", text, content_type="text/plain", size=len(value))


def encode(obj: dict, media_type: str = PROTOBUF, *, schema: Schema | None = None) -> bytes:
    """Encode an object the way kube-apiserver stores it in the given media type."""
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


def _go_string(o):
    # A protobuf string holding invalid UTF-8 decodes as bytes; Go's encoding/json writes such
    # a string with U+FFFD in place of each invalid byte, and so do we.
    if isinstance(o, (bytes, bytearray)):
        return bytes(o).decode("utf-8", "replace")
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """`obj` (a decoded object) as JSON text, the way Go would write its strings."""
    if indent is None:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=_go_string)
    return json.dumps(obj, indent=indent, ensure_ascii=False, default=_go_string)
