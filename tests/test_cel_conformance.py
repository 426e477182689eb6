"""The CEL conformance suite (../shared/testdata/cel-spec) through k8slearn.cel.evaluate."""

from pathlib import Path

import pytest

import k8slearn.cel as kc
from k8slearn.cel.conformance import load_file, parse_text, values_equal

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "cel-spec"

# test id -> reason. Empty today: every case of the four files passes.
SKIP: dict[str, str] = {}


def _cases():
    if not DATA.is_dir():
        return []
    return [c for f in sorted(DATA.glob("*.textproto")) for c in load_file(f)]


CASES = _cases()


@pytest.mark.skipif(not DATA.is_dir(), reason=f"shared CEL conformance data absent: {DATA}")
def test_suite_is_complete():
    # basic 43 + logic 30 + macros 44 + string 51 tests in the pinned cel-spec commit
    assert len(CASES) == 168


@pytest.mark.skipif(not DATA.is_dir(), reason=f"shared CEL conformance data absent: {DATA}")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conformance(case):
    if case.id in SKIP:
        pytest.skip(SKIP[case.id])
    if case.expect_error:
        with pytest.raises(kc.CELError):
            kc.evaluate(case.expr, case.bindings, check=not case.disable_check, homogeneous=False)
    else:
        got = kc.evaluate(case.expr, case.bindings, check=not case.disable_check, homogeneous=False)
        assert values_equal(got, case.expected), f"{case.expr!r}: got {got!r}, want {case.expected!r}"


def test_parser_rejects_unknown_fields():
    with pytest.raises(kc.CELError):
        parse_text('name: "x" bogus_field: 1')


def test_parser_reads_bindings_and_errors():
    cases = parse_text("""
      name: "t"
      section { name: "s" test { name: "a" expr: "x" bindings { key: "x" value { value { int64_value: 3 } } } value { int64_value: 3 } }
                test { name: "b" expr: "1/0" eval_error { errors { message: "division by zero" } } }
                test { name: "c" expr: "true" } }""")
    assert cases[0].bindings == {"x": 3} and cases[0].expected == 3
    assert cases[1].expect_error == "division by zero"
    assert cases[2].expected is True  # unspecified result means true
