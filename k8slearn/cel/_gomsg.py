"""Render values and CEL runtime errors the way kube-apiserver (Go, cel-go) prints them.

The apiserver builds its messages with Go's fmt verbs and cel-go's error texts; the local
engine (cel-expr-python, the C++ CEL runtime) words its errors differently. These helpers
make local answers comparable with the real ones:

* :func:`go_quote` - Go's ``%q`` (strconv.Quote) for a string.
* :func:`go_float` - Go's ``%v`` for a float64 (shortest digits; exponent form when the
  decimal exponent is below -4 or at least 6).
* :func:`bad_value` - how ``field.Error`` prints a bad value (apimachinery v0.37.2
  pkg/util/validation/field/errors.go, ``ErrorBody``): ints, floats and bools with ``%v``,
  strings with ``%q``, anything else as JSON.
* :func:`cel_go_error` - the cel-go wording of the most common runtime errors
  (``no such key: k``, ``division by zero``, ``index out of bounds: i``); texts without a
  known counterpart are returned unchanged (minus the local ``eval error:`` prefix).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_SIMPLE_ESCAPES = {
    "\a": r"\a",
    "\b": r"\b",
    "\f": r"\f",
    "\n": r"\n",
    "\r": r"\r",
    "\t": r"\t",
    "\v": r"\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(s: str) -> str:
    """Go's strconv.Quote: printable runes kept as they are, the rest escaped."""
    out = ['"']
    for ch in s:
        if ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif ch == " " or ch.isprintable():
            # Go's unicode.IsPrint (letters, marks, numbers, punctuation, symbols, ASCII space)
            # is the same set as Python's str.isprintable()
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_float(f: float) -> str:
    """Go's ``%v`` for a float64: strconv 'g' with the shortest digits, where the exponent
    form is used when the decimal exponent is < -4 or >= 6 (Go's rule for shortest %g)."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if str(f).startswith("-") else ""
    if f == 0:
        return sign + "0"
    t = Decimal(repr(abs(f))).normalize().as_tuple()  # repr: the shortest round-trip digits
    digits = "".join(str(x) for x in t.digits)
    assert isinstance(t.exponent, int)  # f is finite, so no 'n'/'N'/'F' special exponent
    exp = len(digits) + t.exponent - 1  # decimal exponent of the first digit
    if exp < -4 or exp >= 6:
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{m}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    whole, frac = digits[: exp + 1], digits[exp + 1 :]
    whole = whole + "0" * (exp + 1 - len(whole))
    return f"{sign}{whole}{'.' + frac if frac else ''}"


def _go_json(value) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # Go's encoding/json escapes HTML-sensitive characters and the JS line separators
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def bad_value(value: Any) -> str:
    """A field.Error's bad value as ErrorBody prints it (%v for numbers and bools, %q for strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    return _go_json(value)


_KEY = re.compile(r'^Key not found in map\s*:\s*"?(.*?)"?$')
_INDEX = re.compile(r"^Index error: index=(-?\d+) size=\d+$")


_TYPES = r"(int|uint|double|string|bool|bytes|timestamp|duration)"
_CONVERT = re.compile(rf"^(?:cannot convert|Type conversion error from) '?{_TYPES}'? to '?{_TYPES}'?$")
# cel-cpp's text -> cel-go's, for the same failure (cel-go v0.29.2 common/types int.go, uint.go, bytes.go)
_SAME_MEANING = {
    "double out of int64 range": "integer overflow",
    "int64 out of uint64 range": "unsigned integer overflow",
    "double out of uint64 range": "unsigned integer overflow",
    "malformed UTF-8 bytes": "invalid UTF-8 in bytes, cannot convert to string",
}


def cel_go_error(message: str) -> str:
    """The cel-go wording of a local runtime error message (best effort, see module doc)."""
    text = re.sub(r"^eval error(?: \([^)]*\))?:\s*", "", message).strip()
    m = _KEY.match(text)
    if m:
        return f"no such key: {m.group(1)}"
    m = _INDEX.match(text)
    if m:
        return f"index out of bounds: {m.group(1)}"
    if text == "divide by zero":
        return "division by zero"
    m = _CONVERT.match(text)
    if m:  # cel-go's types.NewErr("type conversion error from '%s' to '%s'")
        return f"type conversion error from '{m.group(1)}' to '{m.group(2)}'"
    return _SAME_MEANING.get(text, text)
