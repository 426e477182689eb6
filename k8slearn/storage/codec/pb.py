"""Protobuf message <-> Kubernetes JSON, one precompiled converter per message type.

Parsing and serialising is done by the ``protobuf`` runtime (upb); this module only turns
parsed messages into the dicts Kubernetes' JSON would give and back. For each message type
it builds, once, a decoder (a generated Python function that reads the fields in Go order)
and an encoder (one small closure per field).

Go semantics reproduced here (see jsonnames.py for where the facts come from):

* decode: omitempty zero values are dropped; non-omitempty nil slices/maps/pointers give
  ``null``; non-pointer structs are always written (Go's omitempty never omits a struct);
  map keys are sorted (encoding/json sorts them); bytes are base64.
* encode: like gogo-protobuf's generated Marshal, non-pointer scalars and structs are
  always written (even when empty), pointers only when set, map entries in key order.

Custom types (by full proto name): Time, MicroTime, Duration, FieldsV1, IntOrString,
Quantity, RawExtension.
"""

from __future__ import annotations

import base64
import binascii
import json
import json.decoder
import json.scanner
import keyword
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from google.protobuf.descriptor import FieldDescriptor

from k8slearn.storage.codec import gotime
from k8slearn.storage.codec.errors import DecodeError, EncodeError
from k8slearn.storage.codec.gojson import STRICT
from k8slearn.storage.codec.jsonnames import GoField, MessageFacts

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor
    from google.protobuf.message import Message

META = "k8s.io.apimachinery.pkg.apis.meta.v1."
TIME = META + "Time"
MICROTIME = META + "MicroTime"
DURATION = META + "Duration"
FIELDSV1 = META + "FieldsV1"
INTSTR = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
RAWEXT = "k8s.io.apimachinery.pkg.runtime.RawExtension"

_T = FieldDescriptor
_BYTES = _T.TYPE_BYTES
_MESSAGE = _T.TYPE_MESSAGE
_ZERO = {
    _T.TYPE_STRING: "",
    _T.TYPE_BOOL: False,
    _T.TYPE_DOUBLE: 0.0,
    _T.TYPE_FLOAT: 0.0,
}

_b64 = base64.b64encode


def _bytes_to_json(v: bytes) -> str:
    return _b64(v).decode("ascii")


