"""Retry an update when the API answers 409 Conflict: client-go's `RetryOnConflict`, in Python.

An update carries the resourceVersion the writer read; when somebody else wrote in between,
kube-apiserver answers 409 Conflict and the writer must read again, re-apply its change and
retry (https://kubernetes.io/docs/reference/using-api/api-concepts/#conflicts).
client-go packages that loop as `retry.RetryOnConflict(retry.DefaultRetry, fn)`:
https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/client-go/util/retry/util.go#L26-L33

    DefaultRetry = wait.Backoff{Steps: 5, Duration: 10ms, Factor: 1.0, Jitter: 0.1}

`fn` must READ the object, change it and write it, every time it is called: retrying a write
of a stale copy would conflict again. Only conflicts are retried (client-go's
`errors.IsConflict`: reason Conflict, or code 409 with a reason that is not one of the
StatusReasons it knows); any other
error is raised at once, and after `steps` conflicting attempts the last conflict is raised.
"""

from __future__ import annotations

import json
import random
import time
from typing import Callable, TypeVar

T = TypeVar("T")

# client-go util/retry DefaultRetry (see the module docstring for the source)
DEFAULT_STEPS = 5
DEFAULT_DURATION = 0.01  # seconds (10 * time.Millisecond)
DEFAULT_FACTOR = 1.0
DEFAULT_JITTER = 0.1

# The StatusReasons apimachinery's errors package knows (`knownReasons`); IsConflict counts a 409
# as a conflict only when its reason is Conflict or none of these (e.g. a 409 AlreadyExists is not).
# https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go#L47-L67
_KNOWN_REASONS = {
    "Unauthorized", "Forbidden", "NotFound", "AlreadyExists", "Conflict", "Gone", "Invalid", "ServerTimeout",
    "StorageReadError", "Timeout", "TooManyRequests", "BadRequest", "MethodNotAllowed", "NotAcceptable",
    "RequestEntityTooLarge", "UnsupportedMediaType", "InternalError", "Expired", "ServiceUnavailable",
}


def _reason(error) -> str | None:
    body = getattr(error, "body", None)
    if body:
        try:
            return json.loads(body).get("reason")
        except (ValueError, TypeError, AttributeError):
            return None
    return None


def is_conflict(error: BaseException) -> bool:
    """True for a 409 Conflict from the API (client-go `errors.IsConflict`)."""
    if getattr(error, "status", None) is None and not hasattr(error, "body"):
        return False
    reason = _reason(error)
    if reason == "Conflict":
        return True
    return getattr(error, "status", None) == 409 and reason not in _KNOWN_REASONS


def backoff_delays(steps: int = DEFAULT_STEPS, duration: float = DEFAULT_DURATION,
                   factor: float = DEFAULT_FACTOR, jitter: float = DEFAULT_JITTER,
                   rng: random.Random | None = None) -> list[float]:
    """The waits between attempts, as apimachinery's `wait.Backoff` computes them.

    Each wait is `duration` plus up to `jitter * duration` at random; `duration` is then
    multiplied by `factor`. `steps` attempts have `steps - 1` waits between them.
    https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apimachinery/pkg/util/wait/backoff.go
    """
    rng = rng or random.Random()
    out = []
    d = duration
    for _ in range(max(0, steps - 1)):
        out.append(d + (rng.random() * jitter * d if jitter > 0 else 0.0))
        d *= factor
    return out


def retry_on_conflict(fn: Callable[[], T], *, steps: int = DEFAULT_STEPS, duration: float = DEFAULT_DURATION,
                      factor: float = DEFAULT_FACTOR, jitter: float = DEFAULT_JITTER,
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """Call `fn()` until it does not raise a conflict, at most `steps` times; return its result.

    `fn` reads the object, changes it and writes it. A conflict (see `is_conflict`) makes it
    wait (`backoff_delays`) and call `fn` again; any other exception propagates at once; after
    `steps` conflicts the last one propagates.
    """
    if steps < 1:
        from k8slearn.errors import K8sLearnError

        raise K8sLearnError(f"retry_on_conflict needs steps >= 1 (got {steps}); client-go's DefaultRetry uses 5")
    delays = backoff_delays(steps, duration, factor, jitter)
    for attempt in range(steps):
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - filtered just below
            if not is_conflict(e) or attempt == steps - 1:
                raise
        sleep(delays[attempt])
    raise AssertionError("unreachable")  # pragma: no cover
