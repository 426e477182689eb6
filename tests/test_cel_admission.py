import json

import pytest

import k8slearn.cel as kc

POLICY = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "replica-limit"},
    "spec": {
        "failurePolicy": "Fail",
        "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": ["apps"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["deployments"],
                }
            ]
        },
        "matchConditions": [{"name": "not-kube-system", "expression": "request.namespace != 'kube-system'"}],
        "variables": [{"name": "replicas", "expression": "object.spec.replicas"}],
        "validations": [
            {
                "expression": "variables.replicas <= int(params.data.maxReplicas)",
                "messageExpression": "'replicas ' + string(variables.replicas) + ' > ' + params.data.maxReplicas",
                "reason": "Forbidden",
            },
            {"expression": "object.metadata.name.startsWith('web-')"},
        ],
        "auditAnnotations": [{"key": "replicas", "valueExpression": "string(variables.replicas)"}],
    },
}
PARAMS = {"data": {"maxReplicas": "5"}}


def binding(*actions):
    return {
        "metadata": {"name": "replica-limit-prod"},
        "spec": {"policyName": "replica-limit", "validationActions": list(actions)},
    }


def request(name="web-api", replicas=3, namespace="default", op="CREATE", group="apps"):
    return {
        "operation": op,
        "name": name,
        "namespace": namespace,
        "resource": {"group": group, "version": "v1", "resource": "deployments"},
        "object": {"metadata": {"name": name}, "spec": {"replicas": replicas}},
    }


def test_allowed():
    r = kc.admit(POLICY, binding("Deny"), request(), params=PARAMS)
    assert r.allowed and r.matched and r.message is None
    assert r.audit_annotations == {"replica-limit/replicas": "3"}


def test_denied_message_format_and_reason():
    r = kc.admit(POLICY, binding("Deny"), request(replicas=7), params=PARAMS)
    assert not r.allowed
    assert r.message == (
        'deployments.apps "web-api" is forbidden: ValidatingAdmissionPolicy '
        "'replica-limit' with binding 'replica-limit-prod' denied request: replicas 7 > 5"
    )
    assert (r.reason, r.code) == ("Forbidden", 403)


def test_default_message_is_failed_expression():
    r = kc.admit(POLICY, binding("Deny"), request(name="api"), params=PARAMS)
    assert r.message.endswith("denied request: failed expression: object.metadata.name.startsWith('web-')")
    assert (r.reason, r.code) == ("Invalid", 422)


def test_warn_and_audit_do_not_deny():
    r = kc.admit(POLICY, binding("Warn", "Audit"), request(name="api"), params=PARAMS)
    assert r.allowed
    assert r.warnings == [
        "Validation failed for ValidatingAdmissionPolicy 'replica-limit' with "
        "binding 'replica-limit-prod': failed expression: object.metadata.name.startsWith('web-')"
    ]
    failure = json.loads(r.audit_annotations["validation.policy.admission.k8s.io/validation_failure"])
    assert failure == [
        {
            "message": "failed expression: object.metadata.name.startsWith('web-')",
            "policy": "replica-limit",
            "binding": "replica-limit-prod",
            "expressionIndex": 1,
            "validationActions": ["Warn", "Audit"],
        }
    ]


def test_not_matched_by_rules_or_conditions():
    assert not kc.admit(POLICY, binding("Deny"), request(group=""), params=PARAMS).matched
    r = kc.admit(POLICY, binding("Deny"), request(name="x", namespace="kube-system"), params=PARAMS)
    assert r.allowed and not r.matched


def test_failure_policy():
    bad = json.loads(json.dumps(POLICY))
    bad["spec"]["validations"] = [{"expression": "object.spec.missing > 1"}]
    r = kc.admit(bad, binding("Deny"), request(), params=PARAMS)
    assert not r.allowed and r.errors
    bad["spec"]["failurePolicy"] = "Ignore"
    r = kc.admit(bad, binding("Deny"), request(), params=PARAMS)
    assert r.allowed and r.errors


def test_missing_params_deny_and_authorizer_is_live_only():
    r = kc.admit(POLICY, binding("Deny"), request())
    assert not r.allowed and "no params found" in r.message
    p = json.loads(json.dumps(POLICY))
    p["spec"]["validations"] = [{"expression": "authorizer.path('/healthz').check('get').allowed()"}]
    p["spec"]["failurePolicy"] = "Ignore"
    r = kc.admit(p, binding("Deny"), request(), params=PARAMS)
    assert r.allowed and "live-only" in r.errors[0]


def test_object_and_namespace_selectors():
    p = json.loads(json.dumps(POLICY))
    p["spec"]["matchConstraints"]["namespaceSelector"] = {"matchLabels": {"env": "prod"}}
    with pytest.raises(kc.CELError, match="namespace_object"):
        kc.admit(p, binding("Deny"), request(), params=PARAMS)
    ns = {"metadata": {"name": "default", "labels": {"env": "dev"}}}
    assert not kc.admit(p, binding("Deny"), request(), params=PARAMS, namespace_object=ns).matched
    ns["metadata"]["labels"]["env"] = "prod"
    assert kc.admit(p, binding("Deny"), request(), params=PARAMS, namespace_object=ns).matched


