"""retry_on_conflict: client-go's RetryOnConflict from the official client (kubernetes.utils.retry),
with client-go's IsConflict; offline on fake errors, and against the real kube-apiserver."""

import dataclasses
import json
import uuid

import pytest
from kubernetes.client import ApiException

from conftest import LIVE
from k8slearn.retry import DEFAULT_RETRY, Backoff, is_conflict, retry_on_conflict

NS, NS2 = (f"k8slearn-retry-{uuid.uuid4().hex[:6]}" for _ in range(2))


@pytest.fixture(scope="module")
def v1(live_api):
    from kubernetes import client

    api = client.CoreV1Api(live_api)
    yield api
    for ns in api.list_namespace().items:
        if ns.metadata.name in (NS, NS2):
            api.delete_namespace(ns.metadata.name)


def _api_error(status, reason):
    e = ApiException(status=status, reason=reason)
    e.body = json.dumps({"kind": "Status", "status": "Failure", "reason": reason, "code": status})
    return e


def _failing(errors):
    """fn for retry_on_conflict: raises the given errors in turn, then returns "done"."""
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "done"

    return fn, calls


def test_defaults_are_client_gos_default_retry():
    # staging/src/k8s.io/client-go/util/retry/util.go: Steps 5, Duration 10ms, Factor 1.0, Jitter 0.1
    assert (DEFAULT_RETRY.steps, DEFAULT_RETRY.duration, DEFAULT_RETRY.factor, DEFAULT_RETRY.jitter) == (
        5,
        0.01,
        1.0,
        0.1,
    )


def test_a_conflict_is_retried_with_jittered_waits():
    fn, calls = _failing([_api_error(409, "Conflict")] * 2)
    waits = []
    assert retry_on_conflict(fn, sleep_func=waits.append, random_func=lambda: 1.0) == "done"
    assert len(calls) == 3 and waits == [pytest.approx(0.011)] * 2  # 10 ms plus at most 10 %


def test_gives_up_after_five_attempts_with_the_last_conflict():
    errors = [_api_error(409, "Conflict") for _ in range(6)]
    fn, calls = _failing(errors)
    waits = []
    with pytest.raises(ApiException) as e:
        retry_on_conflict(fn, sleep_func=waits.append, random_func=lambda: 0.0)
    assert len(calls) == 5 and waits == [0.01] * 4 and e.value is errors[4]


@pytest.mark.parametrize(
    "error",
    [
        _api_error(409, "AlreadyExists"),
        _api_error(404, "NotFound"),
        _api_error(500, "InternalError"),
        ValueError("409"),
    ],
)
def test_other_errors_are_raised_at_once(error):
    fn, calls = _failing([error])
    with pytest.raises(type(error)):
        retry_on_conflict(fn, sleep_func=lambda s: pytest.fail("slept"))
    assert calls == [1]


def test_is_conflict_is_client_gos():
    assert is_conflict(_api_error(409, "Conflict"))
    assert is_conflict(ApiException(status=409))  # no Status body: reason unknown, code 409
    assert not is_conflict(_api_error(409, "AlreadyExists")) and not is_conflict(ValueError("409"))
    # Why k8slearn.retry keeps its own: the library's counts every 409. When this fails, the
    # library follows client-go and k8slearn.retry can re-export its retry_on_conflict.
    from kubernetes.utils import retry

    assert retry.is_conflict(_api_error(409, "AlreadyExists"))


def test_steps_must_be_positive():
    with pytest.raises(ValueError, match="steps must be at least 1"):
        Backoff(steps=0, duration=0.01, factor=1.0)


@LIVE  # see conftest.LIVE
def test_a_concurrent_writer_is_survived_by_re_reading(v1):
    v1.create_namespace({"metadata": {"name": NS}})
    v1.create_namespaced_config_map(NS, {"metadata": {"name": "counter"}, "data": {"n": "0"}})
    calls, waits = [], []

    def bump():
        cm = v1.read_namespaced_config_map("counter", NS)
        if len(calls) < 2:  # another writer sneaks in between our read and our write, twice
            other = v1.read_namespaced_config_map("counter", NS)
            other.data["n"] = str(int(other.data["n"]) + 100)
            v1.replace_namespaced_config_map("counter", NS, other)
        calls.append(cm.metadata.resource_version)
        cm.data["n"] = str(int(cm.data["n"]) + 1)
        return v1.replace_namespaced_config_map("counter", NS, cm)

    done = retry_on_conflict(bump, sleep_func=waits.append)
    assert len(calls) == 3 and len(waits) == 2
    assert done.data["n"] == "201", "both of the other writer's updates and ours survive"


@LIVE  # see conftest.LIVE
def test_gives_up_after_steps_conflicts_and_raises_the_last(v1):
    v1.create_namespace({"metadata": {"name": NS2}})
    stale = v1.create_namespaced_config_map(NS2, {"metadata": {"name": "c"}, "data": {"n": "0"}})
    fresh = v1.read_namespaced_config_map("c", NS2)
    fresh.data["n"] = "1"
    v1.replace_namespaced_config_map("c", NS2, fresh)
    attempts = []

    def blind():  # wrong on purpose: writes the same stale copy every time
        attempts.append(1)
        return v1.replace_namespaced_config_map("c", NS2, stale)

    with pytest.raises(ApiException) as e:
        retry_on_conflict(blind, dataclasses.replace(DEFAULT_RETRY, steps=3), sleep_func=lambda s: None)
    assert len(attempts) == 3 and e.value.status == 409


@LIVE  # see conftest.LIVE
def test_other_errors_are_not_retried(v1):
    attempts = []

    def missing():
        attempts.append(1)
        return v1.read_namespaced_config_map("nope", "default")

    with pytest.raises(ApiException) as e:
        retry_on_conflict(missing, sleep_func=lambda s: None)
    assert e.value.status == 404 and attempts == [1]
