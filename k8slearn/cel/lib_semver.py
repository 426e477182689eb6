"""Kubernetes semver library: semver(), isSemver() (each with optional normalize flag),
major/minor/patch, compareTo, isLessThan, isGreaterThan.

Per https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-semver-library:
Semantic Versioning 2.0.0 (https://semver.org/); ``normalize=true`` drops a "v" prefix,
fills missing minor/patch with 0 and strips leading zeros. Precedence rules from semver.org
section 11 (build metadata ignored).
"""
from __future__ import annotations

import re

from k8slearn.cel._decl import TYPES as T, decl, msg_class

# The regular expression published on semver.org (section "Is there a suggested regular
# expression"), written out here.
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")


def _normalize(s: str) -> str:
    s = s[1:] if s.startswith("v") else s
    core, sep, rest = re.match(r"^([0-9.]*)(.*)$", s).group(1), "", ""
    rest = s[len(core):]
    nums = core.split(".") if core else []
    if not 1 <= len(nums) <= 3 or not all(n.isdigit() for n in nums):
        return s
    nums = [str(int(n)) for n in nums] + ["0"] * (3 - len(nums))
    return ".".join(nums) + sep + rest


def parse_semver(s: str, normalize: bool = False):
    text = _normalize(s) if normalize else s
    m = _SEMVER.match(text)
    if not m:
        raise ValueError(f"invalid semver: {s!r}")
    return text, m


def _semver(s, normalize=False):
    return msg_class("kubernetes.Semver")(value=parse_semver(s, normalize)[0])


def _is_semver(s, normalize=False):
    try:
        parse_semver(s, normalize)
    except ValueError:
        return False
    return True


def _key(v):
    m = _SEMVER.match(v.value)
    core = tuple(int(m.group(i)) for i in (1, 2, 3))
    pre = m.group(4)
    if pre is None:
        return core, (1,)
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return core, (0, ids)


def _cmp(a, b):
    ka, kb = _key(a), _key(b)
    return (ka > kb) - (ka < kb)


def _part(i):
    return lambda v: int(_SEMVER.match(v.value).group(i))


def functions():
    V, S, B, I = T.SEMVER, T.STRING, T.BOOL, T.INT
    return [
        decl("semver", ("string_to_semver", V, [S], False, _semver),
             ("string_bool_to_semver", V, [S, B], False, _semver)),
        decl("isSemver", ("is_semver", B, [S], False, _is_semver),
             ("is_semver_normalize", B, [S, B], False, _is_semver)),
        decl("major", ("semver_major", I, [V], True, _part(1))),
        decl("minor", ("semver_minor", I, [V], True, _part(2))),
        decl("patch", ("semver_patch", I, [V], True, _part(3))),
        decl("compareTo", ("semver_compare_to", I, [V, V], True, _cmp)),
        decl("isLessThan", ("semver_less", B, [V, V], True, lambda a, b: _cmp(a, b) < 0)),
        decl("isGreaterThan", ("semver_greater", B, [V, V], True, lambda a, b: _cmp(a, b) > 0)),
    ]
