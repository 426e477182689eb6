"""``<string>.format(<list>)`` as kube-apiserver v1.37.2 evaluates it (cel-go, strings extension v2).

Kubernetes enables ``ext.Strings(ext.StringsVersion(2))`` (k8s.io/apiserver@v0.37.2
pkg/cel/environment/base.go), and cel-go v0.29.2 only switches to its newer, cel-spec
formatter (ext/formatting_v2.go) from strings version 4: below that, ``format`` is the
locale-aware formatter of ext/formatting.go, run with the locale ``en_US`` through
golang.org/x/text/message. cel-cpp's ``format`` follows the newer rules, so k8slearn routes
every ``s.format(list)`` call to :func:`format_string` (an AST rewrite, see _rewrite.py), a
re-statement in Python of what the Go code does:

* ``%s``: ints and uints in decimal, doubles with Go's ``%g`` (``1e+20``), timestamps in
  RFC 3339 with trimmed nanoseconds, durations as seconds (``5400s``), bytes as UTF-8 text,
  types by name, ``null``; a list is ``[a, b]`` and a map ``{"k":v, ...}`` sorted by the
  printed key, where strings inside are Go-quoted (``"a"``), bytes ``b"..."``, doubles
  ``%.6f`` (``1.500000``), timestamps ``timestamp("...")`` and durations ``duration("...")``;
* ``%d``, ``%b``, ``%o``, ``%x``/``%X``: Go's integer verbs (``-ff`` for -255; ``%x`` of a
  string or bytes is the hex of its bytes; ``%b`` of a bool is 1 or 0);
* ``%f`` and ``%.Nf``: en_US digits, so the integer part is grouped (``1,234.500000``),
  infinities print as ``∞``; the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` are
  accepted as doubles;
* ``%e``: en_US scientific notation, ``1.234500×10⁰³`` (times sign, superscript exponent of
  at least two digits). cel-go hands ``%.Ne`` to the printer as ``%Ne``, so N is a *width*
  (right-aligned with spaces) and the precision is always six digits.
Errors carry cel-go's texts (``error during formatting: decimal clause can only be used on
integers, was given string``).

:func:`validation_error` is cel-go's compile-time check of a constant format string with a
list literal (stringFormatValidator): clause syntax, argument count, and argument types as far
as the literal shows them.

Known differences, from what crosses the engine boundary: a uint arrives as an int, so an
error names ``int`` where cel-go says ``uint``; timestamps and durations arrive with
microseconds, so nanosecond digits are lost, and timestamps in UTC (cel-go keeps a literal's
``+02:00`` offset).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from k8slearn.cel._decl import TYPES as T
from k8slearn.cel._decl import Decl, decl
from k8slearn.cel._gomsg import go_float, go_quote
from k8slearn.cel._rewrite import STRING_FORMAT_IMPL

_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SPECIAL_DOUBLES = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_STRING_CLAUSE_TYPES = "strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps"


class FormatError(ValueError):
    """A formatting failure, worded as cel-go words it."""


def type_name(v: Any) -> str:
    """cel-go's TypeName() of a value as cel-expr-python hands it to Python."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"  # a uint arrives as an int
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (bytes, bytearray)):
        return "bytes"
    if v is None:
        return "null_type"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, datetime.datetime):
        return "google.protobuf.Timestamp"
    if isinstance(v, datetime.timedelta):
        return "google.protobuf.Duration"
    if hasattr(v, "DESCRIPTOR"):
        return str(v.DESCRIPTOR.full_name)
    if _is_type(v):
        return "type"
    return type(v).__name__


def _is_type(v: Any) -> bool:
    from k8slearn.cel._decl import cel

    return isinstance(v, cel().Type)


# cel-expr-python's names of type values -> cel-go's TypeName()
_TYPE_NAMES = {"null": "null_type", "timestamp": "google.protobuf.Timestamp", "duration": "google.protobuf.Duration"}


def _type_value_name(v: Any) -> str:
    from k8slearn.cel.engine import to_python

    name = str(to_python(v)).split("<")[0]  # list<dyn> -> list, map<dyn, dyn> -> map
    return _TYPE_NAMES.get(name, name)


