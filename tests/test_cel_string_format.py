"""string.format as kube-apiserver v1.37.2 evaluates it (cel-go, strings extension v2, en_US).

Every expected text below is what the real apiserver answered for the same expression (the
"CEL strings format" cases of k8slearn/cel/corpus.py, read back through a messageExpression
and compared live by tests/test_cel_agreement.py on 2026-12-03)."""

from __future__ import annotations

import pytest

import k8slearn.cel as kc
from k8slearn.cel.errors import CELError

APISERVER = [
    ("'%e'.format([1234.5])", "1.234500×10⁰³"),
    ("'%e'.format([0.000123])", "1.230000×10⁻⁰⁴"),
    ("'%e'.format([0.0])", "0.000000×10⁰⁰"),
    ("'%e'.format([-1234.5])", "-1.234500×10⁰³"),
    ("'%e'.format([1e100])", "1.000000×10¹⁰⁰"),
    ("'%.2e'.format([1234.5])", "1.234500×10⁰³"),  # the precision is a width for %e
    ("'%.0e'.format([1234.5])", "1.234500×10⁰³"),
    ("'%e'.format(['Infinity'])", "∞"),
    ("'%f'.format([1234567.5])", "1,234,567.500000"),
    ("'%.2f'.format([-0.001])", "-0.00"),
    ("'%.0f'.format([2.5])", "2"),
    ("'%f'.format(['-Infinity'])", "-∞"),
    ("'%s'.format([{'a': 1}])", '{"a":1}'),
    ("'%s'.format([{'b': [1, {'c': 'd'}], 'a': 'x'}])", '{"a":"x", "b":[1, {"c":"d"}]}'),
    ("'%s'.format([[1, 'a', 1.5, true, null, b'xy']])", '[1, "a", 1.500000, true, null, b"xy"]'),
    ("'%s'.format([[[1, 2], [], {}]])", "[[1, 2], [], {}]"),
    ("'%s'.format([{1: 'a', 2: 'b'}])", '{1:"a", 2:"b"}'),
    ("'%s'.format([{true: 1, false: 2}])", "{false:2, true:1}"),
    ("'%s'.format([['a\"b\\n']])", '["a\\"b\\n"]'),
    ("'%s / %s / %s'.format([true, null, b'abc'])", "true / null / abc"),
    ("'%s %s %s %s'.format([1e20, 1234567.0, 0.00001, -0.0])", "1e+20 1.234567e+06 1e-05 -0"),
    ("'%s'.format([timestamp('2024-01-01T00:00:00.120Z')])", "2024-01-01T00:00:00.12Z"),
    ("'%s %s'.format([duration('90m'), duration('1.5s')])", "5400s 1.5s"),
    (
        "'%s'.format([[timestamp('2024-01-01T00:00:00Z'), duration('1h')]])",
        '[timestamp("2024-01-01T00:00:00Z"), duration("3600s")]',
    ),
    ("'%s %s'.format([type(1), [type([1]), type(null)]])", "int [list, null_type]"),
    ("'%x %X %x %x'.format(['hi', -255, b'\\x01\\xff', 255u])", "6869 -FF 01ff ff"),
    ("'%b %b %o %d'.format([-5, true, -8, 18446744073709551615u])", "-101 1 -10 18446744073709551615"),
]


@pytest.mark.parametrize(("expression", "text"), APISERVER)
def test_format_renders_as_the_apiserver_does(expression, text):
    # the apiserver trims a messageExpression's result (%e pads to a width of 6: "     ∞")
    assert kc.evaluate(expression).strip() == text


def test_a_width_for_e_pads_on_the_left():
    # the apiserver trims a messageExpression's result, so the corpus compares trimmed text; these
    # (and the next test) were read back from the same apiserver separately, inside brackets
    assert kc.evaluate("'[%.15e]'.format([1234.5])") == "[  1.234500×10⁰³]"
    assert kc.evaluate("'[%e]'.format(['NaN'])") == "[   NaN]"
    assert kc.evaluate("'[%e]'.format(['-Infinity'])") == "[    -∞]"


def test_a_precision_over_255_wraps_as_in_the_go_printer():
    # x/text keeps the minimum number of fraction digits in a uint8: 1000 -> 232 (apiserver: 234 characters)
    assert kc.evaluate("'%.1000f'.format([1.5]).size()") == 234


RUNTIME_ERRORS = [
    ("'%f'.format([dyn(1)])", "fixed-point clause can only be used on doubles, was given int"),
    ("'%d'.format([dyn(1.5)])", "decimal clause can only be used on integers, was given double"),
    ("'%x'.format([dyn(1.5)])", "only integers, byte buffers, and strings can be formatted as hex, was given double"),
    ("'%s'.format([[dyn(b'\\xff')]])", 'could not convert argument "invalid UTF-8 in bytes, cannot convert to string"'),
]


@pytest.mark.parametrize(("expression", "text"), RUNTIME_ERRORS)
def test_wrong_argument_types_fail_at_evaluation(expression, text):
    with pytest.raises(CELError) as err:
        kc.evaluate(expression)
    assert err.value.phase == "eval"
    assert f"error during formatting: {text}" in err.value.message


COMPILE_ERRORS = [
    ("'%d'.format([1, 2])", "too many arguments supplied to string.format (expected 1, got 2)"),
    ("'%d %d'.format([1])", "index 1 out of range"),
    ("'%z'.format([1])", 'could not parse formatting clause: unrecognized formatting clause "z"'),
    (
        "'%.f'.format([1.5])",
        "could not parse formatting clause: error while parsing precision: error while converting precision "
        'to integer: strconv.Atoi: parsing "": invalid syntax',
    ),
    ("'%'.format([1])", "unexpected end of string"),
    ("'%d'.format(['x'])", "error during formatting: decimal clause can only be used on integers, was given string"),
]


@pytest.mark.parametrize(("expression", "text"), COMPILE_ERRORS)
def test_constant_format_strings_are_checked_at_compile_time(expression, text):
    with pytest.raises(CELError) as err:
        kc.compile(expression)
    assert err.value.phase == "compile"
    assert err.value.message.endswith(text)


def test_the_check_uses_checked_types_of_non_literal_arguments():
    with pytest.raises(CELError, match="decimal clause can only be used on integers, was given string"):
        kc.compile("'%d'.format([self])", ["self"], types={"self": "string"})
    assert kc.compile("'%d'.format([self])", ["self"]).evaluate({"self": 3}) == "3"


def test_format_library_calls_are_not_string_format():
    assert kc.evaluate("!format.dns1123Label().validate('web-1').hasValue()") is True
