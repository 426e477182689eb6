"""The CEL guard: no expression crashes or stalls the caller (k8slearn/cel/_guard.py)."""

from __future__ import annotations

import pytest

import k8slearn.cel as kc

# expressions that crashed cel-expr-python 0.1.3 with SIGSEGV when evaluated in-process:
# functions whose parameter is declared dyn, handed an optional value
CRASHERS = [
    "optional.of(1).compareTo(semver('1.0.0'))",
    "optional.of(1).isLessThan(semver('1.0.0'))",
    "optional.of(1).isGreaterThan(quantity('1'))",
    "semver('1.0.0').compareTo(optional.of(1))",
    "quantity('1').compareTo(optional.of(1))",
    "[optional.of(1)].sum()",
    "format.dns1123Label().validate('a').isLessThan(semver('1.0.0'))",
]


@pytest.mark.parametrize("expr", CRASHERS)
def test_crashers_give_a_cel_error(expr):
    with pytest.raises(kc.CELError):
        kc.evaluate(expr)
    assert kc.evaluate("1 + 1") == 2  # and the next expression still works


def test_lone_surrogate_is_a_cel_error_not_a_type_error():
    with pytest.raises(kc.CELError, match="UTF-8"):
        kc.evaluate("'\ud800' == 'a'")
    with pytest.raises(kc.CELError):
        kc.evaluate("x == 'a'", {"x": "\ud800"})


def test_runaway_string_growth_stops_on_a_named_limit(monkeypatch):
    from k8slearn.cel import _guard

    monkeypatch.setattr(_guard, "TIME_LIMIT", 1.0)
    expr = "'x'" + ".replace('x', 'xx')" * 30 + ".size()"
    with pytest.raises(kc.CELError, match="limit") as info:
        kc.evaluate(expr)
    assert info.value.limit in ("time", "memory")
    assert kc.evaluate("'x'.replace('x', 'xx').size()") == 2


def test_unpicklable_input_is_a_cel_error():
    with pytest.raises(kc.CELError):
        kc.evaluate("x", {"x": lambda: 1})


def test_memory_limit_is_named(monkeypatch):
    from k8slearn.cel import _guard

    monkeypatch.setenv("K8SLEARN_CEL_MEMORY_LIMIT", str(100_000_000))
    _guard._stop()  # the next call starts a worker with the small limit
    try:
        with pytest.raises(kc.CELError, match="memory limit") as info:
            kc.evaluate("lists.range(9000000).size()")
        assert info.value.limit == "memory"
    finally:
        monkeypatch.delenv("K8SLEARN_CEL_MEMORY_LIMIT")
        _guard._stop()
    assert kc.evaluate("1 + 1") == 2
