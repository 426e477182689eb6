"""Notebook 03 (ListWatch and watchList): its key results, read back from a replay run."""

import pytest


@pytest.fixture(scope="module")
def records(executed):
    return executed("03-listwatch-vs-watchlist")


def test_namespace_holds_the_published_root_ca(records):
    assert records["namespace_configmaps"] == ["cm-0", "cm-1", "cm-2", "kube-root-ca.crt"]


def test_list_pages_and_rv0(records):
    assert records["paged_list"] == {"pages": 2, "same_rv": True, "remaining_after_first": 2}
    assert records["rv0_limit_ignored"] == 4  # limit=2 ignored with resourceVersion=0


def test_listwatch_events(records):
    assert records["listwatch_events"] == ["MODIFIED", "ADDED", "DELETED", "BOOKMARK"]


def test_watchlist_stream(records):
    assert records["watchlist_types"] == ["ADDED"] * 4 + ["BOOKMARK", "MODIFIED"]
    assert records["rv0_marker"] == {"explicit": True, "plain_defaulted": True, "without_bookmarks": ["ADDED"] * 4}
    assert records["missing_match"] == {"status": 422, "reason": "Invalid"}


def test_bytes_on_the_wire(records):
    rows = records["bytes_measured"]
    assert [r["n"] for r in rows] == [1, 10, 30, 100]
    for r in rows:
        assert r["list_items"] == r["n"] and r["watchlist_events"] == r["n"] + 1
        assert r["watchlist_bytes"] > r["list_bytes"]
    largest = [r["watchlist_largest"] for r in rows]
    assert max(largest) - min(largest) < 100
    assert rows[-1]["list_bytes"] > 50 * rows[-1]["watchlist_largest"]


def test_exercise(records):
    assert records["exercise_added"] == 3


def test_gate_on(records):
    assert records["watchlist_gate_on"] is True


def test_exercise_solutions(records):
    assert records["exercise_stream"] == ["ADDED"] * 3 + ["BOOKMARK"]
    assert records["exercise_refusal"] == ["Forbidden: sendInitialEvents is forbidden for list"]


def test_informer_sections(records):
    assert records["resume_versions"] == {"official_after_initial_is_oldest": True, "informer_waits_for_marker": True}
    shapes = records["timeline_shapes"]
    assert shapes["ListWatch, LIST resourceVersion=0"] == ["LIST", "SYNCED"]
    assert shapes["ListWatch, consistent LIST, pages of 100"] == ["LIST"] * 4 + ["SYNCED"]
    assert shapes["watchList"] == ["ADDED", "ADDED", "…", "ADDED", "MARKER", "SYNCED"]
    assert records["fallback"] == ["FALLBACK", "LIST", "SYNCED"]
    assert records["benchmark_runs_checked"] is True


def test_etcd_analogue_and_informer_exercise(records):
    assert records["etcd_analogue"] == {"progress_after_last_event": True, "compacted_cancels": True}
    assert records["exercise_informer"] == ["cm-1", "cm-3", "kube-root-ca.crt"]