# ---- Go renderings ------------------------------------------------------------------------


def _go_int(verb: str, v: int) -> str:
    """Go's %d, %b, %o, %x, %X of an int64/uint64 (a minus sign, then the magnitude)."""
    spec = {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}[verb]
    return ("-" if v < 0 else "") + format(abs(v), spec)


def _bytes_text(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(
            'could not convert argument "invalid UTF-8 in bytes, cannot convert to string" to string'
        ) from None


def _timestamp_text(t: datetime.datetime) -> str:
    """Go's time.RFC3339Nano: fraction without trailing zeros, Z for UTC."""
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if len(text) < 19:  # strftime does not pad years below 1000 everywhere
        text = f"{t.year:04d}" + text[text.index("-") :]
    if t.microsecond:
        text += f".{t.microsecond:06d}".rstrip("0")
    offset = t.utcoffset() or datetime.timedelta(0)
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _duration_text(d: datetime.timedelta) -> str:
    """cel-go: strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"."""
    nanos = (d.days * 86400 + d.seconds) * 1_000_000_000 + d.microseconds * 1000
    sec = abs(nanos) // 1_000_000_000 * (1 if nanos >= 0 else -1)  # Go truncates towards zero
    seconds = float(sec) + float(nanos - sec * 1_000_000_000) / 1e9
    return format(Decimal(repr(seconds)).normalize(), "f") + "s"


def _to_string(v: Any) -> str:
    """cel-go's FormatString (the %s clause)."""
    if isinstance(v, list):
        return _format_list(v)
    if isinstance(v, dict):
        return _format_map(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (bytes, bytearray)):
        return _bytes_text(bytes(v))
    if isinstance(v, datetime.datetime):
        return _timestamp_text(v)
    if isinstance(v, datetime.timedelta):
        return _duration_text(v)
    if v is None:
        return "null"
    if _is_type(v):
        return _type_value_name(v)
    raise FormatError(f"string clause can only be used on {_STRING_CLAUSE_TYPES}, was given {type_name(v)}")


def _member(v: Any) -> str:
    """A list element or map value: cel-go's clauseForType, then quoteForCEL."""
    if isinstance(v, bool) or v is None or _is_type(v):
        return _to_string(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return go_quote(v)
    if isinstance(v, (bytes, bytearray)):
        return "b" + go_quote(_bytes_text(bytes(v)))
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return go_quote("NaN" if v != v else "+Inf" if v > 0 else "-Inf")
        return f"{v:.6f}"  # Go's %.6f, which keeps the sign of -0.0 as Python does
    if isinstance(v, datetime.datetime):
        return f'timestamp("{_timestamp_text(v)}")'
    if isinstance(v, datetime.timedelta):
        return f'duration("{_duration_text(v)}")'
    if isinstance(v, list):
        return _format_list(v)
    if isinstance(v, dict):
        return _format_map(v)
    raise FormatError(f"no formatting function for {type_name(v)}")


def _format_list(values: list) -> str:
    return "[" + ", ".join(_member(v) for v in values) + "]"


def _format_map(m: dict) -> str:
    pairs = []
    for k, v in m.items():
        if isinstance(k, str):
            key = go_quote(k)
        elif isinstance(k, bool):
            key = "true" if k else "false"
        elif isinstance(k, int):
            key = str(k)
        else:
            raise FormatError(f"no formatting function for map key of type {type_name(k)}")
        pairs.append((key, _member(v)))
    pairs.sort(key=lambda p: p[0].encode("utf-8"))  # Go compares strings bytewise; the sort is stable
    return "{" + ", ".join(f"{k}:{v}" for k, v in pairs) + "}"


def _group(digits: str) -> str:
    """en_US grouping of an integer part: 1234567 -> 1,234,567."""
    out = []
    while len(digits) > 3:
        out.append(digits[-3:])
        digits = digits[:-3]
    out.append(digits)
    return ",".join(reversed(out))


def _as_double(v: Any, clause: str) -> float:
    if isinstance(v, str) and v in _SPECIAL_DOUBLES:
        return _SPECIAL_DOUBLES[v]
    if not isinstance(v, float):
        raise FormatError(f"{clause} clause can only be used on doubles, was given {type_name(v)}")
    return v


def _special(x: float) -> str | None:
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return ("-" if x < 0 else "") + "∞"
    return None


def _fixed(v: Any, precision: int) -> str:
    """x/text's printer for ``%.Nf`` with en_US: exact rounding, grouped integer digits."""
    x = _as_double(v, "fixed-point")
    special = _special(x)
    if special is not None:
        return special
    min_frac = precision & 0xFF  # the printer stores the minimum in a uint8 ...
    max_frac = (precision + 0x8000) % 0x10000 - 0x8000  # ... and the maximum in an int16
    text = f"{abs(x):.{max_frac}f}" if max_frac >= 0 else format(Decimal(repr(abs(x))), "f")
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    frac += "0" * max(0, min_frac - len(frac))
    return ("-" if x < 0 else "") + _group(whole) + ("." + frac if frac else "")


def _scientific(v: Any, width: int) -> str:
    """x/text's printer for ``%Ne`` with en_US: six fraction digits, ×10 and a superscript
    exponent of at least two digits, right-aligned to ``width`` runes."""
    x = _as_double(v, "scientific")
    text = _special(x)
    if text is None:
        mantissa, _, exp = f"{abs(x):.6e}".partition("e")
        e = int(exp)
        sup = "".join(_SUPERSCRIPT[int(c)] for c in f"{abs(e):02d}")
        text = ("-" if x < 0 else "") + f"{mantissa}×10" + ("⁻" if e < 0 else "") + sup
    return text.rjust(width % 0x10000)


def _binary(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return _go_int("b", v)
    raise FormatError(f"only integers and bools can be formatted as binary, was given {type_name(v)}")


def _hex(v: Any, upper: bool) -> str:
    verb = "X" if upper else "x"
    if isinstance(v, str):
        v = v.encode("utf-8")
    if isinstance(v, (bytes, bytearray)):
        text = bytes(v).hex()
        return text.upper() if upper else text
    if isinstance(v, int) and not isinstance(v, bool):
        return _go_int(verb, v)
    raise FormatError(f"only integers, byte buffers, and strings can be formatted as hex, was given {type_name(v)}")


def _decimal(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    raise FormatError(f"decimal clause can only be used on integers, was given {type_name(v)}")


def _octal(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return _go_int("o", v)
    raise FormatError(f"octal clause can only be used on integers, was given {type_name(v)}")


# ---- the format string --------------------------------------------------------------------

# a clause: (argument index, verb, precision or None) -> its text
Clause = Callable[[int, str, "int | None"], str]


def _go_atoi(text: str) -> int:
    if not text:
        raise FormatError('error while converting precision to integer: strconv.Atoi: parsing "": invalid syntax')
    n = int(text)
    if n > (1 << 63) - 1:
        reason = f'strconv.Atoi: parsing "{text}": value out of range'
        raise FormatError(f"error while converting precision to integer: {reason}")
    return n


def _parse(fmt: str, size: int, clause: Clause, strict_arg: bool) -> tuple[str, int]:
    """cel-go's parseFormatString over the UTF-8 bytes of ``fmt``; returns the text and how
    many clauses asked for an argument. ``strict_arg``: fetching a missing argument fails
    first (at run time; the compile-time check fetches without looking)."""
    b = fmt.encode("utf-8")
    out = bytearray()
    i, arg, requested = 0, 0, 0
    while i < len(b):
        if b[i] != ord("%"):
            out.append(b[i])
            i += 1
            continue
        if i + 1 < len(b) and b[i + 1] == ord("%"):
            out.append(ord("%"))
            i += 2
            continue
        requested += 1
        if strict_arg and arg >= size:
            raise FormatError(f"index {arg} out of range")
        if i + 1 >= len(b):
            raise FormatError("unexpected end of string")
        if arg >= size:
            raise FormatError(f"index {arg} out of range")
        j = i + 1
        precision = None
        if b[j] == ord("."):
            j += 1
            start = j
            while True:
                if j >= len(b):
                    raise FormatError(
                        "could not parse formatting clause: error while parsing precision: "
                        "could not find end of precision specifier"
                    )
                if not (ord("0") <= b[j] <= ord("9")):
                    break
                j += 1
            try:
                precision = _go_atoi(b[start:j].decode("ascii"))
            except FormatError as exc:
                raise FormatError(f"could not parse formatting clause: error while parsing precision: {exc}") from None
        verb = chr(b[j])  # Go reads one byte as the verb, even inside a multi-byte character
        if verb not in "sdfebxXo":
            raise FormatError(f'could not parse formatting clause: unrecognized formatting clause "{verb}"')
        try:
            text = clause(arg, verb, precision)
        except FormatError as exc:
            raise FormatError(f"error during formatting: {exc}") from None
        out += text.encode("utf-8")
        i = j + 1
        arg += 1
    return out.decode("utf-8"), requested


def format_string(fmt: str, args: list) -> str:
    """``fmt.format(args)`` as cel-go v0.29.2 evaluates it with strings version 2 (en_US)."""

    def clause(index: int, verb: str, precision: int | None) -> str:
        v = args[index]
        if verb == "s":
            return _to_string(v)
        if verb == "d":
            return _decimal(v)
        if verb == "f":
            return _fixed(v, 6 if precision is None else precision)
        if verb == "e":
            return _scientific(v, 6 if precision is None else precision)
        if verb == "b":
            return _binary(v)
        if verb in "xX":
            return _hex(v, verb == "X")
        return _octal(v)

    return _parse(fmt, len(args), clause, strict_arg=True)[0]


# kinds a clause accepts in the compile-time check (cel-go stringFormatChecker)
_CHECK_KINDS = {
    "d": ("decimal clause can only be used on integers", {"int", "uint"}),
    "f": ("fixed-point clause can only be used on doubles", {"double", "string"}),
    "e": ("scientific clause can only be used on doubles", {"double", "string"}),
    "b": ("only integers and bools can be formatted as binary", {"int", "uint", "bool"}),
    "x": ("only integers, byte buffers, and strings can be formatted as hex", {"int", "uint", "string", "bytes"}),
    "X": ("only integers, byte buffers, and strings can be formatted as hex", {"int", "uint", "string", "bytes"}),
    "o": ("octal clause can only be used on integers", {"int", "uint"}),
}
_STRING_KINDS = {"list", "map", "int", "uint", "double", "bool", "string", "google.protobuf.Timestamp", "bytes"}
_STRING_KINDS |= {"google.protobuf.Duration", "type", "null_type"}


def validation_error(fmt: str, arg_kinds: list[tuple[str, list[str]]]) -> str | None:
    """cel-go's compile-time check of ``'<fmt>'.format([<literal list>])``: the error text, or
    None. ``arg_kinds`` holds, per list element, its static type name ("dyn" when unknown) and
    the type names of the literals nested in it (checked too by ``%s``)."""

    def clause(index: int, verb: str, precision: int | None) -> str:
        kind, nested = arg_kinds[index]
        if verb == "s":
            for k in [kind, *nested]:
                if k != "dyn" and k not in _STRING_KINDS:
                    raise FormatError(f"string clause can only be used on {_STRING_CLAUSE_TYPES}, was given {k}")
            return ""
        text, kinds = _CHECK_KINDS[verb]
        if kind != "dyn" and kind not in kinds:
            raise FormatError(f"{text}, was given {kind}")
        return ""

    try:
        _, requested = _parse(fmt, len(arg_kinds), clause, strict_arg=False)
    except FormatError as exc:
        return str(exc)
    if len(arg_kinds) > requested:
        return f"too many arguments supplied to string.format (expected {requested}, got {len(arg_kinds)})"
    return None


def functions() -> list[Decl]:
    """``@k8s.stringFormat``, which ``s.format(list)`` calls are renamed to (_rewrite.py)."""
    return [decl(STRING_FORMAT_IMPL, ("k8s_string_format", T.STRING, [T.STRING, T.LIST], True, format_string))]
