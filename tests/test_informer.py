"""The informer (k8slearn.informer) against the suite's real kube-apiserver: both strategies,
ordering, bookmarks, 410 → start over, stop, the store equal to a fresh LIST after a burst of
concurrent writes; and its argument errors offline."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import LIVE, raw_get
from k8slearn.informer import MARKER, Informer, InformerError
from k8slearn.informer.bulk import bulk_configmaps


def test_bad_strategy_is_a_clear_error():
    with pytest.raises(InformerError, match="strategy must be one of"):
        Informer(object(), "/api/v1/configmaps", "listwatchlist")  # type: ignore[arg-type]


def test_run_without_a_limit_refuses():
    with pytest.raises(InformerError, match="watches=N"):
        Informer(object(), "/api/v1/configmaps").run()  # type: ignore[arg-type]


@pytest.fixture
def namespace(live_api):
    from kubernetes import client

    ns = f"k8slearn-inf-{uuid.uuid4().hex[:6]}"
    v1 = client.CoreV1Api(live_api)
    v1.create_namespace({"metadata": {"name": ns}})  # type: ignore[arg-type]
    # kube-controller-manager's root-CA publisher adds kube-root-ca.crt to every new namespace,
    # soon but not at once: the tests count it among the namespace's ConfigMaps
    deadline = time.monotonic() + 60
    while not v1.list_namespaced_config_map(ns, field_selector="metadata.name=kube-root-ca.crt").items:
        assert time.monotonic() < deadline, f"no kube-root-ca.crt in {ns} after 60 s: is kube-controller-manager up?"
        time.sleep(0.2)
    yield ns
    client.CoreV1Api(live_api).delete_namespace(ns)


def _v1(api):
    from kubernetes import client

    return client.CoreV1Api(api)


def _fresh_list(api, ns) -> dict[str, str]:
    status, body = raw_get(api, f"/api/v1/namespaces/{ns}/configmaps")
    assert status == 200
    return {f"{ns}/{i['metadata']['name']}": i["metadata"]["resourceVersion"] for i in json.loads(body)["items"]}


def _store_rvs(inf: Informer) -> dict[str, str]:
    return {k: o["metadata"]["resourceVersion"] for k, o in inf.store.items()}


@LIVE
@pytest.mark.parametrize("strategy", ["listwatch", "watchlist"])
def test_initial_state_and_resource_version(live_api, namespace, strategy):
    v1 = _v1(live_api)
    for i in range(5):
        v1.create_namespaced_config_map(namespace, {"metadata": {"name": f"cm-{i}"}, "data": {"n": str(i)}})  # type: ignore[arg-type]
    # cm-0 becomes the newest object while staying first in key order
    newest = v1.patch_namespaced_config_map("cm-0", namespace, {"data": {"n": "zero"}})
    before = json.loads(raw_get(live_api, f"/api/v1/namespaces/{namespace}/configmaps")[1])
    inf = Informer(live_api, f"/api/v1/namespaces/{namespace}/configmaps", strategy, watch_timeout=2, watches=1)
    inf.run()
    assert inf.synced.is_set() and inf.fell_back is None
    names = sorted(k.split("/")[1] for k in inf.store)
    assert names == ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "kube-root-ca.crt"]
    synced = next(a for a in inf.timeline if a.what == "SYNCED")
    if strategy == "watchlist":
        added = [a for a in inf.timeline if a.what == "ADDED" and a.t <= synced.t]
        assert [a.name for a in added] == sorted(a.name for a in added)  # key order ...
        rvs = [int(a.rv) for a in added]
        assert rvs != sorted(rvs)  # ... not resourceVersion order
        marker = next(a for a in inf.timeline if a.what == "MARKER")
        assert marker.rv == synced.rv
        # the version to resume from is the marker's, not the last initial event's
        assert int(synced.rv) >= int(before["metadata"]["resourceVersion"]) >= int(newest.metadata.resource_version)
        assert inf.requests[0].count("sendInitialEvents=true") == 1 and "resourceVersion=" not in inf.requests[0]
    else:
        assert inf.requests[0] == "resourceVersion=0"
        assert f"resourceVersion={synced.rv}" in inf.requests[1]
    assert int(inf.resource_version) >= int(synced.rv)
    assert _store_rvs(inf) == _fresh_list(live_api, namespace)


@LIVE
def test_watchlist_with_resource_version_zero_and_a_value(live_api, namespace):
    v1 = _v1(live_api)
    cm = v1.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}})  # type: ignore[arg-type]
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    for rv in ("0", cm.metadata.resource_version):
        inf = Informer(live_api, path, "watchlist", watchlist_resource_version=rv, watch_timeout=1, watches=1).run()
        assert f"resourceVersion={rv}" in inf.requests[0]
        assert inf.synced.is_set() and "a" in {k.split("/")[1] for k in inf.store}
        assert int(inf.resource_version) >= int(cm.metadata.resource_version)


@LIVE
@pytest.mark.parametrize("strategy", ["listwatch", "watchlist"])
def test_store_equals_a_fresh_list_after_concurrent_writes(live_api, namespace, strategy):
    v1 = _v1(live_api)
    for i in range(20):
        v1.create_namespaced_config_map(namespace, {"metadata": {"name": f"cm-{i:02d}"}, "data": {"n": "0"}})  # type: ignore[arg-type]
    inf = Informer(live_api, f"/api/v1/namespaces/{namespace}/configmaps", strategy, watch_timeout=30).start()
    try:
        from kubernetes import client

        writers = [client.ApiClient(live_api.configuration) for _ in range(4)]

        def burst(i: int) -> None:
            w = client.CoreV1Api(writers[i % 4])
            try:
                if i % 5 == 0:
                    w.delete_namespaced_config_map(f"cm-{i % 20:02d}", namespace)
                elif i % 5 == 1:
                    w.create_namespaced_config_map(namespace, {"metadata": {"name": f"new-{i:03d}"}})  # type: ignore[arg-type]
                else:
                    w.patch_namespaced_config_map(f"cm-{i % 20:02d}", namespace, {"data": {"n": str(i)}})
            except client.ApiException as e:
                assert e.status == 404  # deleted earlier in the burst

        # writes start while the informer is still getting its initial state
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(burst, range(60)))
        assert inf.wait_synced(30)
        truth = _fresh_list(live_api, namespace)
        deadline = time.monotonic() + 15
        while _store_rvs(inf) != truth and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _store_rvs(inf) == truth
        assert int(inf.resource_version) >= max(int(v) for v in truth.values())
        for w in writers:
            w.close()
    finally:
        inf.stop()
    assert not inf._thread.is_alive()  # type: ignore[union-attr]


@LIVE
def test_bookmarks_move_the_resource_version(live_api, namespace):
    """A watch's bookmark (sent ~2 s before its timeout when there is something newer) is taken."""
    v1 = _v1(live_api)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    v1.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}})  # type: ignore[arg-type]
    inf = Informer(live_api, path, "listwatch", list_resource_version="", watch_timeout=4, watches=1)
    t = threading.Thread(target=inf.run)
    t.start()
    time.sleep(1.0)
    # a write elsewhere moves etcd's revision; a consistent LIST brings this cache up to it
    v1.patch_namespace(namespace, {"metadata": {"annotations": {"k8slearn/x": "y"}}})
    raw_get(live_api, path)
    t.join(20)
    bookmarks = [a for a in inf.timeline if a.what == "BOOKMARK"]
    assert bookmarks, inf.timeline
    assert inf.resource_version == bookmarks[-1].rv
    assert int(bookmarks[-1].rv) > int(next(a.rv for a in inf.timeline if a.what == "SYNCED"))


