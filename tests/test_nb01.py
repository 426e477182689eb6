"""Notebook 01 (etcd contents): its recorded key results, checked as relations, and its recording."""

from __future__ import annotations

import base64
import json

import pytest

from conftest import NOTEBOOKS, ROOT

NAME = "01-etcd-contents"
RECORDING = ROOT / "data" / "recordings" / "constructed" / "notebooks" / NAME
DEMO_VALUE = b"k8slearn-demo-NOT-A-REAL-PASSWORD"


@pytest.fixture(scope="module")
def records(executed):
    return executed(NAME)


def test_keyspace_holds_the_core_resources(records):
    assert records["key_count"] > 0
    assert {"namespaces", "configmaps", "services", "endpoints", "clusterroles", "events"} <= set(records["resources"])
    assert {"services", "endpoints"} <= set(records["unusual_prefixes_present"])


def test_every_event_carries_a_lease(records):
    events, leased = records["events_with_lease"]
    assert events == leased


def test_compact_rev_key_names_an_earlier_revision(records):
    crk = records["compact_rev_key"]
    assert crk is None or (crk["value"] >= 0 and crk["version"] >= 1)


def test_values_are_protobuf_and_all_decode(records):
    enc = records["encodings"]
    assert "undecodable" not in enc
    assert enc.get("protobuf", 0) == max(enc.values())


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


def test_managed_fields_are_a_real_share_of_the_bytes(records):
    assert 0 < records["managed_fields_share"] < 1
    seed = records["seed"]
    assert (seed["resource"], seed["namespace"], seed["name"], seed["encoding"]) == (
        "services", "kube-system", "kube-dns", "json")
    assert 0 < seed["managed_fields_share"] < 1


def test_dataframe_counts_the_keyspace_plus_the_demo_secret_and_namespace(records):
    per_resource = records["keys_per_resource"]
    assert set(per_resource) == set(records["bytes_per_resource"])
    assert sum(per_resource.values()) == records["key_count"] + 2
    assert per_resource["secrets"] >= 1 and all(v > 0 for v in records["bytes_per_resource"].values())


def test_notebook_sections_ask_questions():
    nb = json.loads((NOTEBOOKS / f"{NAME}.ipynb").read_text())
    headings = [line for c in nb["cells"] if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines() if line.startswith("## ")]
    standard = {"## Try it yourself", "## Summary", "## What's next", "## References"}
    questions = [h for h in headings if h not in standard]
    assert len(questions) >= 8 and all(h.endswith("?") for h in questions), questions


def test_recording_keeps_the_demo_secret_only_in_etcd_ops():
    if not RECORDING.is_dir():
        pytest.skip(f"no constructed recording at {RECORDING}; build it with `k8slearn record --construct {NAME}`")
    api = (RECORDING / "api.yaml").read_text()
    etcd_ops = (RECORDING / "etcd.jsonl").read_text()
    assert DEMO_VALUE.decode() not in api and base64.b64encode(DEMO_VALUE).decode() not in api, \
        "HTTP transcripts must redact Secret data"
    secret_ops = [json.loads(line) for line in etcd_ops.splitlines() if "/secrets/" in line]
    assert len(secret_ops) == 1 and DEMO_VALUE in base64.b64decode(secret_ops[0]["b64"])