def go_json_dumps(value: Any) -> str:
    """Compact JSON as Go's encoding/json writes it (HTML-safe escapes, UTF-8 kept)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
        text = (
            text.replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
            .replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")
        )
    return text


# json.loads(raw) without its Python layers, for the common case of an object: the C
# scanner json.loads ends up calling, plus the trailing-whitespace check of JSONDecoder.decode
# (CPython Lib/json/__init__.py and Lib/json/decoder.py).
_scan_once = json.scanner.make_scanner(STRICT)  # type: ignore[arg-type]  # typeshed: context is a scanner
_trailing_ws = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]  # a module constant typeshed leaves out


def _embedded_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        if raw[0] == 0x7B and raw[1:2] != b"\x00":
            # Starts with "{" and no NUL second byte: json.detect_encoding would pick UTF-8.
            text = raw.decode("utf-8", "surrogatepass")
            try:
                obj, end = _scan_once(text, 0)
            except StopIteration:
                raise ValueError("Expecting value") from None
            if end != len(text) and _trailing_ws(text, end).end() != len(text):
                raise ValueError("Extra data")
            return obj
        return STRICT.decode(raw.decode("utf-8", "surrogatepass") if isinstance(raw, bytes) else raw)
    except (ValueError, RecursionError):
        # Not JSON (for example a protobuf RawExtension): show the bytes, base64 like Go.
        return _bytes_to_json(raw)


# ---------------------------------------------------------------------------------------
# decoding of the custom types: message -> JSON value


def _dec_time(m) -> Any:
    if not m.ByteSize():
        return None
    return gotime.format_time(m.seconds)


def _dec_microtime(m) -> Any:
    if not m.ByteSize():
        return None
    return gotime.format_micro_time(m.seconds, m.nanos)


def _dec_duration(m) -> str:
    return gotime.format_duration(m.duration)


def _dec_intstr(m) -> Any:
    return m.strVal if m.type == 1 else m.intVal


def _dec_quantity(m) -> str:
    return m.string or "0"


def _dec_fieldsv1(m) -> Any:
    return _embedded_json(m.Raw)


def _dec_rawext(m) -> Any:
    return _embedded_json(m.raw)


_SPECIAL_DEC: dict[str, Callable] = {
    TIME: _dec_time,
    MICROTIME: _dec_microtime,
    DURATION: _dec_duration,
    INTSTR: _dec_intstr,
    QUANTITY: _dec_quantity,
    FIELDSV1: _dec_fieldsv1,
    RAWEXT: _dec_rawext,
}

# JSON value of a non-pointer custom-typed field that is absent from the wire (Go zero value).
_SPECIAL_ZERO = {TIME: None, MICROTIME: None, DURATION: "0s", INTSTR: 0, QUANTITY: "0", FIELDSV1: None, RAWEXT: None}


# ---------------------------------------------------------------------------------------
# encoding of the custom types: JSON value -> message (fills `m` in place)


def _enc_time(v, m) -> None:
    m.SetInParent()
    if v is None:
        return
    if not isinstance(v, str):
        raise EncodeError(f"a Time must be an RFC 3339 string, not {v!r}")
    try:
        seconds, nanos = gotime.parse_time(v)
    except ValueError as e:
        raise EncodeError(str(e)) from None
    m.seconds = seconds
    m.nanos = nanos


_enc_microtime = _enc_time


def _enc_duration(v, m) -> None:
    if not isinstance(v, str):
        raise EncodeError(f"a Duration must be a Go duration string like '1m30s', not {v!r}")
    try:
        m.duration = gotime.parse_duration(v)
    except ValueError as e:
        raise EncodeError(str(e)) from None


def _enc_intstr(v, m) -> None:
    if v is None:  # absent in JSON: Go's zero IntOrString (type Int, 0), which gogo-protobuf writes
        m.type, m.intVal, m.strVal = 0, 0, ""
        return
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise EncodeError(f"an IntOrString must be an int or a string, not {v!r}")
    if isinstance(v, int):
        m.type, m.intVal, m.strVal = 0, v, ""
    else:
        m.type, m.intVal, m.strVal = 1, 0, v


def _enc_quantity(v, m) -> None:
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise EncodeError(f"a Quantity must be a string like '100m', not {v!r}")
    m.string = v if isinstance(v, str) else str(v)


def _enc_fieldsv1(v, m) -> None:
    m.SetInParent()
    if v is not None:
        m.Raw = go_json_dumps(v).encode()


def _enc_rawext(v, m) -> None:
    m.SetInParent()
    if v is not None:
        m.raw = go_json_dumps(v).encode()


_SPECIAL_ENC: dict[str, Callable] = {
    TIME: _enc_time,
    MICROTIME: _enc_microtime,
    DURATION: _enc_duration,
    INTSTR: _enc_intstr,
    QUANTITY: _enc_quantity,
    FIELDSV1: _enc_fieldsv1,
    RAWEXT: _enc_rawext,
}


def _sorted_keys(v) -> list:
    """A map's keys in Go's order; [b""] when some key is not valid UTF-8 (upb gives those as
    bytes, and bytes and str do not sort together): _odd_map then takes over."""
    try:
        return sorted(v)
    except TypeError:
        return [b""]


def _odd_map(m, fd, conv: Callable | None) -> dict:
    """Map field ``fd`` of ``m`` when some key is not valid UTF-8, as Go's encoding/json
    writes it: sorted by the raw bytes, each invalid byte shown as U+FFFD. upb cannot look
    such a key up, so the entries are read back from the message's wire bytes."""
    from google.protobuf import message_factory

    from k8slearn.storage.codec.envelope import iter_fields

    raw = m.SerializeToString()
    entries: dict[bytes, tuple[int, int, int, int] | None] = {}
    for number, wire, _, start, end, _ in iter_fields(raw):
        if number != fd.number or wire != 2:
            continue
        key, val = b"", None
        for n2, w2, _, s2, e2, varint in iter_fields(raw, start, end):
            if n2 == 1 and w2 == 2:
                key = raw[s2:e2]
            elif n2 == 2:
                val = (w2, s2, e2, varint)
        entries[key] = val  # a repeated key: the last entry wins, as protobuf parsers do
    vfd = fd.message_type.fields_by_name["value"]
    out: dict[str, Any] = {}
    for key in sorted(entries):
        val = entries[key]
        if vfd.type == _MESSAGE:
            cls = message_factory.GetMessageClass(vfd.message_type)
            body = raw[val[1] : val[2]] if val is not None and val[0] == 2 else b""
            try:
                parsed = cls.FromString(body)
            except Exception as e:  # upb's own DecodeError
                raise DecodeError(f"invalid {vfd.message_type.full_name} in map {fd.name}: {e}") from None
            shown = conv(parsed) if conv is not None else parsed
        elif vfd.type in (_T.TYPE_STRING, _BYTES):
            data = raw[val[1] : val[2]] if val is not None and val[0] == 2 else b""
            shown = _bytes_to_json(data) if vfd.type == _BYTES else data.decode("utf-8", "replace")
        elif val is not None and val[0] == 0:
            shown = val[3] - (1 << 64) if val[3] >= 1 << 63 else val[3]
            if vfd.type == _T.TYPE_BOOL:
                shown = bool(shown)
        else:
            shown = _ZERO.get(vfd.type, 0)
        out[key.decode("utf-8", "replace")] = shown
    return out


