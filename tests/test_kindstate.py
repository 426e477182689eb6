"""Tests for k8slearn.kindstate (the constructed fresh-Kind keyspace) and the data/seed fixture."""

import json
from pathlib import Path

import pytest
import yaml

from k8slearn import keys, kindstate
from k8slearn.kindstate import Entry, KindStateError, fresh_cluster

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "data" / "seed"
SEED_PREFIX = "/dev/20230902/0952"

# kind -> resource plural, for the key checks
_RESOURCE = {"ConfigMap": "configmaps", "Namespace": "namespaces", "Service": "services",
             "Endpoints": "endpoints", "EndpointSlice": "endpointslices",
             "ServiceAccount": "serviceaccounts", "Lease": "leases", "Event": "events",
             "Role": "roles", "ClusterRole": "clusterroles", "RoleBinding": "rolebindings",
             "ClusterRoleBinding": "clusterrolebindings", "PriorityClass": "priorityclasses",
             "Secret": "secrets"}


@pytest.fixture(scope="module")
def entries():
    return fresh_cluster()


def test_deterministic():
    a, b = fresh_cluster(), fresh_cluster()
    assert a == b
    assert json.dumps([e.obj for e in a], sort_keys=True) == \
        json.dumps([e.obj for e in b], sort_keys=True)


def test_entries_are_frozen_dataclasses(entries):
    assert all(isinstance(e, Entry) for e in entries)
    with pytest.raises(Exception):
        entries[0].key = "x"


def test_keys_unique(entries):
    seen = [e.key for e in entries]
    assert len(seen) == len(set(seen))


def test_only_covered_kinds(entries):
    kinds = {e.obj["kind"] for e in entries if e.obj is not None}
    assert kinds <= kindstate.COVERED_KINDS
    assert "Secret" not in kinds  # no Secrets by design (see OMITTED)
    assert any(r == "secrets" for r, _ in kindstate.OMITTED)


def test_exactly_one_of_obj_or_text(entries):
    for e in entries:
        assert (e.obj is None) != (e.text is None), e.key
        assert e.note is not None


def test_every_key_parses_to_its_object(entries):
    for e in entries:
        k = keys.parse(e.key)
        if e.obj is None:
            assert k.special == "compact_rev_key"
            continue
        kind, meta = e.obj["kind"], e.obj["metadata"]
        if kind == "RangeAllocation":
            assert k.special == "range"
            continue
        if k.special == "masterleases":
            assert kind == "Endpoints" and e.lease_ttl == 15
            continue
        assert k.special is None, e.key
        assert k.resource == _RESOURCE[kind], e.key
        assert k.name == meta["name"], e.key
        assert k.namespace == meta.get("namespace"), e.key
        assert e.key == keys.compose(k.resource, meta["name"], meta.get("namespace"))


def test_no_resource_version_or_self_link(entries):
    for e in entries:
        if e.obj is not None:
            assert "resourceVersion" not in e.obj["metadata"], e.key
            assert "selfLink" not in e.obj["metadata"], e.key


def test_events_have_the_event_ttl_lease(entries):
    events = [e for e in entries if e.obj and e.obj["kind"] == "Event"]
    assert events
    assert all(e.lease_ttl == 3600 + 60 for e in events)  # --event-ttl + lease reuse (lease_manager.go)
    others = [e for e in entries if e.obj and e.obj["kind"] != "Event"
              and keys.parse(e.key).special != "masterleases"]
    assert all(e.lease_ttl is None for e in others)


