"""Runtime support for the two-variable comprehension macros transformMap/transformMapEntry.

cel-cpp's two-var-comprehensions extension expands both macros into comprehensions whose
step calls ``cel.@mapInsert(map, key, value)`` (transformMap) or ``cel.@mapInsert(map, map)``
(transformMapEntry). cel-expr-python 0.1.3 declares that function for the checker but binds
no implementation at runtime ("No overload found in reference resolve step for
cel.@mapInsert"), and a second declaration of the name is refused. k8slearn therefore
renames the call in the parsed AST (_rewrite.py) to ``@k8s.mapInsert``, implemented here.
Semantics from cel-spec's extension doc (https://github.com/google/cel-spec, doc/extensions
"Two-variable comprehensions"): transformMapEntry fails when two entries produce the same key.
"""

from __future__ import annotations

from k8slearn.cel._decl import TYPES as T
from k8slearn.cel._decl import Decl, decl
from k8slearn.cel._rewrite import INDEX_OF_IMPL, MAP_INSERT_IMPL, STRING_IMPLS


def _insert_kv(m, key, value):
    if key in m:
        raise ValueError(f"insert failed: key {key!r} already exists")
    out = dict(m)
    out[key] = value
    return out


def _insert_map(m, entry):
    out = dict(m)
    for k, v in entry.items():
        if k in out:
            raise ValueError(f"insert failed: key {k!r} already exists")
        out[k] = v
    return out


def _index_of_offset(s: str, sub: str, offset: int) -> int:
    """cel-go's string indexOf(sub, offset), in code points (ext/strings.go, indexOfOffset)."""
    if offset < 0:
        raise ValueError(f"index out of range: {offset}")
    if sub == "":
        return min(offset, len(s))
    if offset >= len(s):
        return -1
    return s.find(sub, offset)


def _char_at(s: str, i: int) -> str:
    """cel-go's charAt (ext/strings.go): the string's length gives '', beyond is an error."""
    if i < 0 or i > len(s):
        raise ValueError(f"index out of range: {i}")
    return s[i : i + 1]


def _substring(s: str, start: int, end: int | None = None) -> str:
    """cel-go's substring (ext/strings.go substr and substrRange), errors included."""
    if end is None:
        if start < 0 or start > len(s):
            raise ValueError(f"index out of range: {start}")
        return s[start:]
    if start > end:
        raise ValueError(f"invalid substring range. start: {start}, end: {end}")
    for i in (start, end):
        if i < 0 or i > len(s):
            raise ValueError(f"index out of range: {i}")
    return s[start:end]


def functions() -> list[Decl]:
    """The declaration of the map-insert function the two-variable comprehension macros call."""
    M, D = T.MAP, T.DYN
    return [
        decl(
            MAP_INSERT_IMPL,
            ("k8s_map_insert_kv", M, [M, D, D], False, _insert_kv),
            ("k8s_map_insert_map", M, [M, M], False, _insert_map),
        ),
        decl(STRING_IMPLS[("charAt", 1)], ("k8s_char_at", T.STRING, [T.STRING, T.INT], True, _char_at)),
        decl(
            STRING_IMPLS[("substring", 1)],
            ("k8s_substring", T.STRING, [T.STRING, T.INT], True, _substring),
            ("k8s_substring_range", T.STRING, [T.STRING, T.INT, T.INT], True, _substring),
        ),
        decl(INDEX_OF_IMPL, ("k8s_index_of_offset", T.INT, [T.STRING, T.STRING, T.INT], True, _index_of_offset)),
    ]
