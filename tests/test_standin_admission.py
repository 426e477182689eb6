"""AdmissionStandIn through the official kubernetes client: CRD rules, ValidatingAdmissionPolicies."""

import json

import pytest

from k8slearn import etcd as etcdmod
from k8slearn.localetcd import LocalEtcd
from k8slearn.standin_admission import AdmissionStandIn, warning_header

GROUP = "cel.k8slearn.example.com"
CRD_NAME = f"widgets.{GROUP}"


def widget_crd():
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": CRD_NAME},
        "spec": {"group": GROUP, "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"spec": {
                         "type": "object",
                         "x-kubernetes-validations": [
                             {"rule": "self.replicas <= 5", "message": "at most 5 replicas"},
                             {"rule": "self.replicas >= oldSelf.replicas", "message": "no scaling down",
                              "reason": "FieldValueForbidden", "fieldPath": ".replicas"},
                             {"rule": "self.replicas % 2 == 1"}],
                         "properties": {"replicas": {"type": "integer"}}}}}}}]}}


def widget(name, replicas, rv=None):
    meta = {"name": name}
    if rv:
        meta["resourceVersion"] = rv
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": meta, "spec": {"replicas": replicas}}


@pytest.fixture(scope="module")
def cluster():
    from kubernetes import client

    server = LocalEtcd().start()
    standin = AdmissionStandIn(server.client())
    url = standin.start()
    api = client.ApiClient(client.Configuration(host=url))
    yield standin, api, etcdmod.Etcd(server.client())
    standin.stop()
    server.stop()


@pytest.fixture
def apis(cluster):
    from kubernetes import client

    standin, api, etcd = cluster
    yield (standin, client.CoreV1Api(api), client.ApiextensionsV1Api(api), client.CustomObjectsApi(api),
           client.AdmissionregistrationV1Api(api), etcd)
    standin.policies.clear()
    standin.bindings.clear()
    standin.audit_annotations.clear()


def status_of(excinfo) -> tuple[int, dict]:
    return excinfo.value.status, json.loads(excinfo.value.body)


def ensure_crd(ext):
    from kubernetes import client

    try:
        ext.create_custom_resource_definition(widget_crd())
    except client.ApiException as e:
        assert e.status == 409


def test_namespaces_get_the_metadata_name_label(apis):
    _s, v1, *_ = apis
    ns = v1.create_namespace({"metadata": {"name": "k8slearn-label", "labels": {"a": "b"}}})
    assert ns.metadata.labels == {"a": "b", "kubernetes.io/metadata.name": "k8slearn-label"}


def test_crd_is_established_and_stored_as_json(apis):
    _s, _v1, ext, _co, _ar, etcd = apis
    ensure_crd(ext)
    crd = ext.read_custom_resource_definition(CRD_NAME)
    conds = {c.type: c.status for c in crd.status.conditions}
    assert conds == {"NamesAccepted": "True", "Established": "True"}
    kv = etcd.get(f"/registry/apiextensions.k8s.io/customresourcedefinitions/{CRD_NAME}")
    assert kv.value.startswith(b"{") and json.loads(kv.value)["spec"]["group"] == GROUP


def test_good_custom_resource_is_created_as_json_with_generation_1(apis):
    _s, v1, ext, co, _ar, etcd = apis
    ensure_crd(ext)
    v1.create_namespace({"metadata": {"name": "k8slearn-good"}})
    w = co.create_namespaced_custom_object(GROUP, "v1", "k8slearn-good", "widgets", widget("w", 3))
    assert w["metadata"]["generation"] == 1
    kv = etcd.get(f"/registry/{GROUP}/widgets/k8slearn-good/w")
    assert json.loads(kv.value)["spec"] == {"replicas": 3}, "custom resources are stored as JSON"
    assert int(w["metadata"]["resourceVersion"]) == kv.mod_revision


