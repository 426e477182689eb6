"""Retry an update when the API answers 409 Conflict: client-go's `RetryOnConflict`, from the official client.

An update carries the resourceVersion the writer read; when somebody else wrote in between,
kube-apiserver answers 409 Conflict and the writer must read again, re-apply its change and
retry (https://kubernetes.io/docs/reference/using-api/api-concepts/#conflicts).
client-go packages that loop as `retry.RetryOnConflict(retry.DefaultRetry, fn)`:
https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/client-go/util/retry/util.go#L26-L33

    DefaultRetry = wait.Backoff{Steps: 5, Duration: 10ms, Factor: 1.0, Jitter: 0.1}

The official Python client (kubernetes >= 37) ports that package as `kubernetes.utils.retry`:
`Backoff`, `DEFAULT_RETRY`, `on_error` (client-go's `OnError`) and `retry_on_conflict`. We use
it, with one difference: its `is_conflict` counts every HTTP 409 as a conflict, while client-go's
`errors.IsConflict` does not retry a 409 whose reason is another one it knows (a 409
AlreadyExists is not a conflict). `retry_on_conflict` below is the library's, called with
client-go's test.

`fn` must READ the object, change it and write it, every time it is called: retrying a write
of a stale copy would conflict again. Any other error is raised at once, and after
`backoff.steps` conflicting attempts the last conflict is raised.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import TypeVar

from kubernetes.utils.retry import DEFAULT_RETRY, Backoff, on_error

__all__ = ["Backoff", "DEFAULT_RETRY", "is_conflict", "retry_on_conflict"]

T = TypeVar("T")

# The StatusReasons apimachinery's errors package knows (`knownReasons`); IsConflict counts a 409
# as a conflict only when its reason is Conflict or none of these.
# https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go#L47-L68
_KNOWN_REASONS = {
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "Gone",
    "Invalid",
    "ServerTimeout",
    "StorageReadError",
    "Timeout",
    "TooManyRequests",
    "BadRequest",
    "MethodNotAllowed",
    "NotAcceptable",
    "RequestEntityTooLarge",
    "UnsupportedMediaType",
    "InternalError",
    "Expired",
    "ServiceUnavailable",
}


def _reason(error: BaseException) -> str | None:
    """The `reason` of the Status object in an ApiException's body, if there is one."""
    body = getattr(error, "body", None)
    if not body:
        return None
    try:
        return json.loads(body).get("reason")
    except (ValueError, TypeError, AttributeError):
        return None


def is_conflict(error: BaseException) -> bool:
    """True for a 409 Conflict from the API, as client-go's `errors.IsConflict` decides:
    https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go#L548-L557
    """
    if getattr(error, "status", None) is None and not hasattr(error, "body"):
        return False
    reason = _reason(error)
    if reason == "Conflict":
        return True
    return getattr(error, "status", None) == 409 and reason not in _KNOWN_REASONS


def retry_on_conflict(
    fn: Callable[[], T],
    backoff: Backoff = DEFAULT_RETRY,
    sleep_func: Callable[[float], None] = time.sleep,
    random_func: Callable[[], float] = random.random,
) -> T:
    """`kubernetes.utils.retry.retry_on_conflict` (same arguments), retrying only what
    client-go's `IsConflict` calls a conflict; returns `fn()`'s result."""
    return on_error(backoff, is_conflict, fn, sleep_func, random_func)
