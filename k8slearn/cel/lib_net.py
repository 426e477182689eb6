"""Kubernetes IP and CIDR libraries (ip, isIP, cidr, isCIDR and members).

Rules from https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-ip-address-library
and #kubernetes-cidr-library: IPv4 or IPv6 only, no IPv4-mapped IPv6 addresses, no zones,
no leading zeros in IPv4 octets. Python's ``ipaddress`` implements the checks.
Note: the docs text says ``cidr('192.168.0.1/16')`` is an error, but the same page's
examples table uses ``cidr('192.168.0.1/24').masked()`` and compares it with its masked
form; this module follows the examples table (host bits are allowed, ``masked()`` clears them).
"""

from __future__ import annotations

import ipaddress

from k8slearn.cel._decl import TYPES as T
from k8slearn.cel._decl import Decl, decl, msg_class
from k8slearn.cel._rewrite import NET_TO_STRING_IMPL


def parse_ip(s: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse an IP address as Kubernetes' CEL library does: no zone, no IPv4-mapped IPv6.
    Error texts are ip.go's (k8s.io/apiserver@v0.37.2 pkg/cel/library, parseIPAddr), with
    Go's netip.ParseAddr reasons for IPv4 text (see _netip_reason)."""
    from k8slearn.cel._gomsg import go_quote

    try:
        addr = ipaddress.ip_address(s.split("%")[0] if "%" in s and ":" in s else s)
    except ValueError:
        reason = _netip_reason(s)
        raise ValueError(
            f"IP Address {go_quote(s)} parse error during conversion from string: ParseAddr({go_quote(s)}): {reason}"
        ) from None
    if "%" in s:
        raise ValueError(f"IP address {go_quote(s)} with zone value is not allowed")
    if addr.version == 6 and addr.ipv4_mapped is not None:
        raise ValueError(f"IPv4-mapped IPv6 address {go_quote(s)} is not allowed")
    return addr


def _netip_reason(s: str) -> str:
    """Why Go's netip.ParseAddr refuses ``s`` (its messages; the IPv4 rules re-stated here)."""
    from k8slearn.cel._gomsg import go_quote

    first = next((c for c in s if c in ".:%"), "")
    if first == "%":
        return "missing IPv6 address"
    if first != ".":
        return "unable to parse IP" if first != ":" else "unable to parse IPv6 address"
    fields, digits, value = 0, 0, 0
    for i, c in enumerate(s):
        if "0" <= c <= "9":
            if digits == 1 and value == 0:
                return "IPv4 field has octet with leading zero"
            value, digits = value * 10 + int(c), digits + 1
            if value > 255:
                return "IPv4 field has value >255"
        elif c == ".":
            if digits == 0:
                return f"IPv4 field must have at least one digit (at {go_quote(s[i:])})"
            if fields == 3:
                return "IPv4 address too long"
            fields, digits, value = fields + 1, 0, 0
        else:
            return f"unexpected character (at {go_quote(s[i:])})"
    if fields < 3:
        return "IPv4 address too short"
    return f"IPv4 field must have at least one digit (at {go_quote(s[-1:])})" if digits == 0 else "unable to parse IP"


def parse_cidr(s: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """Parse CIDR notation into (address, prefix length), rejecting what Kubernetes rejects."""
    addr_text, slash, prefix = s.partition("/")
    if not slash or not prefix.isdigit() or (len(prefix) > 1 and prefix[0] == "0"):
        raise ValueError(f"network address parse error: {s!r} is not CIDR notation")
    addr = parse_ip(addr_text)
    bits = int(prefix)
    if bits > addr.max_prefixlen:
        raise ValueError(f"network address parse error: prefix length {bits} too long")
    return addr, bits


def _ip_msg(addr, text=None):
    # The text as written is kept so that isCanonical() can be answered; a consequence is
    # that `==` between two IP values compares their text (documented limitation).
    return msg_class("net.IP")(value=text if text is not None else str(addr))


def _cidr_msg(addr, bits):
    return msg_class("net.CIDR")(value=f"{addr}/{bits}")


def _cidr(s):
    parse_cidr(s)
    return msg_class("net.CIDR")(value=s)


def _ip(s):
    return _ip_msg(parse_ip(s), s)


def _ok(parser, s):
    try:
        parser(s)
    except ValueError:
        return False
    return True


def _addr(m):
    return ipaddress.ip_address(m.value)


def _net(m):
    addr_text, _, bits = m.value.partition("/")
    return ipaddress.ip_network(f"{addr_text}/{bits}", strict=False)


def _contains_ip(c, other):
    addr = parse_ip(other) if isinstance(other, str) else _addr(other)
    net = _net(c)
    return addr.version == net.version and addr in net


def _contains_cidr(c, other):
    sub = _net(_cidr_msg(*parse_cidr(other))) if isinstance(other, str) else _net(other)
    net = _net(c)
    return sub.version == net.version and sub.subnet_of(net)


def _global_unicast(m):
    a = _addr(m)
    if a.version == 4:
        return not (
            a.is_unspecified
            or a == ipaddress.ip_address("255.255.255.255")
            or a.is_loopback
            or a.is_multicast
            or a.is_link_local
        )
    return not (a.is_unspecified or a.is_loopback or a.is_multicast or a.is_link_local)


def _link_local_multicast(m):
    a = _addr(m)
    if a.version == 4:
        return a in ipaddress.ip_network("224.0.0.0/24")
    return a in ipaddress.ip_network("ff02::/16")


def _is_canonical(s: str) -> bool:
    return str(parse_ip(s)) == s


def _net_to_string(v) -> str:
    """string() of an IP or CIDR (ip.go, cidr.go): the canonical text."""
    name = getattr(getattr(v, "DESCRIPTOR", None), "full_name", "")
    if name == "net.IP":
        return str(_addr(v))
    if name == "net.CIDR":
        addr, bits = parse_cidr(v.value)
        return f"{addr}/{bits}"
    raise ValueError("no such overload")


def functions() -> list[Decl]:
    """The declarations of Kubernetes' IP and CIDR library functions."""
    S, B, I, IP, CIDR = T.STRING, T.BOOL, T.INT, T.IP, T.CIDR
    return [
        decl(
            "ip",
            ("string_to_ip", IP, [S], False, _ip),
            ("cidr_ip", IP, [CIDR], True, lambda c: _ip_msg(parse_ip(c.value.partition("/")[0]))),
        ),
        decl("isIP", ("is_ip", B, [S], False, lambda s: _ok(parse_ip, s))),
        # a global function on a string, named ip.isCanonical (ip.go, ipLibraryDecls at v0.37.2)
        decl("ip.isCanonical", ("ip_is_canonical", B, [S], False, _is_canonical)),
        decl("family", ("ip_family", I, [IP], True, lambda m: _addr(m).version)),
        decl("isUnspecified", ("ip_is_unspecified", B, [IP], True, lambda m: _addr(m).is_unspecified)),
        decl("isLoopback", ("ip_is_loopback", B, [IP], True, lambda m: _addr(m).is_loopback)),
        decl("isLinkLocalMulticast", ("ip_is_link_local_multicast", B, [IP], True, _link_local_multicast)),
        decl(
            "isLinkLocalUnicast",
            ("ip_is_link_local_unicast", B, [IP], True, lambda m: _addr(m).is_link_local and not _addr(m).is_multicast),
        ),
        decl("isGlobalUnicast", ("ip_is_global_unicast", B, [IP], True, _global_unicast)),
        decl("cidr", ("string_to_cidr", CIDR, [S], False, _cidr)),
        decl("isCIDR", ("is_cidr", B, [S], False, lambda s: _ok(parse_cidr, s))),
        decl(
            "containsIP",
            ("cidr_contains_ip_string", B, [CIDR, S], True, _contains_ip),
            ("cidr_contains_ip_ip", B, [CIDR, IP], True, _contains_ip),
        ),
        decl(
            "containsCIDR",
            ("cidr_contains_cidr_string", B, [CIDR, S], True, _contains_cidr),
            ("cidr_contains_cidr", B, [CIDR, CIDR], True, _contains_cidr),
        ),
        decl(
            "masked",
            ("cidr_masked", CIDR, [CIDR], True, lambda c: _cidr_msg(_net(c).network_address, _net(c).prefixlen)),
        ),
        decl(NET_TO_STRING_IMPL, ("k8s_net_to_string", S, [T.DYN], False, _net_to_string)),
        decl("prefixLength", ("cidr_prefix_length", I, [CIDR], True, lambda c: _net(c).prefixlen)),
    ]