def test_bad_custom_resource_gets_the_apiservers_422(apis):
    from kubernetes import client

    _s, v1, ext, co, _ar, etcd = apis
    ensure_crd(ext)
    v1.create_namespace({"metadata": {"name": "k8slearn-bad"}})
    with pytest.raises(client.ApiException) as e:
        co.create_namespaced_custom_object(GROUP, "v1", "k8slearn-bad", "widgets", widget("w", 8))
    code, status = status_of(e)
    assert code == 422
    assert status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'Widget.{GROUP} "w" is invalid: [spec: Invalid value: "object": at most 5 replicas, '
                   'spec: Invalid value: "object": failed rule: self.replicas % 2 == 1]',
        "reason": "Invalid",
        "details": {"name": "w", "group": GROUP, "kind": "Widget", "causes": [
            {"reason": "FieldValueInvalid", "message": 'Invalid value: "object": at most 5 replicas', "field": "spec"},
            {"reason": "FieldValueInvalid", "message": 'Invalid value: "object": failed rule: self.replicas % 2 == 1',
             "field": "spec"}]},
        "code": 422}
    assert etcd.get(f"/registry/{GROUP}/widgets/k8slearn-bad/w") is None, "nothing is stored"


def test_update_runs_transition_rules_and_agrees_with_validate_crd(apis):
    from kubernetes import client

    import k8slearn.cel as kc

    _s, v1, ext, co, _ar, _etcd = apis
    ensure_crd(ext)
    v1.create_namespace({"metadata": {"name": "k8slearn-upd"}})
    w = co.create_namespaced_custom_object(GROUP, "v1", "k8slearn-upd", "widgets", widget("w", 5))
    old = widget("w", 5)
    new = widget("w", 3, rv=w["metadata"]["resourceVersion"])
    with pytest.raises(client.ApiException) as e:
        co.replace_namespaced_custom_object(GROUP, "v1", "k8slearn-upd", "widgets", "w", new)
    code, status = status_of(e)
    local = [str(v) for v in kc.validate_crd(widget_crd(), new, old)]
    assert code == 422 and local == ["spec.replicas: Forbidden: no scaling down"]
    assert status["message"] == f'Widget.{GROUP} "w" is invalid: {local[0]}'
    assert status["details"]["causes"] == [{"reason": "FieldValueForbidden", "message": "Forbidden: no scaling down",
                                            "field": "spec.replicas"}]
    ok = co.replace_namespaced_custom_object(GROUP, "v1", "k8slearn-upd", "widgets", "w",
                                             widget("w", 5, rv=w["metadata"]["resourceVersion"]))
    assert ok["spec"] == {"replicas": 5}


def _policy(name, expression, message, namespace, reason=None):
    validation = {"expression": expression, "message": message}
    if reason:
        validation["reason"] = reason
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {"matchConstraints": {
                "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                                   "resources": ["configmaps"]}],
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}},
                "validations": [validation]}}


def _binding(name, policy, *actions):
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name}, "spec": {"policyName": policy, "validationActions": list(actions)}}


OWNER = "has(object.metadata.labels) && 'owner' in object.metadata.labels"


def test_policy_objects_are_defaulted_and_served(apis):
    from kubernetes import client

    standin, _v1, _ext, _co, ar, etcd = apis
    ar.list_validating_admission_policy()  # the stand-in's first request runs its compactor (two etcd writes)
    before = etcd.revision()
    p = ar.create_validating_admission_policy(_policy("p", OWNER, "m", "k8slearn-x"))
    assert p.spec.failure_policy == "Fail"
    assert p.spec.match_constraints.match_policy == "Equivalent"
    assert p.spec.match_constraints.resource_rules[0].scope == "*"
    assert p.metadata.generation == 1 and p.metadata.uid
    assert ar.read_validating_admission_policy("p").metadata.uid == p.metadata.uid
    assert [i.metadata.name for i in ar.list_validating_admission_policy().items] == ["p"]
    assert etcd.revision() == before, "policies are kept in memory, not written to etcd"
    with pytest.raises(client.ApiException) as e:
        ar.create_validating_admission_policy(_policy("p", OWNER, "m", "k8slearn-x"))
    assert status_of(e)[1]["message"] == 'validatingadmissionpolicies.admissionregistration.k8s.io "p" already exists'
    ar.delete_validating_admission_policy("p")
    with pytest.raises(client.ApiException) as e:
        ar.read_validating_admission_policy("p")
    assert status_of(e) == (404, {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'validatingadmissionpolicies.admissionregistration.k8s.io "p" not found', "reason": "NotFound",
        "details": {"name": "p", "group": "admissionregistration.k8s.io", "kind": "validatingadmissionpolicies"},
        "code": 404})
    assert standin.policies == {}