def test_evaluation_error_wording_is_cel_go():
    bad = json.loads(json.dumps(POLICY))
    bad["spec"]["validations"] = [{"expression": "object.spec.missing > 1"}]
    r = kc.admit(bad, binding("Deny"), request(), params=PARAMS)
    # as kube-apiserver v1.37.2 answers (cel-go's "no such key"), reason Invalid -> 422
    assert r.message.endswith(
        "denied request: expression 'object.spec.missing > 1' resulted in error: no such key: missing"
    )
    assert (r.reason, r.code) == ("Invalid", 422)


def test_match_conditions_all_run_false_wins_errors_aggregate():
    p = json.loads(json.dumps(POLICY))
    p["spec"]["matchConditions"] = [
        {"name": "a", "expression": "object.spec.nope == 1"},
        {"name": "b", "expression": "object.metadata.name != 'skip'"},
    ]
    assert not kc.admit(p, binding("Deny"), request(name="skip"), params=PARAMS).matched  # false beats the error
    r = kc.admit(p, binding("Deny"), request(), params=PARAMS)
    assert r.message.endswith("denied request: expression 'object.spec.nope == 1' resulted in error: no such key: nope")
    p["spec"]["matchConditions"].append({"name": "c", "expression": "object.spec.other == 1"})
    r = kc.admit(p, binding("Deny"), request(), params=PARAMS)
    assert r.message.endswith(
        "denied request: [expression 'object.spec.nope == 1' resulted in error: no such key: "
        "nope, expression 'object.spec.other == 1' resulted in error: no such key: other]"
    )
    p["spec"]["failurePolicy"] = "Ignore"
    r = kc.admit(p, binding("Deny"), request(), params=PARAMS)
    assert r.allowed and not r.matched and r.errors


def test_missing_params_message_and_ignore():
    r = kc.admit(POLICY, binding("Deny"), request())
    assert r.message.endswith(
        "denied request: failed to configure binding: no params found for policy "
        "binding with `Deny` parameterNotFoundAction"
    )
    p = json.loads(json.dumps(POLICY))
    p["spec"]["failurePolicy"] = "Ignore"
    assert kc.admit(p, binding("Deny"), request()).allowed


def test_name_in_the_denial():
    req = request(name="api")
    del req["name"]
    assert kc.admit(POLICY, binding("Deny"), req, params=PARAMS).message.startswith(
        'deployments.apps "api" is forbidden'
    )
    req["object"]["metadata"] = {"generateName": "api-"}
    assert kc.admit(POLICY, binding("Deny"), req, params=PARAMS).message.startswith(
        'deployments.apps "api-" is forbidden'
    )


def test_apply_configuration_literals_evaluate_to_maps():
    expr = "Object{metadata: Object.metadata{labels: {'owner': object.metadata.name}}}"
    obj = {"metadata": {"name": "c1"}}
    assert kc.evaluate(expr, {"object": obj}, check=False) == {"metadata": {"labels": {"owner": "c1"}}}


def test_mutate_merges_an_apply_configuration():
    policy = {
        "metadata": {"name": "default-owner"},
        "spec": {
            "matchConstraints": {
                "resourceRules": [
                    {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]}
                ]
            },
            "matchConditions": [{"name": "no-owner", "expression": "!('owner' in object.metadata.labels)"}],
            "mutations": [
                {
                    "patchType": "ApplyConfiguration",
                    "applyConfiguration": {"expression": "Object{metadata: Object.metadata{labels: {'owner': 'x'}}}"},
                }
            ],
        },
    }
    binding = {"metadata": {"name": "b"}, "spec": {"policyName": "default-owner"}}

    def request(labels):
        cm = {"metadata": {"name": "c", "labels": labels}, "data": {"k": "v"}}
        return {"operation": "CREATE", "name": "c", "namespace": "n", "object": cm,
                "resource": {"group": "", "version": "v1", "resource": "configmaps"}}  # fmt: skip

    r = kc.mutate(policy, binding, request({"team": "a"}))
    assert r.matched and r.object["metadata"]["labels"] == {"team": "a", "owner": "x"}
    assert r.object["data"] == {"k": "v"}
    skipped = kc.mutate(policy, binding, request({"owner": "me"}))
    assert not skipped.matched and skipped.patches == [] and skipped.object["metadata"]["labels"] == {"owner": "me"}
    assert kc.admission.merge_apply_configuration({"a": [1, 2], "b": {"c": 1}}, {"a": [3], "b": {"d": 2}}) == {
        "a": [3],
        "b": {"c": 1, "d": 2},
    }