def _is_map(fd) -> bool:
    mt = fd.message_type
    return mt is not None and mt.GetOptions().map_entry


def _is_inline(fd, gf: GoField) -> bool:
    """An embedded Go struct (``json:",inline"``): its keys go into the parent object."""
    return gf.inline and fd.message_type is not None and not fd.is_repeated


def _merge_inline(out: dict, sub: Any, own: frozenset) -> None:
    if isinstance(sub, dict):
        for k, v in sub.items():
            if k not in own and k not in out:
                out[k] = v


class Converters:
    """Per-message-type decode/encode closures for one descriptor pool + facts table."""

    def __init__(self, classes: Callable[[Any], type], facts: dict[str, MessageFacts]):
        self._class_of = classes  # descriptor -> message class
        self._facts = facts
        self._dec: dict[str, Callable] = {}
        self._enc: dict[str, Callable] = {}
        self._orders: dict[str, list[str]] = {}

    # -- facts ---------------------------------------------------------------------------
    def facts_for(self, desc: Descriptor) -> tuple[list[tuple[Any, GoField]], bool]:
        """(descriptor field, Go facts) pairs in Go order, and whether it is a list wrapper."""
        mf = self._facts.get(desc.full_name)
        by_name = desc.fields_by_name
        pairs: list[tuple[Any, GoField]] = []
        seen = set()
        if mf is not None:
            for gf in mf.fields:
                fd = by_name.get(gf.proto_name)
                if fd is not None and fd.name not in seen:
                    pairs.append((fd, gf))
                    seen.add(fd.name)
        for fd in desc.fields:  # fields the Go facts do not mention: presence-based defaults
            if fd.name not in seen:
                pairs.append((fd, GoField(fd.name, fd.name, omitempty=True, pointer=True)))
        wrapper = bool(mf and mf.list_wrapper and len(desc.fields) == 1 and desc.fields[0].is_repeated)
        return pairs, wrapper

    def json_order(self, desc: Descriptor) -> list[str]:
        """The JSON field names of ``desc`` in Go's order, inlined structs' fields included."""
        name = desc.full_name
        if name in self._orders:
            return self._orders[name]
        self._orders[name] = []  # guards recursion through inline cycles
        order: list[str] = []
        for fd, gf in self.facts_for(desc)[0]:
            if _is_inline(fd, gf):
                order.extend(k for k in self.json_order(fd.message_type) if k not in order)
            elif gf.json_name not in order:
                order.append(gf.json_name)
        self._orders[name] = order
        return order

    # -- decoding ------------------------------------------------------------------------
    def _memoized(self, table: dict, specials: dict, desc, build: Callable) -> Callable:
        """The converter for `desc` from `table`, building it once; recursive types (a message
        that contains itself, e.g. JSONSchemaProps) see a trampoline while they are built."""
        name = desc.full_name
        fn = table.get(name)
        if fn is not None:
            return fn
        special = specials.get(name)
        if special is not None:
            table[name] = special
            return special
        cell: list[Callable] = []
        table[name] = lambda *args: cell[0](*args)
        fn = build(desc)
        cell.append(fn)
        table[name] = fn
        return fn

    def decoder(self, desc: Descriptor) -> Callable:
        """The converter from a ``desc`` message to Kubernetes JSON (built once)."""
        return self._memoized(self._dec, _SPECIAL_DEC, desc, self._build_decoder)

    def _value_decoder(self, fd) -> Callable | None:
        """Converter for one element/value of this field; None means 'use as is'."""
        if fd.type == _MESSAGE:
            return self.decoder(fd.message_type)
        if fd.type == _BYTES:
            return _bytes_to_json
        return None

    def _build_decoder(self, desc) -> Callable:
        pairs, wrapper = self.facts_for(desc)
        if wrapper:
            fd = desc.fields[0]
            conv = self._value_decoder(fd)
            if conv is None:
                return lambda m: list(getattr(m, fd.name)) or None
            return lambda m: [conv(x) for x in getattr(m, fd.name)] or None
        return self._generated_decoder(desc, pairs)

    def _generated_decoder(self, desc, pairs) -> Callable:
        """One straight-line Python function for this message type.

        The generated code reads each field by attribute in Go order, so the dict comes
        out in JSON key order with no reorder pass. An absent field gives what Go writes
        for its zero value. An inline struct's keys are merged where it stands; as in Go's
        encoding/json, a key of the message's own fields wins over an inline one.
        """
        env: dict[str, Any] = {
            "_sorted": _sorted_keys,
            "_odd_map": _odd_map,
            "_list": list,
            "_map": map,
            "_fmt_time": gotime.format_time,
            "_dec_time": _dec_time,
            "_embedded_json": _embedded_json,
            "_merge": _merge_inline,
            "_own": frozenset(gf.json_name for fd, gf in pairs if not _is_inline(fd, gf)),
        }
        lines = ["def decode(m):", "    out = {}"]
        add = lines.append
        for i, (fd, gf) in enumerate(pairs):
            key = repr(gf.json_name)
            name = fd.name
            get = f"m.{name}" if name.isidentifier() and not keyword.iskeyword(name) else f"getattr(m, {name!r})"
            has = f"m.HasField({name!r})"
            null_if_absent = "" if gf.omitempty else f"\n    else:\n        out[{key}] = None"
            c = f"_c{i}"
            if _is_inline(fd, gf):
                env[c] = self.decoder(fd.message_type)
                merge = f"_merge(out, {c}({get}), _own)"
                add(f"    if {has}:\n        {merge}" if gf.pointer else f"    {merge}")
            elif _is_map(fd):
                vconv = self._value_decoder(fd.message_type.fields_by_name["value"])
                env[c] = vconv
                env[f"_fd{i}"] = fd
                val = "{k: v[k] for k in ks}" if vconv is None else f"{{k: {c}(v[k]) for k in ks}}"
                add(
                    f"    v = {get}\n    if v:\n        ks = _sorted(v)\n"
                    f"        if type(ks[0]) is str:\n            out[{key}] = {val}\n"
                    f"        else:\n            out[{key}] = _odd_map(m, _fd{i}, {c}){null_if_absent}"
                )
            elif fd.is_repeated:
                conv = self._value_decoder(fd)
                env[c] = conv
                val = "_list(v)" if conv is None else f"_list(_map({c}, v))"
                add(f"    v = {get}\n    if v:\n        out[{key}] = {val}{null_if_absent}")
            elif fd.type == _MESSAGE:
                mt = fd.message_type
                conv = self.decoder(mt)
                env[c] = conv
                if mt.full_name == TIME:  # inlined _dec_time for the common non-zero case
                    val = "_fmt_time(s) if (s := v.seconds) else _dec_time(v)"
                elif mt.full_name == FIELDSV1:  # inlined _dec_fieldsv1
                    val = "_embedded_json(v.Raw)"
                else:
                    val = f"{c}(v)"
                if gf.pointer:
                    add(f"    if {has}:\n        v = {get}\n        out[{key}] = {val}{null_if_absent}")
                else:
                    mf = self._facts.get(mt.full_name)
                    if (
                        mf is not None
                        and mf.list_wrapper
                        and mt.full_name not in _SPECIAL_ZERO
                        and not (len(mt.fields) == 1 and mt.fields[0].is_repeated)
                    ):
                        # facts say "slice" but the message is not a wrapper: absent is null
                        add(
                            f"    if {has}:\n        v = {get}\n        out[{key}] = {val}\n"
                            f"    else:\n        out[{key}] = None"
                        )
                    else:
                        # absent non-pointer struct: Go writes its zero value, which is what
                        # converting the (empty) default instance gives
                        add(f"    v = {get}\n    out[{key}] = {val}")
            else:
                conv = self._value_decoder(fd)  # None, or base64 for bytes
                env[c] = conv
                val = "v" if conv is None else f"{c}(v)"
                zero = b"" if fd.type == _BYTES else _ZERO.get(fd.type, 0)
                if fd.default_value != zero:  # proto2 default (or first enum value): absent is Go's zero
                    env[f"_z{i}"] = zero
                    get = f"({get} if {has} else _z{i})"
                if gf.pointer:
                    add(f"    v = {get}\n    if v or {has}:\n        out[{key}] = {val}{null_if_absent}")
                elif not gf.omitempty:
                    if conv is None:  # absent reads as the zero value, which Go writes
                        add(f"    out[{key}] = {get}")
                    else:  # a nil []byte is null
                        add(f"    v = {get}\n    if v or {has}:\n        out[{key}] = {val}{null_if_absent}")
                else:
                    add(f"    v = {get}\n    if v:\n        out[{key}] = {val}")
        add("    return out")
        source = "\n".join(lines) + "\n"
        exec(compile(source, f"<k8slearn.storage.codec decoder {desc.full_name}>", "exec"), env)
        fn = env["decode"]
        fn.__qualname__ = fn.__name__ = "decode_" + desc.name
        fn.source = source  # for debugging: print(schema.converters.decoder(desc).source)
        return fn

    # -- encoding ------------------------------------------------------------------------
    def encoder(self, desc: Descriptor) -> Callable:
        """The converter filling a ``desc`` message from Kubernetes JSON (built once)."""
        return self._memoized(self._enc, _SPECIAL_ENC, desc, self._build_encoder)

    def _value_encoder(self, fd) -> Callable:
        """Returns f(json_value) -> python value for scalar fields."""
        t = fd.type
        where = f"{fd.containing_type.full_name}.{fd.name}"
        if t == _BYTES:

            def f(v):
                if not isinstance(v, str):
                    raise EncodeError(f"{where}: bytes must be a base64 string, not {type(v).__name__}")
                try:
                    return base64.b64decode(v, validate=True)
                except binascii.Error:
                    raise EncodeError(f"{where}: {v[:20]!r} is not valid base64") from None

            return f
        if t == _T.TYPE_STRING:

            def f(v):
                if not isinstance(v, str):
                    raise EncodeError(f"{where}: expected a string, got {type(v).__name__}")
                return v

            return f
        if t == _T.TYPE_BOOL:

            def f(v):
                if not isinstance(v, bool):
                    raise EncodeError(f"{where}: expected true/false, got {v!r}")
                return v

            return f
        if t in (_T.TYPE_DOUBLE, _T.TYPE_FLOAT):

            def f(v):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise EncodeError(f"{where}: expected a number, got {v!r}")
                return float(v)

            return f

        def to_int(v):
            if isinstance(v, bool) or not isinstance(v, int):
                if isinstance(v, float) and v.is_integer():
                    return int(v)
                raise EncodeError(f"{where}: expected an integer, got {v!r}")
            return v

        return to_int

    def _build_encoder(self, desc) -> Callable:
        pairs, wrapper = self.facts_for(desc)
        if wrapper:
            fd = desc.fields[0]
            sub = self.encoder(fd.message_type) if fd.type == _MESSAGE else None
            venc = None if sub else self._value_encoder(fd)

            def encode_wrapper(v, m):
                m.SetInParent()
                if v is None:
                    return
                if not isinstance(v, list):
                    raise EncodeError(f"{desc.full_name} must be a list, not {type(v).__name__}")
                target = getattr(m, fd.name)
                if sub:
                    for x in v:
                        sub(x, target.add())
                else:
                    assert venc is not None  # built above whenever sub is None
                    target.extend(venc(x) for x in v)

            return encode_wrapper

        steps = []
        known: set[str] = set()
        for fd, gf in pairs:
            steps.append(self._field_encoder(fd, gf))
            if _is_inline(fd, gf):
                known.update(self.json_order(fd.message_type))
            else:
                known.add(gf.json_name)
        steps_t = tuple(steps)
        known_f = frozenset(known)
        full = desc.full_name

        def encode_message(v, m):
            if v is None:
                v = {}
            elif not isinstance(v, dict):
                raise EncodeError(f"{full} must be an object, not {type(v).__name__}")
            m.SetInParent()
            for step in steps_t:
                step(v, m)
            extra = v.keys() - known_f
            if extra:
                raise EncodeError(f"{full} has no field {sorted(extra)[0]!r}; remove it or use a schema that knows it")

        return encode_message

    def _field_encoder(self, fd, gf: GoField) -> Callable:
        key = gf.json_name
        name = fd.name
        where = f"{fd.containing_type.full_name}.{key}"
        if _is_map(fd):
            vfd = fd.message_type.fields_by_name["value"]
            if vfd.type == _MESSAGE:
                sub = self.encoder(vfd.message_type)

                def step(d, m):
                    v = d.get(key)
                    if v is None:
                        return
                    if not isinstance(v, dict):
                        raise EncodeError(f"{where} must be an object")
                    target = getattr(m, name)
                    for k, x in v.items():
                        sub(x, target[k])
            else:
                venc = self._value_encoder(vfd)

                def step(d, m):
                    v = d.get(key)
                    if v is None:
                        return
                    if not isinstance(v, dict):
                        raise EncodeError(f"{where} must be an object")
                    target = getattr(m, name)
                    for k, x in v.items():
                        target[k] = venc(x)

            return step
        if fd.is_repeated:
            if fd.type == _MESSAGE:
                sub = self.encoder(fd.message_type)

                def step(d, m):
                    v = d.get(key)
                    if v is None:
                        return
                    if not isinstance(v, list):
                        raise EncodeError(f"{where} must be a list")
                    target = getattr(m, name)
                    for x in v:
                        sub(x, target.add())
            else:
                venc = self._value_encoder(fd)

                def step(d, m):
                    v = d.get(key)
                    if v is None:
                        return
                    if not isinstance(v, list):
                        raise EncodeError(f"{where} must be a list")
                    getattr(m, name).extend([venc(x) for x in v])

            return step
        if fd.type == _MESSAGE:
            sub = self.encoder(fd.message_type)
            if gf.inline:

                def step(d, m):
                    sub({k: d[k] for k in self.json_order(fd.message_type) if k in d}, getattr(m, name))

                return step
            pointer = gf.pointer

            def step(d, m):
                v = d.get(key)
                if v is None and pointer:
                    return
                sub(v, getattr(m, name))

            return step
        venc = self._value_encoder(fd)
        if gf.pointer:

            def step(d, m):
                v = d.get(key)
                if v is not None:
                    setattr(m, name, venc(v))

            return step
        if fd.type == _BYTES:

            def step(d, m):  # gogo writes a []byte whenever it is non-nil
                v = d.get(key)
                if v is not None:
                    setattr(m, name, venc(v))

            return step
        zero = _ZERO.get(fd.type, 0)

        def step_scalar(d, m):
            v = d.get(key)
            setattr(m, name, zero if v is None else venc(v))

        return step_scalar


def decode_message(converters: Converters, cls: type[Message], raw: bytes) -> Any:
    """Parse ``raw`` as ``cls`` and convert it to Kubernetes JSON (DecodeError on failure)."""
    try:
        msg = cls.FromString(raw)
    except Exception as e:  # upb raises DecodeError of its own; keep ours
        raise DecodeError(f"invalid {cls.DESCRIPTOR.full_name} protobuf: {e}") from None
    try:
        return converters.decoder(cls.DESCRIPTOR)(msg)
    except DecodeError:
        raise
    except (ValueError, UnicodeError, OverflowError, RecursionError) as e:
        raise DecodeError(f"{cls.DESCRIPTOR.full_name}: {e}") from None
