"""Kubernetes quantity library: quantity(), isQuantity(), and Quantity members.

Members per https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-quantity-library.
A quantity is ``<signedNumber><suffix>``, the suffix one of binarySI ``Ki Mi Gi Ti Pi Ei``,
decimalSI ``n u m "" k M G T P E`` or a decimal exponent ``e<int>``/``E<int>``
(https://pkg.go.dev/k8s.io/apimachinery/pkg/api/resource#Quantity).
The number times its suffix is computed by the official client's
``kubernetes.utils.quantity.parse_quantity``. Values are held exactly as fractions, so
comparisons and sums are exact.
"""

from __future__ import annotations

import decimal
import math
import re
from fractions import Fraction
from typing import Any

from kubernetes.utils.quantity import parse_quantity as _client_parse_quantity

from k8slearn.cel._decl import TYPES as T
from k8slearn.cel._decl import Decl, decl, msg_class

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NANO = 10**9

# What the client's parser does not do the way resource.ParseQuantity does, kept here
# (https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go#L160-L399):
# 1. Reject what Kubernetes rejects. The client hands the number to Python's Decimal, which also
#    takes "1K", "Infinity", "1_000", " 1" and "1e3k". This is the grammar of
#    parseQuantityString + the suffixes quantitySuffixer.interpret knows (suffix.go); like Go it
#    lets the number's digits be empty ("+", ".", "k" and "m" all mean 0; only "" is refused).
_GRAMMAR = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?")
_GO_FORMAT = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
#    Go reads an exponent suffix as an int32. We also refuse exponents whose exact value would
#    not fit in memory (Go keeps them as a scale); no real quantity comes near.
_MAX_EXPONENT = 1_000
# 2. Stay exact. The client computes in the current decimal context (28 significant digits),
#    so parse_quantity below gives it a context wide enough for the input and traps rounding.
# 3. Round a non-zero value away from zero to a whole nano ("0.1n" is 1n), and cap a binarySI
#    value at the int64 maximum ("16Ei" is 9223372036854775807), as ParseQuantity does.


def parse_quantity(s: str) -> Fraction:
    """Exact value of a Kubernetes quantity string, as resource.ParseQuantity reads it;
    ValueError when it is not one."""
    m = _GRAMMAR.fullmatch(s)
    if not s or not m:
        # resource.ErrFormatWrong / ErrSuffix (apimachinery v0.37.2 pkg/api/resource/quantity.go)
        if not _GO_FORMAT.fullmatch(s):
            raise ValueError(f"quantities must match the regular expression '{_GO_FORMAT.pattern}'")
        raise ValueError("unable to parse quantity's suffix")
    sign, whole, frac, suffix = m.group(1), m.group(2) or "0", m.group(3) or "0", m.group(4) or ""
    if suffix[:1] in ("e", "E") and suffix not in ("E", "Ei") and abs(int(suffix[1:])) > _MAX_EXPONENT:
        raise ValueError(f"quantity exponent too large for k8slearn: {s!r}")
    with decimal.localcontext() as ctx:
        ctx.prec = len(s) + 40  # enough digits for the input times 1024**6
        ctx.Emax, ctx.Emin = decimal.MAX_EMAX, decimal.MIN_EMIN
        ctx.traps[decimal.Inexact] = ctx.traps[decimal.Rounded] = True
        value = abs(Fraction(_client_parse_quantity(f"{whole}.{frac}{suffix}")))
    if value.denominator != 1 and NANO % value.denominator:
        value = Fraction(math.ceil(value * NANO), NANO)
    if suffix.endswith("i"):
        value = min(value, Fraction(INT64_MAX))
    return -value if sign == "-" else value


_DEC = ";dec"  # marks a quantity Go holds as an inf.Dec: its AsInt64 always fails


def to_message(value: Fraction, dec: bool = False) -> Any:
    """A ``kubernetes.Quantity`` message holding ``value`` as an exact fraction."""
    return msg_class("kubernetes.Quantity")(value=f"{value.numerator}/{value.denominator}{_DEC if dec else ''}")


def value_of(q: Any) -> Fraction:
    """The exact value of a ``kubernetes.Quantity`` message."""
    return Fraction(q.value.split(";")[0])


def _is_dec(q: Any) -> bool:
    return not isinstance(q, int) and q.value.endswith(_DEC)


