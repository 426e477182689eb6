"""Go's text forms of times and durations, as Kubernetes writes them in JSON.

* ``metav1.Time`` marshals as RFC 3339 with whole seconds in UTC ("2006-01-02T15:04:05Z"),
  and a zero Time as ``null``; its protobuf form drops nanoseconds when read
  (https://github.com/kubernetes/apimachinery/blob/master/pkg/apis/meta/v1/time.go,
  .../time_proto.go).
* ``metav1.MicroTime`` marshals as "2006-01-02T15:04:05.000000Z07:00" (six digits, UTC),
  truncating to microseconds (.../micro_time.go, .../micro_time_proto.go).
* ``metav1.Duration`` marshals as Go's ``time.Duration.String()`` ("1h2m3.5s", "300ms").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1)
_NS = 1_000_000_000


@lru_cache(maxsize=65536)
def format_time(seconds: int) -> str:
    """RFC 3339 in UTC with whole seconds; raises ValueError outside years 0001-9999."""
    try:
        dt = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"timestamp {seconds}s is outside years 1-9999") from None
    return dt.isoformat(timespec="seconds") + "Z"


def format_micro_time(seconds: int, nanos: int) -> str:
    """metav1.MicroTime as Go writes it: RFC 3339 in UTC with microseconds."""
    total = seconds * _NS + nanos
    secs, ns = divmod(total, _NS)
    return f"{format_time(secs)[:-1]}.{ns // 1000:06d}Z"


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


def parse_time(text: str) -> tuple[int, int]:
    """RFC 3339 text -> (seconds since the epoch, nanoseconds)."""
    m = _RFC3339.match(text)
    if not m:
        raise ValueError(f"{text!r} is not an RFC 3339 time")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac = m.group(7) or ""
    nanos = int(frac.ljust(9, "0")) if frac else 0
    offset = 0
    if m.group(9):
        offset = (int(m.group(10)) * 60 + int(m.group(11))) * 60
        if m.group(9) == "-":
            offset = -offset
    dt = datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    seconds = int((dt - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) - offset
    return seconds, nanos


def _frac(value: int, digits: int) -> str:
    whole, rest = divmod(value, 10**digits)
    if not rest:
        return str(whole)
    return f"{whole}.{str(rest).rjust(digits, '0').rstrip('0')}"


def format_duration(ns: int) -> str:
    """Go's time.Duration.String()."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < _NS:
        if u < 1_000:
            text = f"{u}ns"
        elif u < 1_000_000:
            text = _frac(u, 3) + "µs"
        else:
            text = _frac(u, 6) + "ms"
    else:
        hours, rem = divmod(u, 3600 * _NS)
        minutes, rem = divmod(rem, 60 * _NS)
        text = _frac(rem, 9) + "s"
        if hours:
            text = f"{hours}h{minutes}m" + text
        elif minutes:
            text = f"{minutes}m" + text
    return "-" + text if neg else text


_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": _NS, "m": 60 * _NS, "h": 3600 * _NS}
_DUR_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """Go's time.ParseDuration -> nanoseconds."""
    s = text
    neg = s.startswith("-")
    if s[:1] in "+-":
        s = s[1:]
    if s == "0":
        return 0
    pos, total = 0, 0
    if not s:
        raise ValueError(f"{text!r} is not a Go duration")
    for m in _DUR_PART.finditer(s):
        if m.start() != pos:
            break
        number, unit = m.groups()
        whole, _, frac = number.partition(".")
        total += int(whole or 0) * _UNITS[unit]
        if frac:
            total += int(frac) * _UNITS[unit] // 10 ** len(frac)
        pos = m.end()
    if pos != len(s):
        raise ValueError(f"{text!r} is not a Go duration")
    return -total if neg else total
