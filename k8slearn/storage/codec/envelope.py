"""The protobuf storage envelope, byte-range annotation and a schema-less wire view.

kube-apiserver writes protobuf objects as the 4 magic bytes ``k8s\\x00`` followed by a
``runtime.Unknown`` message: typeMeta (1: apiVersion=1, kind=2), raw (2, the object's
own message), contentEncoding (3), contentType (4). Sources:
https://github.com/kubernetes/apimachinery/blob/master/pkg/runtime/serializer/protobuf/protobuf.go
(``protoEncodingPrefix = []byte{0x6b, 0x38, 0x73, 0x00}``) and
https://github.com/kubernetes/apimachinery/blob/master/pkg/runtime/generated.proto.

:func:`wire_tree` is the fallback view of messages for which no schema is known: a tree of
field numbers and wire types, so that nothing stored is ever hidden. It is not used where a
schema exists (that path goes through the protobuf runtime, see pb.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from k8slearn.storage.codec.errors import DecodeError

MAGIC = b"k8s\x00"
_WIRE_NAMES = {0: "varint", 1: "fixed64", 2: "bytes", 5: "fixed32"}
_MAX_DEPTH = 32


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise DecodeError(f"truncated varint at byte {pos}")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise DecodeError(f"varint too long at byte {pos}")


def iter_fields(buf: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, int, int, int, int]]:
    """Yield (field number, wire type, tag start, value start, value end, varint value)."""
    end = len(buf) if end is None else end
    pos = start
    while pos < end:
        tag_start = pos
        tag, pos = _varint(buf, pos, end)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise DecodeError(f"field number 0 at byte {tag_start}")
        if wire == 0:
            value, vend = _varint(buf, pos, end)
            yield number, wire, tag_start, pos, vend, value
            pos = vend
        elif wire == 1 or wire == 5:
            size = 8 if wire == 1 else 4
            if pos + size > end:
                raise DecodeError(f"truncated fixed{size * 8} at byte {pos}")
            yield number, wire, tag_start, pos, pos + size, int.from_bytes(buf[pos : pos + size], "little")
            pos += size
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise DecodeError(f"length {length} at byte {tag_start} runs past the end ({end})")
            yield number, wire, tag_start, pos, pos + length, length
            pos += length
        else:
            raise DecodeError(f"unsupported wire type {wire} at byte {tag_start}")


_UNKNOWN: list = []


def _unknown_class():
    if not _UNKNOWN:
        from k8slearn.storage.codec.schema import builtin

        schema = builtin()
        _UNKNOWN.append(
            schema.message_class(schema.pool.FindMessageTypeByName("k8s.io.apimachinery.pkg.runtime.Unknown"))
        )
    return _UNKNOWN[0]


def split_envelope(value: bytes) -> dict[str, Any]:
    """Parse the envelope with the protobuf runtime (our runtime.Unknown message)."""
    if not value.startswith(MAGIC):
        raise DecodeError("not a protobuf envelope: the value does not start with k8s\\x00")
    cls = _unknown_class()
    try:
        msg = cls.FromString(value[len(MAGIC) :])
        env = {
            "apiVersion": msg.typeMeta.apiVersion,
            "kind": msg.typeMeta.kind,
            "raw": msg.raw,
            "contentEncoding": msg.contentEncoding,
            "contentType": msg.contentType,
        }
    except Exception as e:
        raise DecodeError(f"invalid protobuf envelope after k8s\\x00: {e}") from None
    for field in ("apiVersion", "kind", "contentEncoding", "contentType"):
        if isinstance(env[field], bytes):  # proto2 strings with invalid UTF-8 come back as bytes
            raise DecodeError(f"invalid protobuf envelope: {field} is not valid UTF-8 ({env[field][:40]!r})")
    return env


def build_envelope(
    api_version: str, kind: str, raw: bytes, content_type: str = "", content_encoding: str = ""
) -> bytes:
    """The exact bytes Kubernetes' protobuf serializer writes around ``raw``."""
    msg = _unknown_class()()
    msg.typeMeta.apiVersion = api_version
    msg.typeMeta.kind = kind
    msg.raw = raw  # gogo writes raw whenever it is non-nil; the serializer always sets it
    msg.contentEncoding = content_encoding
    msg.contentType = content_type
    return MAGIC + msg.SerializeToString(deterministic=True)