def go_keeps_int64(s: str) -> bool:
    """Does resource.ParseQuantity keep ``s`` as an int64Amount (its fast path) rather than an
    inf.Dec? Only the former converts with AsInt64, so asInteger()/isInteger() fail on the
    latter whatever the value (quantity.go ParseQuantity L295-L345 and AsInt64 L517-L522 at
    apimachinery v0.37.2; maxInt64Factors = 18, math.go)."""
    m = _GRAMMAR.fullmatch(s)
    if not m:
        return False
    whole, frac, suffix = m.group(2) or "", m.group(3) or "", m.group(4) or ""
    num = whole.lstrip("0") or "0" if whole else "0"
    denom = frac
    if suffix.endswith("i"):
        exponent = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}[suffix]
        if denom:
            return False
        precision = 15 - len(num) - int(exponent * 3 / 10) - 1
        scale, mantissa = 0, 1 << exponent
    else:
        exponent = (
            _DECIMAL_EXPONENTS.get(suffix, 0) if suffix[:1] not in ("e", "E") or suffix == "E" else int(suffix[1:])
        )
        precision = 18 - (len(num) + len(denom))
        scale, mantissa = exponent, 1
    if precision < 0:
        return False
    scale -= len(denom)
    if scale < -9:
        return False
    value = int(num + denom)
    return value <= INT64_MAX and value * mantissa <= INT64_MAX


_DECIMAL_EXPONENTS = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def _quantity(s):
    return to_message(parse_quantity(s), dec=not go_keeps_int64(s))


def _is_quantity(s):
    try:
        parse_quantity(s)
    except ValueError:
        return False
    return True


def _is_integer(q):
    if _is_dec(q):
        return False
    v = value_of(q)
    return v.denominator == 1 and INT64_MIN <= v.numerator <= INT64_MAX


def _as_integer(q):
    if not _is_integer(q):
        raise ValueError("cannot convert value to integer")  # quantity.go quantityGetValue
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


def functions() -> list[Decl]:
    """The declarations of Kubernetes' quantity library functions."""
    Q, I, B = T.QUANTITY, T.INT, T.BOOL
    return [
        decl("quantity", ("string_to_quantity", Q, [T.STRING], False, _quantity)),
        decl("isQuantity", ("is_quantity_string", B, [T.STRING], False, _is_quantity)),
        decl("isInteger", ("quantity_is_integer", B, [Q], True, _is_integer)),
        decl("asInteger", ("quantity_as_integer", I, [Q], True, _as_integer)),
        decl("asApproximateFloat", ("quantity_as_float", T.DOUBLE, [Q], True, _as_float)),
        # sign is a global function in quantity.go (quantityLibraryDecls), not a member
        decl("sign", ("quantity_sign", I, [Q], False, lambda q: (value_of(q) > 0) - (value_of(q) < 0))),
        decl("compareTo", ("quantity_compare_to", I, [Q, Q], True, _cmp)),
        decl("isLessThan", ("quantity_less", B, [Q, Q], True, lambda a, b: _cmp(a, b) < 0)),
        decl("isGreaterThan", ("quantity_greater", B, [Q, Q], True, lambda a, b: _cmp(a, b) > 0)),
        decl(
            "add",
            (
                "quantity_add",
                Q,
                [Q, Q],
                True,
                lambda a, b: to_message(value_of(a) + _other(b), _is_dec(a) or _is_dec(b)),
            ),
            (
                "quantity_add_int",
                Q,
                [Q, I],
                True,
                lambda a, b: to_message(value_of(a) + _other(b), _is_dec(a) or _is_dec(b)),
            ),
        ),
        decl(
            "sub",
            (
                "quantity_sub",
                Q,
                [Q, Q],
                True,
                lambda a, b: to_message(value_of(a) - _other(b), _is_dec(a) or _is_dec(b)),
            ),
            (
                "quantity_sub_int",
                Q,
                [Q, I],
                True,
                lambda a, b: to_message(value_of(a) - _other(b), _is_dec(a) or _is_dec(b)),
            ),
        ),
    ]


def format_quantity(value: Fraction) -> str:
    """A readable form of an exact quantity value (for display only): the number times the
    largest decimalSI suffix that keeps the number whole, as in Kubernetes' canonical form
    ("50k", "1500", "-1m"; a binarySI quantity is shown in decimal).

    Ours, not the client's: its format_quantity needs the suffix chosen by the caller and
    divides in the 28-digit decimal context, so large values would lose digits.
    """
    for suffix, exp in (
        ("E", 18),
        ("P", 15),
        ("T", 12),
        ("G", 9),
        ("M", 6),
        ("k", 3),
        ("", 0),
        ("m", -3),
        ("u", -6),
        ("n", -9),
    ):
        scaled = value / Fraction(10) ** exp
        if scaled.denominator == 1 and (scaled or not exp):
            return f"{scaled.numerator}{suffix}"
    return str(float(value))  # not a whole number of nanos: never made by parse_quantity
