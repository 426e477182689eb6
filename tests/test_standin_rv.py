"""The stand-in's resourceVersion behaviour: read semantics, 422s, pagination, compaction, patch, apply."""

import base64
import json

import pytest

from k8slearn import etcd as etcdmod
from k8slearn.localetcd import LocalEtcd
from k8slearn.standin import COMPACT_REV_KEY, StandIn


@pytest.fixture(scope="module")
def env():
    from kubernetes import client

    server = LocalEtcd().start()
    for i in range(3):  # some history before the stand-in's compactor runs
        server.client().put(b"/k8slearn/history", str(i).encode())
    standin = StandIn(server.client())
    url = standin.start()
    api = client.ApiClient(client.Configuration(host=url))
    v1 = client.CoreV1Api(api)
    yield v1, etcdmod.Etcd(server.client()), standin
    standin.stop()
    server.stop()


def _ns(v1, name):
    v1.create_namespace({"metadata": {"name": name}})
    return name


def _status(exc):
    return json.loads(exc.body)


def test_compactor_ran_on_first_request_and_wrote_compact_rev_key(env):
    v1, etcd, standin = env
    _ns(v1, "k8slearn-compact")
    kv = etcd.get(COMPACT_REV_KEY.decode())
    assert kv is not None and kv.version == 2, "two compactor rounds: bootstrap, then one compaction"
    assert int(kv.value) == standin.compacted_revision > 0
    with pytest.raises(Exception) as e:
        etcd.get("/registry/namespaces/default", revision=standin.compacted_revision - 1)
    assert "required revision has been compacted" in str(e.value)


def test_invalid_list_options_are_422_with_kubernetes_messages(env):
    from kubernetes.client import ApiException

    v1, _, _ = env
    ns = _ns(v1, "k8slearn-422")
    cases = [
        (dict(resource_version_match="Exact"),
         "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"),
        (dict(resource_version="0", resource_version_match="Exact"),
         'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
        (dict(resource_version="5", resource_version_match="Sometimes"),
         'resourceVersionMatch: Unsupported value: "Sometimes": supported values: "Exact", "NotOlderThan", ""'),
    ]
    for kwargs, detail in cases:
        with pytest.raises(ApiException) as e:
            v1.list_namespaced_config_map(ns, **kwargs)
        st = _status(e.value)
        assert e.value.status == 422 and st["reason"] == "Invalid"
        assert st["message"] == f'ListOptions.meta.k8s.io "" is invalid: {detail}'
        assert st["details"]["kind"] == "ListOptions" and st["details"]["group"] == "meta.k8s.io"
        assert st["details"]["causes"][0]["field"] == "resourceVersionMatch"


def test_watch_with_resource_version_match_alone_is_422(env):
    from kubernetes.client import ApiException

    v1, _, _ = env
    with pytest.raises(ApiException) as e:
        v1.list_namespaced_config_map("default", watch=True, resource_version_match="NotOlderThan", timeout_seconds=1)
    assert e.value.status == 422
    assert "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided" in _status(e.value)["message"]


def test_exact_list_shows_the_past_and_not_older_than_the_present(env):
    v1, _, _ = env
    ns = _ns(v1, "k8slearn-exact")
    cm = v1.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"v": "old"}})
    before = v1.list_namespaced_config_map(ns).metadata.resource_version
    cm.data["v"] = "new"
    v1.replace_namespaced_config_map("c", ns, cm)
    exact = v1.list_namespaced_config_map(ns, resource_version=before, resource_version_match="Exact")
    assert exact.metadata.resource_version == before and exact.items[0].data == {"v": "old"}
    newer = v1.list_namespaced_config_map(ns, resource_version=before, resource_version_match="NotOlderThan")
    assert int(newer.metadata.resource_version) > int(before) and newer.items[0].data == {"v": "new"}


