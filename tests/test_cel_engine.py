import datetime

import pytest

import k8slearn.cel as kc


def test_plain_values():
    assert kc.evaluate("1 + 2") == 3
    assert kc.evaluate("1u") == 1
    assert kc.evaluate("b'ab'") == b"ab"
    assert kc.evaluate("null") is None
    assert kc.evaluate("{'a': [1, 2.5]}", homogeneous=False) == {"a": [1, 2.5]}
    with pytest.raises(kc.CELError, match="expected type 'int' but found 'double'"):
        kc.evaluate("{'a': [1, 2.5]}")  # Kubernetes' cel.HomogeneousAggregateLiterals
    assert kc.evaluate("timestamp('2020-01-01T00:00:00Z')") == datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    assert kc.evaluate("duration('90s')") == datetime.timedelta(seconds=90)
    assert kc.evaluate("type(1)") == "int"


def test_variables_and_typed_top_level_timestamps():
    t = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)
    assert kc.evaluate("self.a.b * 2", {"self": {"a": {"b": 21}}}) == 42
    assert kc.evaluate("t + duration('1h')", {"t": t}) == t + datetime.timedelta(hours=1)


def test_compile_error_has_position():
    with pytest.raises(kc.CELError) as caught:
        kc.evaluate("1 + ")
    assert caught.value.phase == "compile"
    assert (caught.value.line, caught.value.column) == (1, 5)


def test_undeclared_variable_is_compile_error():
    with pytest.raises(kc.CELError) as caught:
        kc.evaluate("x + 1")
    assert "undeclared reference to 'x'" in str(caught.value)
    assert caught.value.column == 1


def test_eval_errors():
    with pytest.raises(kc.CELError, match="divide by zero"):
        kc.evaluate("1 / 0")
    with pytest.raises(kc.CELError, match="Key not found"):
        kc.evaluate("m.missing", {"m": {}})


def test_compiled_program_is_reusable():
    prog = kc.compile("x * 2", ["x"])
    assert [prog.evaluate({"x": i}) for i in range(3)] == [0, 2, 4]
    with pytest.raises(kc.CELError, match="no value given"):
        prog.evaluate({})


def test_non_string_expression():
    with pytest.raises(kc.CELError):
        kc.compile(42)


def test_optional_types():
    assert kc.evaluate("{'a': 1}[?'b'].orValue(5)") == 5


def test_cross_type_numeric_comparisons():
    # Kubernetes enables cel.CrossTypeNumericComparisons (base.go L102); the apiserver accepts
    # these and the local engine runs them unchecked when they are the only type errors
    assert kc.evaluate("1 < 1.5") is True
    assert kc.evaluate("2u >= 1.5") is True
    with pytest.raises(kc.CELError, match="no matching overload"):
        kc.evaluate("1 < 'a'")
    with pytest.raises(kc.CELError, match="no matching overload"):
        kc.evaluate("1 == 1.0")  # equality across types is refused by the apiserver too


def test_library_table_has_releases():
    names = {l.name: l for l in kc.LIBRARIES}
    assert names["Kubernetes semver"].usable == "1.34"
    assert names["Kubernetes IP address and CIDR"].introduced == "1.30"
    assert names["Kubernetes authorizer"].provided == "no"