def test_expected_objects_present(entries):
    by_key = {e.key: e for e in entries}
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "local-path-storage"):
        assert f"/registry/namespaces/{ns}" in by_key
        assert f"/registry/configmaps/{ns}/kube-root-ca.crt" in by_key
        assert f"/registry/serviceaccounts/{ns}/default" in by_key
    svc = by_key["/registry/services/specs/default/kubernetes"].obj
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    dns = by_key["/registry/services/specs/kube-system/kube-dns"].obj
    assert dns["spec"]["clusterIP"] == "10.96.0.10"
    assert "/registry/services/endpoints/default/kubernetes" in by_key
    assert "/registry/endpointslices/default/kubernetes" in by_key
    assert "/registry/services/endpoints/kube-system/kube-dns" in by_key
    assert "/registry/leases/kube-system/kube-controller-manager" in by_key
    assert "/registry/leases/kube-system/kube-scheduler" in by_key
    assert "/registry/leases/kube-node-lease/k8slearn-control-plane" in by_key
    pcs = {e.obj["metadata"]["name"]: e.obj["value"] for e in entries
           if e.obj and e.obj["kind"] == "PriorityClass"}
    assert pcs == {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
    assert "/registry/ranges/servicenodeports" in by_key
    assert entries[-1].key == "compact_rev_key"
    assert entries[-1].text == "0"  # the compactor's first round writes "0" (compact.go)


def test_apiserver_identity_lease(entries):
    idl = [e.obj for e in entries if e.obj and e.obj["kind"] == "Lease"
           and e.obj["metadata"]["name"].startswith("apiserver-")]
    assert len(idl) == 1
    meta = idl[0]["metadata"]
    assert meta["namespace"] == "kube-system"
    assert meta["labels"] == {"apiserver.kubernetes.io/identity": "kube-apiserver",
                              "kubernetes.io/hostname": "k8slearn-control-plane"}
    # base32 of 16 bytes without padding is 26 characters
    assert len(meta["name"]) == len("apiserver-") + 26


def test_service_ip_bitmap_depends_on_version():
    old = {e.key: e for e in fresh_cluster("1.33.1")}
    new = {e.key: e for e in fresh_cluster("1.35.0")}
    assert "/registry/ranges/serviceips" in old
    assert "/registry/ranges/serviceips" not in new
    ra = old["/registry/ranges/serviceips"].obj
    assert ra["range"] == "10.96.0.0/16"
    assert ra["data"] == "AgE="  # bits 0 (10.96.0.1) and 9 (10.96.0.10)


def test_managed_fields_and_no_placeholder_that_looks_like_pem(entries):
    with_mf = [e for e in entries if e.obj and e.obj["metadata"].get("managedFields")]
    assert len(with_mf) > len(entries) // 2
    for e in with_mf:
        for mf in e.obj["metadata"]["managedFields"]:
            assert mf["fieldsType"] == "FieldsV1" and mf["operation"] in ("Update", "Apply")
            assert mf["manager"]
    blob = json.dumps([e.obj for e in entries if e.obj])
    assert "BEGIN CERTIFICATE" not in blob and "PRIVATE KEY" not in blob


def test_kube_dns_matches_the_seed_shape(entries):
    seed_path = SEED / "kube-dns-service.json"
    seed = json.loads(seed_path.read_text(encoding="utf-8"))
    mine = next(e.obj for e in entries if e.key.endswith("/specs/kube-system/kube-dns"))
    assert list(mine) == list(seed)
    assert mine["spec"] == seed["spec"]
    assert mine["metadata"]["labels"] == seed["metadata"]["labels"]
    assert mine["metadata"]["managedFields"][0]["fieldsV1"] == \
        seed["metadata"]["managedFields"][0]["fieldsV1"]


def test_cluster_name_used():
    es = fresh_cluster(cluster_name="demo")
    assert any(e.key == "/registry/leases/kube-node-lease/demo-control-plane" for e in es)


@pytest.mark.parametrize("bad", ["", "one", "1.x", "latest"])
def test_bad_version(bad):
    with pytest.raises(KindStateError, match="kubernetes_version"):
        fresh_cluster(bad)


def test_bad_cluster_name():
    with pytest.raises(KindStateError, match="cluster_name"):
        fresh_cluster(cluster_name="Bad_Name")


def test_sources_and_omitted_are_documented():
    assert all(isinstance(w, str) and u for w, u in kindstate.SOURCES)
    assert {r for r, _ in kindstate.OMITTED} >= {"pods", "nodes (minions)", "deployments"}


# ------------------------------------------------------------- seed fixture

def test_seed_fixture_parses_and_is_compact():
    raw = (SEED / "kube-dns-service.json").read_bytes()
    obj = json.loads(raw)
    assert raw.decode("utf-8") == json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    assert obj["kind"] == "Service" and obj["apiVersion"] == "v1"
    assert obj["metadata"]["managedFields"]
    assert "resourceVersion" not in obj["metadata"]


def test_seed_key_parses_with_custom_prefix():
    prov = yaml.safe_load((SEED / "provenance.yaml").read_text(encoding="utf-8"))
    assert prov["kind"] == "seed"
    assert prov["etcd_prefix"] == SEED_PREFIX
    k = keys.parse(prov["key"], prefix=prov["etcd_prefix"])
    assert (k.resource, k.namespace, k.name, k.special) == ("services", "kube-system",
                                                            "kube-dns", None)
    obj = json.loads((SEED / "kube-dns-service.json").read_text(encoding="utf-8"))
    assert (obj["metadata"]["namespace"], obj["metadata"]["name"]) == (k.namespace, k.name)


def test_seed_matches_the_shared_document():
    doc = REPO.parent / "shared" / "seed" / "000_19a6809e20dc93a9.txt"
    if not doc.exists():
        pytest.skip(f"shared seed document not found at {doc}; the fixture's source "
                    "cannot be re-checked outside the workspace")
    text = doc.read_text(encoding="utf-8")
    key = f"{SEED_PREFIX}/services/specs/kube-system/kube-dns"
    start = text.index("{", text.index(key + "\n{"))
    printed, _ = json.JSONDecoder().raw_decode(text, start)
    fixture = json.loads((SEED / "kube-dns-service.json").read_text(encoding="utf-8"))
    assert printed == fixture
