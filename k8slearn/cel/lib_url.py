"""Kubernetes URL library: url(), isURL(), getScheme/getHost/getHostname/getPort/
getEscapedPath/getQuery.

Kubernetes checks a URL with Go's ``url.ParseRequestURI`` (k8s.io/apiserver@v0.37.2
pkg/cel/library/urls.go, stringToUrl and isURL) and fails with ``URL parse error during
conversion from string: parse "<s>": <why>``. :func:`parse_request_uri` follows the rules of
that function as documented for net/url (a scheme is a letter followed by letters, digits,
``+ - .``; without a scheme the URL must be an absolute path; after the scheme, a text not
starting with ``/`` is an opaque URL such as ``mailto:a@example.com``; ``//`` starts the
authority, whose host may not hold spaces or ``%`` escapes of ASCII; a port is digits only;
control characters are refused), written here from those rules, with ``urllib.parse``
unescaping the path and the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote

from k8slearn.cel._decl import TYPES as T
from k8slearn.cel._decl import Decl, decl, msg_class

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST_OK = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:\[\]%]*")
_PATH_OK = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")


@dataclass(frozen=True)
class GoURL:
    scheme: str
    opaque: str
    host: str
    path: str
    raw_path: str
    raw_query: str


def parse_request_uri(s: str) -> GoURL:
    """Go's url.ParseRequestURI(s); ValueError with Go's message (``parse "s": why``)."""

    def fail(why: str) -> ValueError:
        from k8slearn.cel._gomsg import go_quote

        return ValueError(f"parse {go_quote(s)}: {why}")

    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in s):
        raise fail("net/url: invalid control character in URL")
    if s == "":
        raise fail("empty url")
    if s == "*":
        return GoURL("", "", "", "*", "*", "")
    scheme, rest = "", s
    m = _SCHEME.match(s)
    if m and s[m.end() : m.end() + 1] == ":":
        scheme, rest = m.group(0).lower(), s[m.end() + 1 :]
    elif s.startswith(":"):
        raise fail("missing protocol scheme")
    rest, _, query = rest.partition("?") if "?" in rest else (rest, "", "")
    if not rest.startswith("/"):
        if scheme:
            return GoURL(scheme, rest, "", "", "", query)
        raise fail("invalid URI for request")
    host = ""
    if scheme and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        userinfo, at, host = authority.rpartition("@")
        if not at:
            host = authority
        host = _check_host(host, fail)
    if _BAD_ESCAPE.search(rest):
        bad = rest[_BAD_ESCAPE.search(rest).start() :][:3]  # type: ignore[union-attr]
        raise fail(f'invalid URL escape "{bad}"')
    return GoURL(scheme, "", host, unquote(rest), rest, query)


def _check_host(host: str, fail) -> str:
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise fail("missing ']' in host")
        port = host[end + 1 :]
        if port and (not port.startswith(":") or not port[1:].isdigit() and port != ":"):
            raise fail(f'invalid port "{port}" after host')
        return host
    name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    if colon and port and not port.isdigit():
        raise fail(f'invalid port "{colon}{port}" after host')
    for m in re.finditer(r"%([0-9A-Fa-f]{2})?", name):
        if not m.group(1):
            raise fail(f'invalid URL escape "{name[m.start() : m.start() + 3]}"')
        if int(m.group(1)[0], 16) < 8 and m.group(1).upper() != "25":
            raise fail(f'invalid URL escape "{m.group(0)}"')
    for ch in name:
        if not _HOST_OK.fullmatch(ch) and ord(ch) < 0x80:
            raise fail(f"invalid character {go_quote_char(ch)} in host name")
    return host


def go_quote_char(ch: str) -> str:
    from k8slearn.cel._gomsg import go_quote

    return go_quote(ch)


def _parse(s: str) -> GoURL:
    return parse_request_uri(s)


def _url(s):
    try:
        _parse(s)
    except ValueError as exc:
        raise ValueError(f"URL parse error during conversion from string: {exc}") from None
    return msg_class("kubernetes.URL")(value=s)


def _is_url(s):
    try:
        _parse(s)
    except ValueError:
        return False
    return True


def _host(u):
    return _parse(u.value).host


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
    """Go's URL.EscapedPath: the path as written when that is a valid encoding, else escaped."""
    p = _parse(u.value)
    if _PATH_OK.fullmatch(p.raw_path) and unquote(p.raw_path) == p.path:
        return p.raw_path
    return quote(p.path, safe="/%!$&'()*+,;=:@~-._")


def _query(u):
    return parse_qs(_parse(u.value).raw_query, keep_blank_values=True)


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
