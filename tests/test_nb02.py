"""Notebook 02 (resourceVersion): its key results, read back from a replay run.

Each expectation is what kube-apiserver v1.37.2 answered when the notebook was recorded; the
notebook cites the source lines behind each one.
"""

import pytest


@pytest.fixture(scope="module")
def records(executed):
    return executed("02-resource-version")


def test_resource_version_is_mod_revision_and_not_stored(records):
    assert records["rv_equals_mod_revision"] is True
    assert records["stored_has_resource_version"] is False


def test_list_and_pages(records):
    # etcd revision before <= list rv, newest item <= list rv, list rv <= etcd revision after
    assert records["list_rv_between"] == [True, True, True]
    pages = records["pages_share_rv"]
    assert pages["pages"] >= 2 and pages["distinct_rvs"] == 1 and pages["token_rv_matches"] is True


def test_timeline_and_generation(records):
    assert records["timeline_versions"] == [1, 2, 3, 0]
    assert records["timeline_create_revision_constant"] is True
    assert records["rv_order_follows_writes"] is True
    assert records["generation_steps"] == [1, 2, 2, 2]


def test_every_read_combination_was_asked(records):
    refused = {"list, NotOlderThan / unset", "list, Exact / unset", "list, Exact / 0"}
    matrix = records["read_matrix_status"]
    assert len(matrix) == 16
    assert {k for k, v in matrix.items() if v == 422} == refused
    assert all(v == 200 for k, v in matrix.items() if k not in refused)
    assert records["exact_list_shows_past"] == "blue"
    assert records["watch_semantics"] == {"unset": ["ADDED"], "from_rv": ["MODIFIED"]}
    assert records["future_rv"] == {"status": 504, "reason": "Timeout"}
    assert records["invalid_combinations_status"] == [422, 400, 422, 422]


def test_gone_from_the_watch_cache_and_from_etcd(records):
    assert records["watch_too_old"] == {
        "http": 200,
        "event": "ERROR",
        "code": 410,
        "reason": "Expired",
        "message": "too old resource version: X (Y)",
    }
    c = records["exact_compacted"]
    assert c["list"] == [200, 410] and c["list_message"] == "The resourceVersion for the provided list is too old."
    assert c["watch"] == [200, 410] and c["watch_message"] == "The resourceVersion for the provided watch is too old."
    assert c["configmaps_from_cache"] == 200
    assert records["etcd_compacted_message"] == "etcdserver: mvcc: required revision has been compacted"


def test_concurrency(records):
    c = records["conflict"]
    assert c["status"] == 409 and c["reason"] == "Conflict"
    assert c["message"] == (
        'Operation cannot be fulfilled on configmaps "demo": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert records["patch_conflicts"] == {"with_stale_rv": 409, "without_rv": "applied"}
    assert records["cas"] == {"without_client_rv": ["txn failed", "put"], "with_client_rv": ["txn failed", "409"]}
    assert records["retry"] == {"attempts": 2, "n": "11"}
    assert records["blind_write_lost_update"] is True
    assert records["cr_blind_update"] == {
        "status": 422,
        "message": (
            'widgets.k8slearn.example.com "w1" is invalid: '
            "metadata.resourceVersion: Invalid value: 0: must be specified for an update"
        ),
    }
    assert records["ssa_conflict_message"] == 'Apply failed with 1 conflict: conflict with "team-a": .data.colour'


def test_bookmarks_keep_a_quiet_watcher_inside_the_window(records):
    # a quiet watch gets nothing without bookmarks and a BOOKMARK with them; after the watch cache's
    # ring drops the events after the list, resuming from the list is 410, from the bookmark is fine
    assert records["bookmarks"] == {
        "without": 0,
        "with": ["BOOKMARK"],
        "bookmark_newer_than_list": True,
        "resume_from_list": 410,
        "resume_from_bookmark": 200,
    }