def test_exact_list_of_a_compacted_revision_is_410_expired(env):
    from kubernetes.client import ApiException

    v1, _, standin = env
    _ns(v1, "k8slearn-expired")
    with pytest.raises(ApiException) as e:
        v1.list_namespaced_config_map("k8slearn-expired", resource_version="1", resource_version_match="Exact")
    st = _status(e.value)
    assert e.value.status == 410 and st["reason"] == "Expired"
    assert st["message"] == "The resourceVersion for the provided list is too old."


def test_watch_from_a_compacted_revision_gets_an_expired_error_event(env):
    from kubernetes import watch
    from kubernetes.client import ApiException

    v1, _, _ = env
    _ns(v1, "k8slearn-watch410")
    with pytest.raises(ApiException) as e:
        list(watch.Watch().stream(v1.list_namespaced_config_map, "k8slearn-watch410", resource_version="1", timeout_seconds=1))
    assert e.value.status == 410 and e.value.reason.startswith("Expired: ")


def test_pages_share_the_first_pages_resource_version(env):
    v1, etcd, _ = env
    ns = _ns(v1, "k8slearn-pages")
    for i in range(5):
        v1.create_namespaced_config_map(ns, {"metadata": {"name": f"cm-{i}"}})
    first = v1.list_namespaced_config_map(ns, limit=2)
    assert len(first.items) == 2 and first.metadata.remaining_item_count == 3
    token = json.loads(base64.urlsafe_b64decode(first.metadata._continue + "=" * (-len(first.metadata._continue) % 4)))
    assert token == {"v": "meta.k8s.io/v1", "rv": int(first.metadata.resource_version), "start": "cm-1\x00"}
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "cm-9"}})  # after page 1: not in this list
    pages, names, cont = [first], [i.metadata.name for i in first.items], first.metadata._continue
    while cont:
        page = v1.list_namespaced_config_map(ns, limit=2, _continue=cont)
        pages.append(page)
        names += [i.metadata.name for i in page.items]
        cont = page.metadata._continue
    assert {p.metadata.resource_version for p in pages} == {first.metadata.resource_version}
    assert names == [f"cm-{i}" for i in range(5)]
    assert int(first.metadata.resource_version) < etcd.revision()


def test_merge_and_strategic_patch_and_no_op_update(env):
    v1, etcd, _ = env
    ns = _ns(v1, "k8slearn-patch")
    cm = v1.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}})
    smp = v1.patch_namespaced_config_map("c", ns, {"data": {"a": "10"}})
    assert smp.data == {"a": "10", "b": "2"} and int(smp.metadata.resource_version) > int(cm.metadata.resource_version)
    merged = v1.patch_namespaced_config_map("c", ns, {"data": {"b": None}}, _content_type="application/merge-patch+json")
    assert merged.data == {"a": "10"}
    same = v1.patch_namespaced_config_map("c", ns, {"data": {"a": "10"}})
    assert same.metadata.resource_version == merged.metadata.resource_version, "a no-op patch writes nothing"
    assert etcd.get(f"/registry/configmaps/{ns}/c").version == 3


def test_patch_with_stale_resource_version_conflicts(env):
    from kubernetes.client import ApiException

    v1, _, _ = env
    ns = _ns(v1, "k8slearn-patchrv")
    cm = v1.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    v1.patch_namespaced_config_map("c", ns, {"data": {"a": "2"}})
    with pytest.raises(ApiException) as e:
        v1.patch_namespaced_config_map("c", ns, {"metadata": {"resourceVersion": cm.metadata.resource_version},
                                                 "data": {"a": "3"}}, _content_type="application/merge-patch+json")
    assert e.value.status == 409 and _status(e.value)["reason"] == "Conflict"


