"""retry_on_conflict: client-go's RetryOnConflict in Python, against the real kube-apiserver."""

import json
import random
import uuid

import pytest

from conftest import LIVE
from k8slearn.errors import K8sLearnError
from k8slearn.retry import (DEFAULT_DURATION, DEFAULT_FACTOR, DEFAULT_JITTER, DEFAULT_STEPS, backoff_delays,
                            is_conflict, retry_on_conflict)

pytestmark = LIVE  # see conftest.LIVE


NS, NS2 = (f"k8slearn-retry-{uuid.uuid4().hex[:6]}" for _ in range(2))


@pytest.fixture(scope="module")
def v1(live_api):
    from kubernetes import client

    api = client.CoreV1Api(live_api)
    yield api
    for ns in api.list_namespace().items:
        if ns.metadata.name in (NS, NS2):
            api.delete_namespace(ns.metadata.name)


def test_defaults_are_client_gos_default_retry():
    # staging/src/k8s.io/client-go/util/retry/util.go: Steps 5, Duration 10ms, Factor 1.0, Jitter 0.1
    assert (DEFAULT_STEPS, DEFAULT_DURATION, DEFAULT_FACTOR, DEFAULT_JITTER) == (5, 0.01, 1.0, 0.1)


def test_backoff_delays_stay_within_the_jitter():
    delays = backoff_delays(rng=random.Random(1))
    assert len(delays) == 4
    assert all(0.01 <= d <= 0.011 for d in delays)
    assert backoff_delays(3, 1.0, 2.0, 0.0) == [1.0, 2.0]


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

    done = retry_on_conflict(bump, sleep=waits.append)
    assert len(calls) == 3 and len(waits) == 2
    assert done.data["n"] == "201", "both of the other writer's updates and ours survive"


def test_gives_up_after_steps_conflicts_and_raises_the_last(v1):
    from kubernetes.client import ApiException

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
        retry_on_conflict(blind, steps=3, sleep=lambda s: None)
    assert len(attempts) == 3 and e.value.status == 409


def test_other_errors_are_not_retried(v1):
    from kubernetes.client import ApiException

    attempts = []

    def missing():
        attempts.append(1)
        return v1.read_namespaced_config_map("nope", "default")

    with pytest.raises(ApiException) as e:
        retry_on_conflict(missing, sleep=lambda s: None)
    assert e.value.status == 404 and attempts == [1]


def test_already_exists_is_not_a_conflict():
    class Fake(Exception):
        status = 409
        body = json.dumps({"reason": "AlreadyExists"})

    class Conflict(Exception):
        status = 409
        body = json.dumps({"reason": "Conflict"})

    assert not is_conflict(Fake()) and is_conflict(Conflict()) and not is_conflict(ValueError("409"))


def test_steps_must_be_positive():
    with pytest.raises(K8sLearnError, match="steps >= 1"):
        retry_on_conflict(lambda: None, steps=0)
