"""Kubernetes URL library: url(), isURL(), getScheme/getHost/getHostname/getPort/
getEscapedPath/getQuery.

Kubernetes parses with Go's net/url and requires an absolute URL
(https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-url-library,
k8s.io/apiserver/pkg/cel/library/urls.go). Here ``urllib.parse`` stands in for net/url:
the docs examples agree; exotic inputs may parse differently.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

from k8slearn.cel._decl import TYPES as T
from k8slearn.cel._decl import Decl, decl, msg_class


def _parse(s: str):
    parts = urlsplit(s)
    if not parts.scheme or not (parts.netloc or parts.path.startswith("/")):
        raise ValueError(f"URL is not absolute: {s!r}")
    if any(c in s for c in "\x00\r\n"):
        raise ValueError(f"URL contains control characters: {s!r}")
    return parts


def _url(s):
    _parse(s)
    return msg_class("kubernetes.URL")(value=s)


def _is_url(s):
    try:
        _parse(s)
    except ValueError:
        return False
    return True


def _host(u):
    return _parse(u.value).netloc.rpartition("@")[2]


def _hostname(u):
    host = _host(u)
    if host.startswith("["):
        return host[1 : host.index("]")]
    return host.rsplit(":", 1)[0] if ":" in host else host


def _port(u):
    host = _host(u)
    tail = host[host.index("]") + 1 :] if host.startswith("[") else host
    return tail.rsplit(":", 1)[1] if ":" in tail else ""


def _escaped_path(u):
    return quote(_parse(u.value).path, safe="/%!$&'()*+,;=:@~-._")


def _query(u):
    return parse_qs(_parse(u.value).query, keep_blank_values=True)


def functions() -> list[Decl]:
    """The declarations of Kubernetes' URL library functions."""
    U, S = T.URL, T.STRING
    return [
        decl("url", ("string_to_url", U, [S], False, _url)),
        decl("isURL", ("is_url_string", T.BOOL, [S], False, _is_url)),
        decl("getScheme", ("url_get_scheme", S, [U], True, lambda u: _parse(u.value).scheme)),
        decl("getHost", ("url_get_host", S, [U], True, _host)),
        decl("getHostname", ("url_get_hostname", S, [U], True, _hostname)),
        decl("getPort", ("url_get_port", S, [U], True, _port)),
        decl("getEscapedPath", ("url_get_escaped_path", S, [U], True, _escaped_path)),
        decl("getQuery", ("url_get_query", T.MAP_STRING_LIST, [U], True, _query)),
    ]
