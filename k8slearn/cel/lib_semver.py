"""Kubernetes semver library: semver(), isSemver() (each with optional normalize flag),
major/minor/patch, compareTo, isLessThan, isGreaterThan.

Per https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-semver-library:
Semantic Versioning 2.0.0 (https://semver.org/). Parsing and precedence (semver.org section 11,
build metadata ignored) come from the `semver` package; Kubernetes parses with
github.com/blang/semver/v4, which follows the same specification.

What is ours is ``normalize=true``, a Kubernetes quirk with no equivalent in either package:
`normalizeAndParse` in
https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apiserver/pkg/cel/library/semverlib.go#L311-L343
"""

from __future__ import annotations

import semver

from k8slearn.cel._decl import TYPES as T
from k8slearn.cel._decl import Decl, decl, msg_class

_UINT64_MAX = 2**64 - 1  # blang/semver stores major, minor and patch as uint64


def _normalize(s: str) -> str:
    """semverlib.go's normalizeAndParse, before its final semver.Parse.

    Drop one leading "v"; split into at most three parts on "."; strip leading zeros from each
    part longer than one character (keeping a "0" when nothing or no digit would lead);
    fill a missing minor and patch with "0", unless the last part carries a pre-release or
    build suffix. Like Kubernetes it does not trim whitespace.
    """
    s = s[1:] if s.startswith("v") else s
    parts = s.split(".", 2)
    for i, p in enumerate(parts):
        if len(p) > 1:
            p = p.lstrip("0")
            if not p or p[0] not in "0123456789":
                p = "0" + p
            parts[i] = p
    if len(parts) < 3:
        if "+" in parts[-1] or "-" in parts[-1]:
            raise ValueError("short version cannot contain PreRelease/Build meta data")
        parts += ["0"] * (3 - len(parts))
    return ".".join(parts)


def parse_semver(s: str, normalize: bool = False) -> semver.Version:
    """The version `semver(s, normalize)` denotes; ValueError when it is not one."""
    text = _normalize(s) if normalize else s
    v = semver.Version.parse(text)  # ValueError on anything that is not SemVer 2.0.0
    if max(v.major, v.minor, v.patch) > _UINT64_MAX:
        raise ValueError(f"invalid semver: {s!r}: a version number does not fit in uint64")
    return v


def _semver(s, normalize=False):
    return msg_class("kubernetes.Semver")(value=str(parse_semver(s, normalize)))


def _is_semver(s, normalize=False):
    try:
        parse_semver(s, normalize)
    except ValueError:
        return False
    return True


def _version(v) -> semver.Version:
    return semver.Version.parse(v.value)


def _cmp(a, b):
    return _version(a).compare(_version(b))


def functions() -> list[Decl]:
    """The declarations of Kubernetes' semver library functions."""
    V, S, B, I = T.SEMVER, T.STRING, T.BOOL, T.INT
    return [
        decl(
            "semver", ("string_to_semver", V, [S], False, _semver), ("string_bool_to_semver", V, [S, B], False, _semver)
        ),
        decl(
            "isSemver", ("is_semver", B, [S], False, _is_semver), ("is_semver_normalize", B, [S, B], False, _is_semver)
        ),
        decl("major", ("semver_major", I, [V], True, lambda v: _version(v).major)),
        decl("minor", ("semver_minor", I, [V], True, lambda v: _version(v).minor)),
        decl("patch", ("semver_patch", I, [V], True, lambda v: _version(v).patch)),
        decl("compareTo", ("semver_compare_to", I, [V, V], True, _cmp)),
        decl("isLessThan", ("semver_less", B, [V, V], True, lambda a, b: _cmp(a, b) < 0)),
        decl("isGreaterThan", ("semver_greater", B, [V, V], True, lambda a, b: _cmp(a, b) > 0)),
    ]
