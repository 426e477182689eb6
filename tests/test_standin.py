"""The kube-apiserver stand-in used to construct fixtures: resourceVersion = etcd ModRevision."""

import json

import pytest

from k8slearn import etcd as etcdmod
from k8slearn.localetcd import LocalEtcd
from k8slearn.standin import StandIn


@pytest.fixture(scope="module")
def api_and_etcd():
    from kubernetes import client

    server = LocalEtcd().start()
    standin = StandIn(server.client())
    url = standin.start()
    yield client.ApiClient(client.Configuration(host=url)), etcdmod.Etcd(server.client())
    standin.stop()
    server.stop()


def test_resource_version_is_the_keys_mod_revision(api_and_etcd):
    from kubernetes import client

    api, etcd = api_and_etcd
    v1 = client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": "k8slearn-a"}})
    cm = v1.create_namespaced_config_map("k8slearn-a", {"metadata": {"name": "c"}, "data": {"k": "v"}})
    kv = etcd.get("/registry/configmaps/k8slearn-a/c")
    assert int(cm.metadata.resource_version) == kv.mod_revision == kv.create_revision
    assert kv.value.startswith(b"k8s\x00"), "stored as protobuf by default"
    assert "resourceVersion" not in kv.obj["metadata"]
    listed = v1.list_namespaced_config_map("k8slearn-a")
    assert int(listed.metadata.resource_version) == etcd.revision()


def test_stale_update_conflicts_and_blind_update_wins(api_and_etcd):
    from kubernetes import client

    api, etcd = api_and_etcd
    v1 = client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": "k8slearn-b"}})
    first = v1.create_namespaced_config_map("k8slearn-b", {"metadata": {"name": "c"}, "data": {"n": "0"}})
    first.data["n"] = "1"
    v1.replace_namespaced_config_map("c", "k8slearn-b", first)
    first.data["n"] = "2"
    with pytest.raises(client.ApiException) as e:
        v1.replace_namespaced_config_map("c", "k8slearn-b", first)
    body = json.loads(e.value.body)
    assert e.value.status == 409 and body["reason"] == "Conflict"
    assert body["message"].startswith('Operation cannot be fulfilled on configmaps "c": the object has been modified')
    blind = {"metadata": {"name": "c"}, "data": {"n": "3"}}
    after = v1.replace_namespaced_config_map("c", "k8slearn-b", blind)
    assert after.data == {"n": "3"} and etcd.get("/registry/configmaps/k8slearn-b/c").version == 3


def test_not_found_and_already_exists(api_and_etcd):
    from kubernetes import client

    api, _ = api_and_etcd
    v1 = client.CoreV1Api(api)
    with pytest.raises(client.ApiException) as e:
        v1.read_namespaced_config_map("missing", "default")
    assert e.value.status == 404 and json.loads(e.value.body)["message"] == 'configmaps "missing" not found'
    v1.create_namespace({"metadata": {"name": "k8slearn-c"}})
    with pytest.raises(client.ApiException) as e:
        v1.create_namespace({"metadata": {"name": "k8slearn-c"}})
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "AlreadyExists"


def test_services_live_under_services_specs(api_and_etcd):
    from kubernetes import client

    api, etcd = api_and_etcd
    v1 = client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": "k8slearn-d"}})
    v1.create_namespaced_service("k8slearn-d", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}})
    assert etcd.get("/registry/services/specs/k8slearn-d/web") is not None