def test_deny_is_a_422_status_with_the_dispatchers_message(apis):
    from kubernetes import client

    import k8slearn.cel as kc

    _s, v1, _ext, _co, ar, etcd = apis
    ns = v1.create_namespace({"metadata": {"name": "k8slearn-deny"}})
    policy = _policy("owner", OWNER, "every ConfigMap needs an owner label", "k8slearn-deny")
    binding = _binding("owner-deny", "owner", "Deny")
    ar.create_validating_admission_policy(policy)
    ar.create_validating_admission_policy_binding(binding)
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    with pytest.raises(client.ApiException) as e:
        v1.create_namespaced_config_map("k8slearn-deny", bad)
    text = "ValidatingAdmissionPolicy 'owner' with binding 'owner-deny' denied request: every ConfigMap needs an owner label"
    assert status_of(e) == (422, {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'configmaps "c" is forbidden: {text}', "reason": "Invalid",
        "details": {"name": "c", "kind": "configmaps", "causes": [{"message": text}]}, "code": 422})
    assert etcd.get("/registry/configmaps/k8slearn-deny/c") is None
    local = kc.admit(policy, binding, {"operation": "CREATE", "name": "c", "namespace": "k8slearn-deny",
                                       "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                                       "object": bad}, namespace_object={"metadata": {"name": ns.metadata.name, "labels": ns.metadata.labels}})
    assert local.message == status_of(e)[1]["message"] and local.code == 422
    good = dict(bad, metadata={"name": "c", "labels": {"owner": "me"}})
    assert v1.create_namespaced_config_map("k8slearn-deny", good).metadata.labels == {"owner": "me"}
    # an update is admitted too
    with pytest.raises(client.ApiException) as e:
        v1.replace_namespaced_config_map("c", "k8slearn-deny", bad)
    assert status_of(e)[0] == 422
    # another namespace is not selected
    v1.create_namespace({"metadata": {"name": "k8slearn-other"}})
    assert v1.create_namespaced_config_map("k8slearn-other", bad).metadata.name == "c"


def test_a_validation_reason_sets_the_status_code(apis):
    from kubernetes import client

    _s, v1, _ext, _co, ar, _etcd = apis
    v1.create_namespace({"metadata": {"name": "k8slearn-reason"}})
    ar.create_validating_admission_policy(_policy("p403", OWNER, "owner!", "k8slearn-reason", reason="Forbidden"))
    ar.create_validating_admission_policy_binding(_binding("b403", "p403", "Deny"))
    with pytest.raises(client.ApiException) as e:
        v1.create_namespaced_config_map("k8slearn-reason", {"metadata": {"name": "c"}})
    code, status = status_of(e)
    assert (code, status["reason"], status["code"]) == (403, "Forbidden", 403)


def test_warn_sends_a_warning_header_and_creates_the_object(apis):
    _s, v1, _ext, _co, ar, etcd = apis
    v1.create_namespace({"metadata": {"name": "k8slearn-warn"}})
    ar.create_validating_admission_policy(_policy("nopw", "!has(object.data) || !('password' in object.data)",
                                                  'use a Secret for "password"', "k8slearn-warn"))
    ar.create_validating_admission_policy_binding(_binding("nopw-warn", "nopw", "Warn"))
    cm, code, headers = v1.create_namespaced_config_map_with_http_info(
        "k8slearn-warn", {"metadata": {"name": "c"}, "data": {"password": "x"}})
    assert code == 201 and cm.metadata.name == "c"
    assert headers.get("Warning") == ('299 - "Validation failed for ValidatingAdmissionPolicy \'nopw\' with binding '
                                      '\'nopw-warn\': use a Secret for \\"password\\""')
    assert etcd.get("/registry/configmaps/k8slearn-warn/c") is not None
    _cm, code, headers = v1.create_namespaced_config_map_with_http_info(
        "k8slearn-warn", {"metadata": {"name": "d"}, "data": {"user": "x"}})
    assert code == 201 and headers.get("Warning") is None


def test_audit_is_invisible_to_the_client(apis):
    standin, v1, _ext, _co, ar, _etcd = apis
    v1.create_namespace({"metadata": {"name": "k8slearn-audit"}})
    ar.create_validating_admission_policy(_policy("owner", OWNER, "owner label missing", "k8slearn-audit"))
    ar.create_validating_admission_policy_binding(_binding("owner-audit", "owner", "Audit"))
    _cm, code, headers = v1.create_namespaced_config_map_with_http_info("k8slearn-audit", {"metadata": {"name": "c"}})
    assert code == 201 and headers.get("Warning") is None
    [entry] = standin.audit_annotations
    value = json.loads(entry["annotations"]["validation.policy.admission.k8s.io/validation_failure"])
    assert value == [{"message": "owner label missing", "policy": "owner", "binding": "owner-audit",
                      "expressionIndex": 0, "validationActions": ["Audit"]}]


def test_policies_apply_to_custom_resources_after_their_schema_rules(apis):
    from kubernetes import client

    _s, v1, ext, co, ar, _etcd = apis
    ensure_crd(ext)
    v1.create_namespace({"metadata": {"name": "k8slearn-crpol"}})
    ar.create_validating_admission_policy({
        "metadata": {"name": "one"},
        "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": [GROUP], "apiVersions": ["v1"],
                                                         "operations": ["CREATE"], "resources": ["widgets"]}]},
                 "validations": [{"expression": "object.spec.replicas == 1", "message": "start with one"}]}})
    ar.create_validating_admission_policy_binding(_binding("one-deny", "one", "Deny"))
    with pytest.raises(client.ApiException) as e:  # fails the CRD rules: 422 from validation, not admission
        co.create_namespaced_custom_object(GROUP, "v1", "k8slearn-crpol", "widgets", widget("w", 9))
    assert status_of(e)[1]["message"].startswith(f'Widget.{GROUP} "w" is invalid')
    with pytest.raises(client.ApiException) as e:
        co.create_namespaced_custom_object(GROUP, "v1", "k8slearn-crpol", "widgets", widget("w", 3))
    assert status_of(e)[1]["message"] == (f'widgets.{GROUP} "w" is forbidden: ValidatingAdmissionPolicy \'one\' '
                                          "with binding 'one-deny' denied request: start with one")
    assert status_of(e)[1]["details"]["group"] == GROUP