def annotate_envelope(value: bytes) -> list[tuple[int, int, str]]:
    """(start, end, label) byte ranges of a protobuf envelope, in byte order."""
    if not value.startswith(MAGIC):
        raise DecodeError("not a protobuf envelope: the value does not start with k8s\\x00")
    ranges: list[tuple[int, int, str]] = [(0, 4, "magic 'k8s\\0'")]
    names = {1: "typeMeta", 2: "raw", 3: "contentEncoding", 4: "contentType"}
    kind = "object"
    for number, wire, tag_start, vstart, vend, _ in iter_fields(value, len(MAGIC)):
        name = names.get(number, f"field {number}")
        if number == 1 and wire == 2:
            ranges.append((tag_start, vstart, "typeMeta (field 1) header"))
            for n2, w2, t2, s2, e2, _ in iter_fields(value, vstart, vend):
                sub = {1: "apiVersion", 2: "kind"}.get(n2, f"field {n2}")
                text = value[s2:e2].decode("utf-8", "replace") if w2 == 2 else ""
                if n2 == 2:
                    kind = text
                ranges.append((t2, s2, f"typeMeta.{sub} header"))
                ranges.append((s2, e2, f"typeMeta.{sub} = {text!r}"))
        elif wire == 2:
            ranges.append((tag_start, vstart, f"{name} (field {number}) header, {vend - vstart} bytes"))
            if number == 2:
                ranges.append((vstart, vend, f"raw: the {kind} message ({vend - vstart} bytes)"))
            elif vend > vstart:
                ranges.append((vstart, vend, f"{name} = {value[vstart:vend].decode('utf-8', 'replace')!r}"))
            else:
                ranges[-1] = (tag_start, vstart, f"{name} (field {number}) = '' (empty)")
        else:
            ranges.append((tag_start, vend, f"{name} (field {number}, {_WIRE_NAMES.get(wire, wire)})"))
    return ranges


def hexdump(value: bytes, ranges: Iterable[tuple[int, int, str]] | None = None, width: int = 16) -> str:
    """Text hex view; each line lists the labels of ranges starting on it."""
    if width <= 0:
        raise ValueError("width must be positive")
    ranges = sorted(ranges or [], key=lambda r: (r[0], r[1]))
    lines = []
    ri = 0
    for off in range(0, max(len(value), 1), width):
        chunk = value[off : off + width]
        hexpart = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk).ljust(width)
        labels = []
        while ri < len(ranges) and ranges[ri][0] < off + width:
            s, e, label = ranges[ri]
            labels.append(f"[{s}:{e}] {label}")
            ri += 1
        line = f"{off:08x}  {hexpart}  |{text}|"
        if labels:
            line += "  " + "; ".join(labels)
        lines.append(line.rstrip())
        if not value:
            break
    return "\n".join(lines)


def wire_tree(buf: bytes, depth: int = 0) -> list[dict[str, Any]]:
    """Schema-less view: [{"field": n, "wire": "varint"|"fixed64"|"fixed32"|"bytes", "value": ...}].

    Length-delimited values are shown as a nested tree when they parse as a message, else
    as text when they are printable UTF-8, else as hex.
    """
    out = []
    for number, wire, _, vstart, vend, value in iter_fields(buf):
        node: dict[str, Any] = {"field": number, "wire": _WIRE_NAMES[wire]}
        if wire != 2:
            node["value"] = value
        else:
            chunk = buf[vstart:vend]
            node["value"] = _bytes_view(chunk, depth)
        out.append(node)
    return out


def _bytes_view(chunk: bytes, depth: int) -> Any:
    text = None
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if text is not None and text.isprintable():
        return text
    if depth < _MAX_DEPTH and chunk:
        try:
            return wire_tree(chunk, depth + 1)
        except DecodeError:
            pass
    return text if text is not None else chunk.hex()
