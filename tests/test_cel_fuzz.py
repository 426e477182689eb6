"""A short run of the CEL fuzz target (k8slearn/cel/fuzz.py): every expression gives a value or a CELError."""

from k8slearn.cel import fuzz


def test_short_fuzz_run_never_escapes():
    tally = fuzz.run(200, seed=12)
    assert sum(tally.values()) == 200
    assert tally["value"] > 0 and tally["CELError"] > 0
