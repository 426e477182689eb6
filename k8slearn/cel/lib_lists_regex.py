"""Kubernetes list library (isSorted, sum, min, max, indexOf, lastIndexOf) and regex
library (find, findAll).

Semantics from the Kubernetes docs ("Kubernetes list library", "Kubernetes regex library",
https://kubernetes.io/docs/reference/using-api/cel/) and the godoc of
k8s.io/apiserver/pkg/cel/library (lists.go, regex.go).
Regexes run on RE2 (the ``google-re2`` binding of Google's C++ RE2), the syntax Go's
``regexp`` implements, so backreferences and lookaround are refused and ``\\pL`` or
``[[:alpha:]]`` work as in Kubernetes; findAll skips an empty match right after the previous
match as Go's ``FindAllString`` does (measured against the apiserver: docs/cel-engine.md).
"""

from __future__ import annotations

import datetime
import functools

from k8slearn.cel._decl import TYPES as T
from k8slearn.cel._decl import Decl, decl


def _is_sorted(lst):
    return all(a <= b for a, b in zip(lst, lst[1:]))


def _sum(lst):
    if not lst:
        return 0
    if all(isinstance(x, datetime.timedelta) for x in lst):
        return sum(lst, datetime.timedelta())
    if any(isinstance(x, bool) for x in lst) or not all(isinstance(x, (int, float)) for x in lst):
        raise ValueError("sum() is defined for lists of int, uint, double or duration")
    if len({type(x) for x in lst}) > 1:
        raise ValueError("sum() needs a list of one numeric type")
    return sum(lst)


def _min(lst):
    if not lst:
        raise ValueError("min called on empty list")
    return min(lst)


def _max(lst):
    if not lst:
        raise ValueError("max called on empty list")
    return max(lst)


def _index_of(lst, v):
    for i, x in enumerate(lst):
        if x == v and type(x) is type(v):
            return i
    return -1


def _last_index_of(lst, v):
    for i in range(len(lst) - 1, -1, -1):
        if lst[i] == v and type(lst[i]) is type(v):
            return i
    return -1


# RE2's error texts (re2.h, RE2::ErrorCode) -> Go regexp/syntax's for the same error
_GO_REGEXP_ERRORS = {
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid named capture group": "invalid named capture",
}


@functools.lru_cache(maxsize=256)
def _compile(pattern):
    import re2

    try:
        return re2.compile(pattern)
    except re2.error as exc:
        text = exc.args[0] if exc.args else ""
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        code, _, arg = text.partition(": ")
        raise ValueError(f"error parsing regexp: {_GO_REGEXP_ERRORS.get(code, code)}: `{arg}`") from exc


def _find(s, pattern):
    m = _compile(pattern).search(s)
    return m.group(0) if m else ""


def _find_all(s, pattern, n=-1):
    """Go's Regexp.FindAllString(s, n): successive non-overlapping leftmost-first matches; an
    empty match that starts where the previous match ended is skipped."""
    rx = _compile(pattern)
    found: list[str] = []
    pos, prev_end = 0, -1
    while pos <= len(s) and (n < 0 or len(found) < n):
        m = rx.search(s, pos)
        if m is None:
            break
        start, end = m.span()
        accept = True
        if end == start:
            accept = start != prev_end
            pos = end + 1
        else:
            pos = end
        prev_end = end
        if accept:
            found.append(s[start:end])
    return found


def functions() -> list[Decl]:
    """The declarations of Kubernetes' lists and regex library functions."""
    L, D = T.LIST, T.DYN
    return [
        decl("isSorted", ("list_is_sorted", T.BOOL, [L], True, _is_sorted)),
        decl("sum", ("list_sum", D, [L], True, _sum)),
        decl("min", ("list_min", D, [L], True, _min)),
        decl("max", ("list_max", D, [L], True, _max)),
        decl("indexOf", ("list_index_of", T.INT, [L, D], True, _index_of)),
        decl("lastIndexOf", ("list_last_index_of", T.INT, [L, D], True, _last_index_of)),
        decl("find", ("string_find", T.STRING, [T.STRING, T.STRING], True, _find)),
        decl(
            "findAll",
            ("string_find_all", T.LIST_STRING, [T.STRING, T.STRING], True, _find_all),
            ("string_find_all_n", T.LIST_STRING, [T.STRING, T.STRING, T.INT], True, _find_all),
        ),
    ]
