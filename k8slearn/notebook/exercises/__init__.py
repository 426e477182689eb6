"""Checks for the notebooks' "try it yourself" exercises.

`selfcheck(answer, expected, hint)` compares a value. Exercises that ask the learner to *do*
something (provoke a conflict, make a watch fail with 410, write a ratcheting rule) have a
check function in this package's module for their notebook, `k8slearn.notebook.exercises.nbNN`:

    check_<what>(lab, answer) -> Verdict

It looks at the cluster's state or the recorded data (never at printed text), prints ✅, ❌
with a hint, or ⏳ when `answer` is still None, and never raises on a wrong answer. Each
notebook's solutions run these checks with the right answer (papermill runs them in CI), and
tests/test_exercises.py runs them with wrong ones.
"""

from __future__ import annotations

from typing import Any


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
        except (TypeError, ValueError):
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (set, frozenset)) or isinstance(b, (set, frozenset)):
        try:
            return set(a) == set(b)
        except TypeError:
            return False
    return a == b


class Verdict:
    """True or false like a bool, but shows nothing extra as a cell's last value."""

    def __init__(self, ok: bool):
        self.ok = ok

    def __bool__(self):
        return self.ok

    def __eq__(self, other):
        return bool(other) == self.ok if isinstance(other, (bool, Verdict)) else NotImplemented

    def __repr__(self):
        return f"Verdict({self.ok})"

    def _ipython_display_(self):
        pass  # the printed verdict says it already


def verdict(ok: bool, answer: Any, hint: str = "", why: str = "") -> Verdict:
    """Print the verdict of a check function and return it (⏳ when `answer` is None)."""
    if answer is None:
        print("⏳ Not answered yet." + (f" Hint: {hint}" if hint else ""))
        return Verdict(False)
    if ok:
        print("✅ Correct." + (f" {why}" if why else ""))
        return Verdict(True)
    print("❌ Not quite." + (f" {why}" if why else "") + (f" Hint: {hint}" if hint else ""))
    return Verdict(False)


def selfcheck(answer: Any, expected: Any, hint: str = "") -> Verdict:
    """Compare `answer` with `expected` and print a verdict; never raises."""
    if answer is None:
        print("⏳ Not answered yet." + (f" Hint: {hint}" if hint else ""))
        return Verdict(False)
    if _same(answer, expected):
        print("✅ Correct.")
        return Verdict(True)
    print(f"❌ Not quite: you answered {answer!r}." + (f" Hint: {hint}" if hint else ""))
    return Verdict(False)
