"""Notebook 01 (etcd contents): its recorded key results, checked as relations."""

from __future__ import annotations

import json

import pytest

from conftest import NOTEBOOKS

NAME = "01-etcd-contents"


@pytest.fixture(scope="module")
def records(executed):
    return executed(NAME)


def test_keyspace_holds_the_core_resources_and_the_coredns_addon(records):
    assert records["key_count"] > 0
    assert {
        "namespaces",
        "configmaps",
        "services",
        "endpoints",
        "endpointslices",
        "clusterroles",
        "events",
        "apiservices",
        "deployments",
        "replicasets",
        "pods",
        "ipaddresses",
        "servicecidrs",
    } <= set(records["resources"])
    assert {"services", "endpoints", "nodes", "apiservices"} <= set(records["unusual_prefixes_present"])
    kube_system = records["kube_system_resources"]
    assert kube_system["pods"] == 2 and kube_system["deployments"] == kube_system["replicasets"] == 1
    assert "daemonsets" not in kube_system, "no kube-proxy add-on"


def test_keys_that_name_no_api_object(records):
    assert records["special_keys"] == ["masterleases", "peerserverleases", "range"]


def test_every_event_carries_a_lease_of_ttl_plus_reuse_window(records):
    events, leased = records["events_with_lease"]
    assert events == leased > 0
    ttl, granted = records["event_lease_granted_ttl"]
    assert granted == ttl + min(ttl * 5 // 100, 60)


def test_compact_rev_key_is_what_the_recording_holds(records):
    """The notebook shows compact_rev_key as the replayed etcd holds it: absent before the
    apiserver's first compaction round (5 minutes after it starts), else an earlier revision."""
    from k8slearn.recording import etcdlog, layout

    rec = layout.choose_recording()
    ops = etcdlog.read_ops(rec / "base.jsonl") + etcdlog.read_ops(rec / "notebooks" / NAME / "etcd.jsonl")
    written = [op for op in ops if op.key == "compact_rev_key" and op.op == "put"]
    crk = records["compact_rev_key"]
    if not written:
        assert crk is None
    else:
        assert crk is not None and crk["value"] in {int(op.value) for op in written}
        assert crk["value"] < max(op.rev for op in written) and crk["version"] >= 1


def test_values_are_protobuf_except_apiservices(records):
    enc = records["encodings"]
    assert set(enc) == {"protobuf", "json"}
    assert enc["protobuf"] > enc["json"] > 0
    assert records["json_values"] == ["apiservices"]
    # the later full read may hold one APIService more: the one registered for the notebook's CRD group
    assert enc["json"] <= records["keys_per_resource"]["apiservices"] <= enc["json"] + 1


def test_envelope_is_small_around_the_service_message(records):
    env = records["envelope"]
    assert (env["apiVersion"], env["kind"], env["contentType"]) == ("v1", "Service", "")
    assert env["size"] == env["raw_bytes"] + env["overhead_bytes"]
    # magic (4) + typeMeta + raw header + two empty strings: a few dozen bytes at most
    assert 4 + len("v1") + len("Service") < env["overhead_bytes"] < 64


def test_stored_objects_have_no_resource_version_and_secrets_are_plain(records):
    assert records["stored_with_resource_version"] == 0
    assert records["secret_plain_in_etcd"] is True
    assert records["secret_rv_is_mod_revision"] is True


def test_managed_fields_are_measured_on_the_stored_bytes(records):
    exact, differ = records["managed_fields_measured"]
    assert exact > 0 and differ <= exact // 10
    assert 0 < records["managed_fields_share"] < 1
    seed = records["seed"]
    assert (seed["resource"], seed["namespace"], seed["name"], seed["encoding"]) == (
        "services",
        "kube-system",
        "kube-dns",
        "json",
    )
    assert 0 < seed["managed_fields_share"] < 1


def test_dataframe_counts_the_keyspace_plus_the_demo_secret_and_namespace(records):
    per_resource = records["keys_per_resource"]
    assert set(per_resource) == set(records["bytes_per_resource"])
    assert (
        sum(per_resource.values()) >= records["key_count"] + 2
    )  # + the namespace and the Secret (and what controllers add to it)
    assert per_resource["secrets"] >= 1 and all(v > 0 for v in records["bytes_per_resource"].values())


def test_notebook_sections_ask_questions():
    nb = json.loads((NOTEBOOKS / f"{NAME}.ipynb").read_text())
    headings = [
        line
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
        for line in "".join(c["source"]).splitlines()
        if line.startswith("## ")
    ]
    standard = {"## Overview", "## Prerequisites", "## Imports", "## Exercises", "## Summary", "## What's next"}
    standard.add("## Resources and references")
    assert standard <= set(headings), standard - set(headings)
    assert headings[:3] == ["## Overview", "## Prerequisites", "## Imports"]
    assert headings[-4:] == ["## Exercises", "## Summary", "## What's next", "## Resources and references"]
    questions = [h for h in headings if h not in standard]
    assert len(questions) >= 10 and all(h.endswith("?") for h in questions), questions
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", []) and "lab.banner()" in "".join(code[1]["source"])
    assert "".join(code[-1]["source"]).strip() == "lab.close()"
    solutions = [c for c in code if "solution" in c["metadata"].get("tags", [])]
    assert len(solutions) >= 3 and all(c["metadata"]["jupyter"]["source_hidden"] for c in solutions)


def test_crds_are_stored_as_v1beta1_json_and_the_media_type_applies_to_new_writes(records):
    assert records["crd_stored"] == {
        "encoding": "json",
        "apiVersion": "apiextensions.k8s.io/v1beta1",
        "served_as": "apiextensions.k8s.io/v1",
    }
    # written with protobuf, unchanged by the restart, created with JSON, updated with JSON, kept after switching back
    assert records["media_type_switch"] == ["protobuf", "protobuf", "json", "json", "json"]