def test_crd_delete_runs_the_finalizer(apis):
    from kubernetes import client

    _s, v1, ext, co, _ar, etcd = apis
    ensure_crd(ext)
    v1.create_namespace({"metadata": {"name": "k8slearn-del"}})
    co.create_namespaced_custom_object(GROUP, "v1", "k8slearn-del", "widgets", widget("w", 1))
    resp = ext.delete_custom_resource_definition(CRD_NAME, _preload_content=False)
    answer = json.loads(resp.data)
    assert resp.status == 200 and answer["kind"] == "CustomResourceDefinition"
    assert answer["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    assert answer["metadata"]["deletionTimestamp"]
    assert answer["status"]["conditions"][-1]["type"] == "Terminating"
    assert etcd.keys(f"/registry/{GROUP}/") == [], "the custom resources are deleted"
    assert etcd.get(f"/registry/apiextensions.k8s.io/customresourcedefinitions/{CRD_NAME}") is None
    with pytest.raises(client.ApiException) as e:
        co.get_namespaced_custom_object(GROUP, "v1", "k8slearn-del", "widgets", "w")
    assert e.value.status == 404
    ensure_crd(ext)  # and it can be created again


def test_warning_header_escapes_quotes_and_backslashes():
    assert warning_header('a "b" \\c') == '299 - "a \\"b\\" \\\\c"'
