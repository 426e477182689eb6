"""CEL extended lists, version 3 (cel-go ext.Lists(ListsVersion(3)), enabled by Kubernetes from
1.34, base.go L175-L181): lists.range, distinct, flatten, reverse, slice and sort, as Python
functions (cel-expr-python 0.1.3 ships no lists extension). Not provided: first() and last()
(they return optionals, which a Python function cannot). The sortBy macro is expanded in the
AST (_rewrite.expand_sort_by) into a Python sort by the mapped keys.

Semantics and error texts from cel-go v0.29.2 ext/lists.go (documented behaviour; written here).
"""

from __future__ import annotations

from typing import Any

from k8slearn.cel._decl import TYPES as T
from k8slearn.cel._decl import Decl, decl
from k8slearn.cel._rewrite import SORT_BY_IMPL

_RANGE_MAX = 10_000_000  # a bound of k8slearn's own, far below memory trouble


def _key(v: Any) -> tuple:
    """CEL equality as a hashable key: 1 and true differ; lists and maps compare by content."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, (int, float)):
        return ("num", v)
    if isinstance(v, list):
        return ("list", tuple(_key(x) for x in v))
    if isinstance(v, dict):
        return ("map", tuple(sorted((repr(_key(k)), _key(x)) for k, x in v.items())))
    return (type(v).__name__, v)


def _range(n: int) -> list[int]:
    if n < 0:
        raise ValueError(f"lists.range: size must be non-negative, got {n}")
    if n > _RANGE_MAX:
        raise ValueError(f"lists.range: size {n} exceeds maximum allowed ({_RANGE_MAX})")
    return list(range(n))


def _distinct(lst: list) -> list:
    seen: set = set()
    out = []
    for v in lst:
        k = _key(v)
        if k not in seen:
            seen.add(k)
            out.append(v)
    return out


def _flatten(lst: list, depth: int = 1) -> list:
    if depth < 0:
        raise ValueError("level must be non-negative")
    out: list = []
    for v in lst:
        if isinstance(v, list) and depth > 0:
            out.extend(_flatten(v, depth - 1))
        else:
            out.append(v)
    return out


def _slice(lst: list, start: int, end: int) -> list:
    if start < 0 or end < 0:
        raise ValueError(f"cannot slice({start}, {end}), negative indexes not supported")
    if start > end:
        raise ValueError(f"cannot slice({start}, {end}), start index must be less than or equal to end index")
    if len(lst) < end:
        raise ValueError(f"cannot slice({start}, {end}), list is length {len(lst)}")
    return lst[start:end]


def _sort(lst: list) -> list:
    kinds = {"num" if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__ for v in lst}
    if len(kinds) > 1:
        raise ValueError("list elements must have the same type")
    if kinds & {"list", "dict", "NoneType"}:
        raise ValueError("list elements must be comparable")
    return sorted(lst)


def _sort_by_keys(lst: list, keys: list) -> list:
    """@sortByAssociatedKeys: ``lst`` ordered by ``keys`` (stable), keys of one comparable type."""
    _sort(list(keys))  # the same checks as sort()
    order = sorted(range(len(lst)), key=lambda i: keys[i])
    return [lst[i] for i in order]


def functions() -> list[Decl]:
    """The declarations of the lists extension (version 3) that k8slearn provides."""
    L, I = T.LIST, T.INT
    return [
        decl("lists.range", ("lists_range", T.List_INT, [I], False, _range)),
        decl("distinct", ("list_distinct", L, [L], True, _distinct)),
        decl(
            "flatten",
            ("list_flatten", L, [L], True, _flatten),
            ("list_flatten_int", L, [L, I], True, _flatten),
        ),
        decl("reverse", ("list_reverse", L, [L], True, lambda lst: lst[::-1])),
        decl("slice", ("list_slice", L, [L, I, I], True, _slice)),
        decl("sort", ("list_sort", L, [L], True, _sort)),
        decl(SORT_BY_IMPL, ("k8s_sort_by_keys", L, [L, L], False, _sort_by_keys)),
    ]
