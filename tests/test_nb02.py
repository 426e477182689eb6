"""Notebook 02 (resourceVersion): its key results, read back from a replay run."""

import pytest


@pytest.fixture(scope="module")
def records(executed):
    return executed("02-resource-version")


def test_resource_version_is_mod_revision_and_not_stored(records):
    assert records["rv_equals_mod_revision"] is True
    assert records["stored_has_resource_version"] is False


def test_list_and_pages(records):
    assert records["list_rv_between"] == [True, True]
    pages = records["pages_share_rv"]
    assert pages["pages"] >= 2 and pages["distinct_rvs"] == 1 and pages["token_rv_matches"] is True


def test_timeline_and_generation(records):
    assert records["timeline_versions"] == [1, 2, 3, 0]
    assert records["timeline_create_revision_constant"] is True
    assert records["rv_order_follows_writes"] is True
    assert records["generation_steps"] == [1, 2, 2, 2]


def test_read_semantics_and_invalid_combinations(records):
    assert records["exact_list_shows_past"] == "blue"
    assert records["watch_semantics"] == {"unset": ["ADDED"], "from_rv": ["MODIFIED"]}
    assert records["invalid_combinations_status"] == [422]


def test_gone_at_both_levels(records):
    assert records["watch_too_old"] == {"status": 410, "reason": "Expired"}
    assert records["etcd_compacted_message"] == "etcdserver: mvcc: required revision has been compacted"


def test_concurrency(records):
    c = records["conflict"]
    assert c["status"] == 409 and c["reason"] == "Conflict"
    assert c["message"] == ('Operation cannot be fulfilled on configmaps "demo": the object has been modified; '
                            "please apply your changes to the latest version and try again")
    assert records["cas"] == [True, False]
    assert records["retry"] == {"attempts": 2, "n": "11"}
    assert records["blind_write_lost_update"] is True
    assert records["cr_blind_update_status"] == 422
    assert records["ssa_conflict_message"] == 'Apply failed with 1 conflict: conflict with "team-a": .data.colour'