@LIVE
def test_stop_ends_a_long_watch_at_once(live_api, namespace):
    inf = Informer(live_api, f"/api/v1/namespaces/{namespace}/configmaps", "watchlist", watch_timeout=300).start()
    assert inf.wait_synced(10)
    t0 = time.monotonic()
    inf.stop()
    assert time.monotonic() - t0 < 3 and not inf._thread.is_alive()  # type: ignore[union-attr]
    assert inf.error is None


@LIVE
def test_watchlist_falls_back_when_the_gate_is_off(live_api, namespace):
    """WatchList=false: the watch-list is refused (422) and the informer lists and watches."""
    from k8slearn.cluster import local

    found = dict(local.require_state()["options"])
    local.restart_apiserver(local.Options(**{**found, "feature_gates": "WatchList=false"}), log=lambda _: None)
    try:
        from k8slearn.cluster import live

        api = live.api_client(live.LOCAL_CONTEXT)
        _v1(api).create_namespaced_config_map(namespace, {"metadata": {"name": "a"}})  # type: ignore[arg-type]
        inf = Informer(api, f"/api/v1/namespaces/{namespace}/configmaps", "watchlist", watch_timeout=1, watches=1)
        inf.run()
        assert inf.fell_back and "422" in inf.fell_back and "WatchList" in inf.fell_back
        assert [a.what for a in inf.timeline][:3] == ["FALLBACK", "LIST", "SYNCED"]
        assert "a" in {k.split("/")[1] for k in inf.store}
    finally:
        local.restart_apiserver(local.Options(**found), log=lambda _: None)


@LIVE
def test_too_old_resource_version_starts_over(live_api, namespace):
    """410: the watch cache dropped the history the informer would resume from (more events than
    its capacity, the oldest over 75 s old); the informer starts over and ends equal to a LIST."""
    v1 = _v1(live_api)
    cm = v1.create_namespaced_config_map(namespace, {"metadata": {"name": "churn"}})  # type: ignore[arg-type]
    old = cm.metadata.resource_version
    for i in range(120):
        v1.patch_namespaced_config_map("churn", namespace, {"data": {"n": str(i)}})
    time.sleep(80)
    for i in range(600):
        v1.patch_namespaced_config_map("churn", namespace, {"data": {"n": f"b{i}"}})
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    status, body = raw_get(live_api, path, {"watch": "true", "resourceVersion": old, "timeoutSeconds": "1"})
    first = json.loads(body.splitlines()[0]) if status == 200 else {"object": json.loads(body)}
    assert first["object"].get("code") == 410, first
    for strategy in ("listwatch", "watchlist"):
        inf = Informer(live_api, path, strategy, resume_from=old, watch_timeout=1, watches=1).run()
        assert inf.relists == 1 and inf.timeline[0].what == "EXPIRED"
        assert _store_rvs(inf) == _fresh_list(live_api, namespace)


@LIVE
def test_bulk_tool_cleans_up(live_api):
    ns = f"k8slearn-bulk-{uuid.uuid4().hex[:6]}"
    with bulk_configmaps(live_api, ns, n=30, size=100, workers=4, progress=False) as made:
        assert len(made.names) == 30
        query = {"labelSelector": f"k8slearn/bulk={ns}"}
        items = json.loads(raw_get(live_api, f"/api/v1/namespaces/{ns}/configmaps", query)[1])["items"]
        assert len(items) == 30 and len(items[0]["data"]["payload"]) == 100
    from kubernetes import client

    with pytest.raises(client.ApiException) as gone:
        _v1(live_api).read_namespace(ns)
    assert gone.value.status == 404


def test_marker_name():
    assert MARKER == "k8s.io/initial-events-end"
