"""Notebook 03's pure helpers (k8slearn.notebook.watchlist) and Lab.timed in replay, offline."""

from __future__ import annotations

import json

import pytest

from k8slearn.errors import FixtureMissing
from k8slearn.notebook import watchlist as wl

LIST_TL = [
    {"t": 0.010, "what": "LIST", "name": None, "rv": "9", "request": 1, "items": 100},
    {"t": 0.020, "what": "LIST", "name": None, "rv": "9", "request": 2, "items": 1},
    {"t": 0.020, "what": "SYNCED", "name": None, "rv": "9", "request": 2, "items": None},
    {"t": 0.500, "what": "MODIFIED", "name": "a", "rv": "10", "request": 3, "items": None},
]
WL_TL = [{"t": 0.001 * i, "what": "ADDED", "name": f"o{i}", "rv": str(50 - i), "request": 1} for i in range(1, 4)] + [
    {"t": 0.004, "what": "MARKER", "name": None, "rv": "60", "request": 1},
    {"t": 0.004, "what": "SYNCED", "name": None, "rv": "60", "request": 1},
    {"t": 1.0, "what": "BOOKMARK", "name": None, "rv": "61", "request": 1},
]


def test_received_curve_counts_pages_and_events_up_to_synced():
    assert wl.received_curve(LIST_TL) == [(0.0, 0), (10.0, 100), (20.0, 101), (20.0, 101)]
    curve = wl.received_curve(WL_TL)
    assert [c for _, c in curve] == [0, 1, 2, 3, 3, 3] and curve[-1][0] == pytest.approx(4.0)
    assert wl.synced_at(WL_TL) == 0.004


def _run(n, strategy, k, heap_before, heap_peak):
    return {
        "n": n,
        "strategy": strategy,
        "informers": k,
        "objects": [n + 1] * k,
        "seconds_to_synced": [1.0, 3.0, 2.0][:k],
        "bytes_received": [2**20] * k,
        "client_peak_rss": 100 * 2**20,
        "apiserver": {
            "rss_before": 300 * 2**20,
            "rss_peak": 350 * 2**20,
            "heap_before": heap_before,
            "heap_peak": heap_peak,
        },
        "load_average_before": [3.5, 2, 1],
    }


def test_benchmark_rows():
    rows = wl.benchmark_rows({"runs": [_run(1000, "listwatch", 3, 100 * 2**20, 90 * 2**20)]})
    (r,) = rows
    assert r["synced_median_s"] == 2.0 and r["synced_slowest_s"] == 3.0
    assert r["apiserver_rss_increase_mib"] == 50.0
    assert r["apiserver_heap_increase_mib"] is None  # the peak sample below the baseline: no increase
    assert r["received_mib"] == 1.0 and r["load"] == 3.5


def test_missing_benchmark_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("K8SLEARN_DATA", str(tmp_path))
    with pytest.raises(FixtureMissing, match="benchmark results"):
        wl.load_benchmark()


def test_timed_in_replay_returns_the_kept_value_and_labels_it(monkeypatch, tmp_path):
    from k8slearn.lab import Lab

    nb = tmp_path / "rec" / "notebooks" / "nb"
    nb.mkdir(parents=True)
    (nb / "timed.json").write_text(json.dumps({"t": {"value": [1, 2], "when": "2026-12-03 10:00 UTC", "machine": "m"}}))
    monkeypatch.setenv("K8SLEARN_RECORDINGS", str(tmp_path))
    lab = Lab("replay", "test", "nb")
    lab.source = {"recording": "rec"}
    got = lab.timed("t", lambda api: pytest.fail("replay must not measure"))
    assert got == {"value": [1, 2], "source": "recorded 2026-12-03 10:00 UTC on m"}
    with pytest.raises(FixtureMissing, match="no timing 'other'"):
        lab.timed("other", lambda api: None)
    lab.close()


def test_etcd_watch_from_a_revision_progress_and_compaction():
    """etcd's analogue on a real local etcd: replay after a revision, a progress response newer
    than the last event, and a watch from a compacted revision cancelled."""
    from k8slearn.cluster.localetcd import LocalEtcd
    from k8slearn.informer import etcdwatch

    with LocalEtcd(name="wl-test") as server:
        c = server.client()
        for k in "ab":
            c.put(f"/p/{k}", "1")
        rev, items = etcdwatch.list_prefix(c, "/p/")
        assert [k for k, _ in items] == ["/p/a", "/p/b"]

        def writes():
            c.put("/p/c", "1")
            c.put("/q", "1")

        got = etcdwatch.watch_from(c, "/p/", rev + 1, during=writes, request_progress=True, seconds=0.3)
        assert [e for r in got for e in r["events"]] == [("PUT", "/p/c", rev + 1)]
        assert [r["revision"] for r in got if not r["created"] and not r["events"]][-1] == rev + 2
        c.compact(rev + 2)
        gone = etcdwatch.watch_from(c, "/p/", rev, seconds=0.3)
        assert any(r["canceled"] and r["compact_revision"] == rev + 2 for r in gone)


def test_etcd_watch_from_does_not_depend_on_how_long_during_takes():
    """The stream is ended by the client after etcd answered the progress request, not by a
    deadline: a slow `during()` (a loaded machine, a slow disk) changes nothing that is returned.
    With the earlier deadline of `seconds` + 1 s this run got no progress response (the deadline
    ended the stream first); under load a stream could also end with etcd's own UNKNOWN "context
    deadline exceeded", as notebook 03's compacted watch did in a browser-test run."""
    import time

    from k8slearn.cluster.localetcd import LocalEtcd
    from k8slearn.informer import etcdwatch

    with LocalEtcd(name="wl-slow") as server:
        c = server.client()
        c.put("/s/a", "1")
        rev, _ = etcdwatch.list_prefix(c, "/s/")

        def slow_writes():
            c.put("/s/b", "1")
            time.sleep(2.5)
            c.put("/t", "1")

        t0 = time.monotonic()
        got = etcdwatch.watch_from(c, "/s/", rev + 1, during=slow_writes, request_progress=True, seconds=0.2)
        assert [e for r in got for e in r["events"]] == [("PUT", "/s/b", rev + 1)]
        assert [r["revision"] for r in got if not r["created"] and not r["events"]][-1] == rev + 2
        assert time.monotonic() - t0 < 10
