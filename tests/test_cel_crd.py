import copy

import pytest

import k8slearn.cel as kc


def crd(rules_spec, props=None, extra=None):
    spec_schema = {"type": "object", "x-kubernetes-validations": rules_spec,
                   "properties": props or {"replicas": {"type": "integer"},
                                           "minReplicas": {"type": "integer"},
                                           "name": {"type": "string"}}}
    spec_schema.update(extra or {})
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "spec": {"versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                "openAPIV3Schema": {"type": "object", "properties": {"spec": spec_schema}}}}]}}


def obj(**spec):
    return {"apiVersion": "x.example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}


def test_message_and_default_message_format():
    c = crd([{"rule": "self.minReplicas <= self.replicas", "message": " replicas too low "},
             {"rule": "self.name.startsWith('w')"}])
    v = kc.validate_crd(c, obj(replicas=1, minReplicas=2, name="x"))
    assert [str(x) for x in v] == [
        'spec: Invalid value: "object": replicas too low',
        "spec: Invalid value: \"object\": failed rule: self.name.startsWith('w')",
    ]


def test_valid_object_has_no_violations():
    c = crd([{"rule": "self.minReplicas <= self.replicas"}])
    assert kc.validate_crd(c, obj(replicas=3, minReplicas=2)) == []


def test_message_expression_reason_and_field_path():
    c = crd([{"rule": "self.replicas < 10", "messageExpression": "'too many: ' + string(self.replicas)",
              "reason": "FieldValueForbidden", "fieldPath": ".replicas"}])
    (v,) = kc.validate_crd(c, obj(replicas=12))
    assert str(v) == "spec.replicas: Forbidden: too many: 12"


def test_rule_on_nested_scalar_and_list_items():
    props = {"ports": {"type": "array", "items": {"type": "integer", "x-kubernetes-validations": [
        {"rule": "self > 0 && self < 65536", "message": "bad port"}]}}}
    c = crd([], props)
    v = kc.validate_crd(c, obj(ports=[80, 0, 70000]))
    assert [x.field for x in v] == ["spec.ports[1]", "spec.ports[2]"]
    assert str(v[0]) == 'spec.ports[1]: Invalid value: "integer": bad port'


def test_transition_rule_only_on_update():
    c = crd([{"rule": "self.name == oldSelf.name", "message": "name is immutable"}])
    assert kc.validate_crd(c, obj(name="a")) == []  # create: transition rule skipped
    assert kc.validate_crd(c, obj(name="a"), obj(name="a")) == []
    (v,) = kc.validate_crd(c, obj(name="b"), obj(name="a"))
    assert v.message == "name is immutable"


def test_optional_old_self_runs_on_create():
    c = crd([{"rule": "oldSelf.hasValue() || self.name == 'first'", "optionalOldSelf": True,
              "message": "must start as first"}])
    assert [x.message for x in kc.validate_crd(c, obj(name="other"))] == ["must start as first"]
    assert kc.validate_crd(c, obj(name="other"), obj(name="first")) == []


def test_ratcheting_unchanged_invalid_value():
    props = {"replicas": {"type": "integer", "x-kubernetes-validations": [{"rule": "self < 5"}]},
             "name": {"type": "string"}}
    c = crd([], props)
    old = obj(replicas=7, name="a")
    new = copy.deepcopy(old)
    new["spec"]["name"] = "b"
    assert kc.validate_crd(c, new, old) == []  # replicas unchanged: ratcheted
    new["spec"]["replicas"] = 8
    assert [x.field for x in kc.validate_crd(c, new, old)] == ["spec.replicas"]
    assert len(kc.validate_crd(c, old)) == 1  # create: never ratcheted


def test_transition_rules_are_not_ratcheted():
    c = crd([{"rule": "self.replicas >= oldSelf.replicas", "message": "no scale down"}])
    # unchanged but the rule still runs (and passes); a change that fails is reported
    assert kc.validate_crd(c, obj(replicas=3), obj(replicas=3)) == []
    assert len(kc.validate_crd(c, obj(replicas=2), obj(replicas=3))) == 1


def test_map_list_items_correlate_by_key():
    props = {"items": {"type": "array", "x-kubernetes-list-type": "map",
                       "x-kubernetes-map-keys": ["name"],
                       "items": {"type": "object", "properties": {"name": {"type": "string"},
                                                                  "size": {"type": "integer"}},
                                 "x-kubernetes-validations": [{"rule": "self.size < 3"}]}}}
    c = crd([], props)
    old = obj(items=[{"name": "a", "size": 9}])
    new = obj(items=[{"name": "b", "size": 1}, {"name": "a", "size": 9}])
    assert kc.validate_crd(c, new, old) == []  # item "a" moved but is unchanged: ratcheted


def test_bad_rule_and_bad_crd():
    c = crd([{"rule": "self.replicas"}])
    with pytest.raises(kc.CELError, match="must evaluate to a bool"):
        kc.validate_crd(c, obj(replicas=1))
    with pytest.raises(kc.CELError, match="no version"):
        kc.validate_crd(crd([]), obj(), version="v9")
    c = crd([{"rule": "self.nope == 1"}])
    (v,) = kc.validate_crd(c, obj(replicas=1))
    assert "rule evaluation error" in v.message
