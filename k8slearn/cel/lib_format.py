"""Kubernetes format library: format.named(), format.<name>(), <Format>.validate().

Source: staging/src/k8s.io/apiserver/pkg/cel/library/format.go
(https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/apiserver/pkg/cel/library/format.go)
and https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-format-library .
Error messages are those of
staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go (IsDNS1123Label,
IsDNS1123Subdomain, IsDNS1035Label, MaxLenError, RegexError) and
staging/src/k8s.io/apimachinery/pkg/api/validate/content/kube.go (IsLabelKey, used for
qualifiedName, and IsLabelValue).

``validate`` returns ``optional<list<string>>`` in Kubernetes. cel-expr-python cannot build
optional values in Python, so the Python functions here return plain lists and the engine
wraps them into optionals at the CEL level (see _rewrite.py); ``validate`` and
``format.named`` are declared with their real types for the type checker.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from urllib.parse import urlsplit

from k8slearn.cel._decl import TYPES as T
from k8slearn.cel._decl import Decl, cel, decl, msg_class
from k8slearn.cel._rewrite import FORMAT_CONSTANTS, NAMED_IMPL, VALIDATE_IMPL

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "
    "characters or '-', and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric "
    "character"
)
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)
_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = "(" + _LABEL_KEY_FMT + ")?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, "
    "'-', '_' or '.', and must start and end with an alphanumeric character"
)


def _full(fmt):
    # Go's regexp.MatchString with ^...$ ; \Z so that a trailing newline does not match
    return re.compile("^(?:" + fmt + r")\Z")


_RE = {
    f: _full(f)
    for f in (_DNS1123_LABEL_FMT, _DNS1123_SUBDOMAIN_FMT, _DNS1035_LABEL_FMT, _LABEL_KEY_FMT, _LABEL_VALUE_FMT)
}


def max_len_error(n: int) -> str:
    """validation.go MaxLenError, same wording."""
    return f"must be no more than {n} characters"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """validation.go RegexError, same wording and punctuation."""
    if not examples:
        return msg + " (regex used for validation is '" + fmt + "')"
    return msg + " (e.g. " + " or ".join(f"'{e}', " for e in examples) + "regex used for validation is '" + fmt + "')"


def _blen(s: str) -> int:
    return len(s.encode())  # Go len() counts bytes


def dns1123_label(s: str) -> list[str]:
    """validation.go IsDNS1123Label: the errors for ``s`` ([] when valid)."""
    errs = []
    if _blen(s) > 63:
        errs.append(max_len_error(63))
    if not _RE[_DNS1123_LABEL_FMT].match(s):
        if _RE[_DNS1123_SUBDOMAIN_FMT].match(s):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain(s: str) -> list[str]:
    """validation.go IsDNS1123Subdomain: the errors for ``s`` ([] when valid)."""
    errs = []
    if _blen(s) > 253:
        errs.append(max_len_error(253))
    if not _RE[_DNS1123_SUBDOMAIN_FMT].match(s):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def dns1035_label(s: str) -> list[str]:
    """validation.go IsDNS1035Label: the errors for ``s`` ([] when valid)."""
    errs = []
    if _blen(s) > 63:
        errs.append(max_len_error(63))
    if not _RE[_DNS1035_LABEL_FMT].match(s):
        errs.append(regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def qualified_name(s: str) -> list[str]:
    """content.IsLabelKey (validation.IsQualifiedName is an alias of it)."""
    examples = ("MyName", "my.name", "123-abc")
    parts = s.split("/")
    errs: list[str] = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain(prefix))
    else:
        return [
            "a valid label key "
            + regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, *examples)
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif _blen(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not _RE[_LABEL_KEY_FMT].match(name):
        errs.append("name part " + regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, *examples))
    return errs


def label_value(s: str) -> list[str]:
    """validation.go IsValidLabelValue: the errors for ``s`` ([] when valid)."""
    errs = []
    if _blen(s) > 63:
        errs.append(max_len_error(63))
    if not _RE[_LABEL_VALUE_FMT].match(s):
        errs.append(regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def _mask_trailing_dash(s: str) -> str:
    """apimachinery/pkg/api/validation/generic.go maskTrailingDash, used by the *Prefix
    formats (NameIsDNSLabel(s, true) etc.): a trailing '-' of a generateName prefix is
    allowed. Go: ``name[:len(name)-2] + "a"`` when len(name) > 1 and it ends with '-'."""
    if len(s) > 1 and s.endswith("-"):
        return s[:-2] + "a"
    return s


def uri(s: str) -> list[str]:
    """Go url.ParseRequestURI, approximated: an absolute URI or an absolute path."""
    problem = None
    if not s:
        problem = "empty url"
    elif not s.startswith("/"):
        scheme = s.split(":", 1)[0] if ":" in s else ""
        if not scheme:
            problem = "invalid URI for request"
        elif not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", scheme):
            problem = (
                "first path segment in URL cannot contain colon"
                if s[0].isalpha() or s[0].isdigit()
                else "missing protocol scheme"
            )
        else:
            try:
                urlsplit(s)
            except ValueError as exc:
                problem = str(exc)
    if any(c in s for c in " \t\n") and problem is None and "?" not in s:
        problem = 'invalid character " " in host name' if "//" in s else "invalid URI for request"
    return [f'parse "{s}": {problem}'] if problem else []


_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\Z", re.I)


def uuid(s: str) -> list[str]:
    """The errors of the ``uuid`` format for ``s`` ([] when valid)."""
    return [] if _UUID.match(s) else ["does not match the UUID format"]


def byte(s: str) -> list[str]:
    """The errors of the ``byte`` (base64) format for ``s`` ([] when valid)."""
    try:
        base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return ["invalid base64"]
    return []


def date(s: str) -> list[str]:
    """The errors of the ``date`` (RFC 3339 full-date) format for ``s`` ([] when valid)."""
    try:
        if not re.match(r"^\d{4}-\d{2}-\d{2}\Z", s):
            raise ValueError(s)
        datetime.date.fromisoformat(s)
    except ValueError:
        return ["invalid date"]
    return []


_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?\Z")


def date_time(s: str) -> list[str]:
    """kube-openapi strfmt date-time: RFC 3339 and the relaxed layouts strfmt accepts."""
    m = _DATETIME.match(s)
    if m:
        try:
            datetime.date.fromisoformat(s[:10])
            hh, mm = int(s[11:13]), int(s[14:16])
            if hh < 24 and mm < 60:
                return []
        except ValueError:
            pass
    return ["invalid datetime"]


VALIDATORS = {
    "dns1123Label": dns1123_label,
    "dns1123Subdomain": dns1123_subdomain,
    "dns1035Label": dns1035_label,
    "qualifiedName": qualified_name,
    "dns1123LabelPrefix": lambda s: dns1123_label(_mask_trailing_dash(s)),
    "dns1123SubdomainPrefix": lambda s: dns1123_subdomain(_mask_trailing_dash(s)),
    "dns1035LabelPrefix": lambda s: dns1035_label(_mask_trailing_dash(s)),
    "labelValue": label_value,
    "uri": uri,
    "uuid": uuid,
    "byte": byte,
    "date": date,
    "datetime": date_time,
}
assert tuple(VALIDATORS) == FORMAT_CONSTANTS


def validate(name: str, value: str) -> list[str]:
    """The error messages Kubernetes' validator for format ``name`` returns (empty: valid)."""
    return VALIDATORS[name](value)


def _format(name):
    return msg_class("kubernetes.Format")(name=name)


def _errors(fmt, value):
    return validate(fmt.name, value)


def _named(name):
    return [_format(name)] if name in VALIDATORS else []


def _not_rewritten(*_):
    raise ValueError("internal: this call should have been rewritten by k8slearn.cel._rewrite")


def functions() -> list[Decl]:
    """The declarations of Kubernetes' format library functions."""
    c = cel()
    F, S = T.FORMAT, T.STRING
    # "optional_type" is the name cel-cpp gives its optional opaque type
    opt_list = c.Type.AbstractType("optional_type", [T.LIST_STRING])
    opt_format = c.Type.AbstractType("optional_type", [F])
    out = [decl("format." + name, (f"format_{name}", F, [], False, lambda n=name: _format(n))) for name in VALIDATORS]
    out += [
        decl("validate", ("format_validate", opt_list, [F, S], True, _not_rewritten)),
        decl("format.named", ("format_named", opt_format, [S], False, _not_rewritten)),
        decl(VALIDATE_IMPL, ("k8s_format_errors", T.LIST_STRING, [F, S], False, _errors)),
        decl(NAMED_IMPL, ("k8s_format_named", T.LIST, [S], False, _named)),
    ]
    return out
