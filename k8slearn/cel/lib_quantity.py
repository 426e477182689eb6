"""Kubernetes quantity library: quantity(), isQuantity(), and Quantity members.

Grammar of a quantity string from resource.Quantity
(https://pkg.go.dev/k8s.io/apimachinery/pkg/api/resource#Quantity):
``<signedNumber><suffix>``, suffix one of binarySI ``Ki Mi Gi Ti Pi Ei``, decimalSI
``n u m "" k M G T P E`` or a decimal exponent ``e<int>``/``E<int>``.
Members per https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-quantity-library.
Values are held exactly as fractions, so comparisons and sums are exact.
"""
from __future__ import annotations

import re
from fractions import Fraction

from k8slearn.cel._decl import TYPES as T, decl, msg_class

_SUFFIX = {
    "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
    "n": Fraction(1, 10 ** 9), "u": Fraction(1, 10 ** 6), "m": Fraction(1, 1000), "": 1,
    "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18,
}
_RE = re.compile(r"^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def parse_quantity(s: str) -> Fraction:
    """Exact value of a Kubernetes quantity string; ValueError when it is not one."""
    m = _RE.match(s.strip()) if s == s.strip() else None
    if not m:
        raise ValueError(f"invalid quantity: {s!r}")
    sign, number, suffix = m.group(1), m.group(2), m.group(3) or ""
    value = Fraction(number)
    if suffix[:1] in ("e", "E"):
        value *= Fraction(10) ** int(suffix[1:])
    else:
        value *= _SUFFIX[suffix]
    return -value if sign == "-" else value


def to_message(value: Fraction):
    return msg_class("kubernetes.Quantity")(value=f"{value.numerator}/{value.denominator}")


def value_of(q) -> Fraction:
    return Fraction(q.value)


def _quantity(s):
    return to_message(parse_quantity(s))


def _is_quantity(s):
    try:
        parse_quantity(s)
    except ValueError:
        return False
    return True


def _is_integer(q):
    v = value_of(q)
    return v.denominator == 1 and INT64_MIN <= v.numerator <= INT64_MAX


def _as_integer(q):
    if not _is_integer(q):
        raise ValueError("cannot convert value to integer: loss of precision or overflow")
    return value_of(q).numerator


def _as_float(q):
    v = value_of(q)
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def _cmp(a, b):
    x, y = value_of(a), value_of(b)
    return (x > y) - (x < y)


def _other(o):
    return Fraction(o) if isinstance(o, int) else value_of(o)


def functions():
    Q, I, B = T.QUANTITY, T.INT, T.BOOL
    return [
        decl("quantity", ("string_to_quantity", Q, [T.STRING], False, _quantity)),
        decl("isQuantity", ("is_quantity_string", B, [T.STRING], False, _is_quantity)),
        decl("isInteger", ("quantity_is_integer", B, [Q], True, _is_integer)),
        decl("asInteger", ("quantity_as_integer", I, [Q], True, _as_integer)),
        decl("asApproximateFloat", ("quantity_as_float", T.DOUBLE, [Q], True, _as_float)),
        decl("sign", ("quantity_sign", I, [Q], True, lambda q: (value_of(q) > 0) - (value_of(q) < 0))),
        decl("compareTo", ("quantity_compare_to", I, [Q, Q], True, _cmp)),
        decl("isLessThan", ("quantity_less", B, [Q, Q], True, lambda a, b: _cmp(a, b) < 0)),
        decl("isGreaterThan", ("quantity_greater", B, [Q, Q], True, lambda a, b: _cmp(a, b) > 0)),
        decl("add",
             ("quantity_add", Q, [Q, Q], True, lambda a, b: to_message(value_of(a) + _other(b))),
             ("quantity_add_int", Q, [Q, I], True, lambda a, b: to_message(value_of(a) + _other(b)))),
        decl("sub",
             ("quantity_sub", Q, [Q, Q], True, lambda a, b: to_message(value_of(a) - _other(b))),
             ("quantity_sub_int", Q, [Q, I], True, lambda a, b: to_message(value_of(a) - _other(b)))),
    ]


def format_quantity(value: Fraction) -> str:
    """A readable decimal form of an exact quantity value (for display only)."""
    if value.denominator == 1:
        n = value.numerator
        for suffix, mult in (("E", 10 ** 18), ("P", 10 ** 15), ("T", 10 ** 12), ("G", 10 ** 9),
                             ("M", 10 ** 6), ("k", 10 ** 3)):
            if n and n % mult == 0:
                return f"{n // mult}{suffix}"
        return str(n)
    for suffix, mult in (("m", 10 ** 3), ("u", 10 ** 6), ("n", 10 ** 9)):
        scaled = value * mult
        if scaled.denominator == 1:
            return f"{scaled.numerator}{suffix}"
    return str(float(value))