def test_server_side_apply_conflict_and_force(env):
    from kubernetes.client import ApiException

    v1, _, _ = env
    ns = _ns(v1, "k8slearn-ssa")
    ct = "application/apply-patch+yaml"
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"colour": "blue"}}
    made = v1.patch_namespaced_config_map("shared", ns, doc, field_manager="team-a", _content_type=ct)
    assert [(m.manager, m.operation) for m in made.metadata.managed_fields] == [("team-a", "Apply")]
    other = dict(doc, data={"colour": "green"})
    with pytest.raises(ApiException) as e:
        v1.patch_namespaced_config_map("shared", ns, other, field_manager="team-b", _content_type=ct)
    st = _status(e.value)
    assert e.value.status == 409 and st["reason"] == "Conflict"
    assert st["message"] == 'Apply failed with 1 conflict: conflict with "team-a": .data.colour'
    assert st["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "team-a"', "field": ".data.colour"}]
    forced = v1.patch_namespaced_config_map("shared", ns, other, field_manager="team-b", force=True, _content_type=ct)
    assert forced.data == {"colour": "green"}
    owners = {m.manager: m.fields_v1 for m in forced.metadata.managed_fields}
    assert "team-a" not in owners and "f:colour" in json.dumps(owners["team-b"])
    # the same values applied again by a second manager are shared, not a conflict
    v1.patch_namespaced_config_map("shared", ns, other, field_manager="team-c", _content_type=ct)


def test_update_conflict_message_for_grouped_resources(env):
    from kubernetes import client
    from kubernetes.client import ApiException

    v1, _, standin = env
    ns = _ns(v1, "k8slearn-lease")
    co = client.CoordinationV1Api(v1.api_client)
    lease = co.create_namespaced_lease(ns, {"metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}})
    lease.spec.holder_identity = "b"
    co.replace_namespaced_lease("l", ns, lease)
    with pytest.raises(ApiException) as e:
        co.replace_namespaced_lease("l", ns, lease)
    assert _status(e.value)["message"].startswith('Operation cannot be fulfilled on leases.coordination.k8s.io "l"')


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.k8slearn.example.com"},
    "spec": {"group": "k8slearn.example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}


def test_custom_resources_generation_status_and_json_storage(env):
    from kubernetes import client
    from kubernetes.client import ApiException

    v1, etcd, _ = env
    ns = _ns(v1, "k8slearn-cr")
    ext = client.ApiextensionsV1Api(v1.api_client)
    crd = ext.create_custom_resource_definition(CRD)
    assert any(c.type == "Established" and c.status == "True" for c in crd.status.conditions)
    co = client.CustomObjectsApi(v1.api_client)
    args = ("k8slearn.example.com", "v1", ns, "widgets")
    w = co.create_namespaced_custom_object(*args, {"apiVersion": "k8slearn.example.com/v1", "kind": "Widget",
                                                   "metadata": {"name": "w"}, "spec": {"size": 1}})
    assert w["metadata"]["generation"] == 1
    raw = etcd.get(f"/registry/k8slearn.example.com/widgets/{ns}/w").value
    assert raw.startswith(b"{") and json.loads(raw)["spec"] == {"size": 1}, "custom resources are stored as JSON"
    w["spec"]["size"] = 2
    w = co.replace_namespaced_custom_object(*args, "w", w)
    assert w["metadata"]["generation"] == 2
    w["metadata"]["labels"] = {"a": "b"}
    w2 = co.replace_namespaced_custom_object(*args, "w", w)
    assert w2["metadata"]["generation"] == 2 and int(w2["metadata"]["resourceVersion"]) > int(w["metadata"]["resourceVersion"])
    w2["status"] = {"observedGeneration": 2}
    w3 = co.replace_namespaced_custom_object_status(*args, "w", w2)
    assert w3["metadata"]["generation"] == 2 and w3["status"] == {"observedGeneration": 2}
    w3["status"] = {"observedGeneration": 99}
    w4 = co.replace_namespaced_custom_object(*args, "w", w3)
    assert w4["status"] == {"observedGeneration": 2}, "the main resource ignores status changes"
    blind = dict(w4)
    blind["metadata"] = {k: v for k, v in w4["metadata"].items() if k != "resourceVersion"}
    with pytest.raises(ApiException) as e:
        co.replace_namespaced_custom_object(*args, "w", blind)
    assert e.value.status == 422 and _status(e.value)["message"] == (
        'widgets.k8slearn.example.com "w" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update')
