import copy

import pytest

import k8slearn.cel as kc


def crd(rules_spec, props=None, extra=None):
    spec_schema = {
        "type": "object",
        "x-kubernetes-validations": rules_spec,
        "properties": props
        or {"replicas": {"type": "integer"}, "minReplicas": {"type": "integer"}, "name": {"type": "string"}},
    }
    spec_schema.update(extra or {})
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec_schema}}},
                }
            ]
        },
    }


def obj(**spec):
    return {"apiVersion": "x.example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}


def test_message_and_default_message_format():
    c = crd(
        [
            {"rule": "self.minReplicas <= self.replicas", "message": " replicas too low "},
            {"rule": "self.name.startsWith('w')"},
        ]
    )
    v = kc.validate_crd(c, obj(replicas=1, minReplicas=2, name="x"))
    # since 1.35 the value of an object node is left out (field.OmitValueType)
    assert [str(x) for x in v] == [
        "spec: Invalid value: replicas too low",
        "spec: Invalid value: failed rule: self.name.startsWith('w')",
    ]


def test_valid_object_has_no_violations():
    c = crd([{"rule": "self.minReplicas <= self.replicas"}])
    assert kc.validate_crd(c, obj(replicas=3, minReplicas=2)) == []


def test_message_expression_reason_and_field_path():
    c = crd(
        [
            {
                "rule": "self.replicas < 10",
                "messageExpression": "'too many: ' + string(self.replicas)",
                "reason": "FieldValueForbidden",
                "fieldPath": ".replicas",
            }
        ]
    )
    (v,) = kc.validate_crd(c, obj(replicas=12))
    assert str(v) == "spec.replicas: Forbidden: too many: 12"


def test_rule_on_nested_scalar_and_list_items():
    props = {
        "ports": {
            "type": "array",
            "items": {
                "type": "integer",
                "x-kubernetes-validations": [{"rule": "self > 0 && self < 65536", "message": "bad port"}],
            },
        }
    }
    c = crd([], props)
    v = kc.validate_crd(c, obj(ports=[80, 0, 70000]))
    assert [x.field for x in v] == ["spec.ports[1]", "spec.ports[2]"]
    assert str(v[0]) == "spec.ports[1]: Invalid value: 0: bad port"  # scalars show their value


def test_transition_rule_only_on_update():
    c = crd([{"rule": "self.name == oldSelf.name", "message": "name is immutable"}])
    assert kc.validate_crd(c, obj(name="a")) == []  # create: transition rule skipped
    assert kc.validate_crd(c, obj(name="a"), obj(name="a")) == []
    (v,) = kc.validate_crd(c, obj(name="b"), obj(name="a"))
    assert v.message == "name is immutable"


def test_optional_old_self_runs_on_create():
    c = crd(
        [
            {
                "rule": "oldSelf.hasValue() || self.name == 'first'",
                "optionalOldSelf": True,
                "message": "must start as first",
            }
        ]
    )
    assert [x.message for x in kc.validate_crd(c, obj(name="other"))] == ["must start as first"]
    assert kc.validate_crd(c, obj(name="other"), obj(name="first")) == []


def test_ratcheting_unchanged_invalid_value():
    props = {
        "replicas": {"type": "integer", "x-kubernetes-validations": [{"rule": "self < 5"}]},
        "name": {"type": "string"},
    }
    c = crd([], props)
    old = obj(replicas=7, name="a")
    new = copy.deepcopy(old)
    new["spec"]["name"] = "b"
    ratcheted = kc.validate_crd(c, new, old)
    assert ratcheted == []  # replicas unchanged: ratcheted ...
    # ... but still reported, as a Warning header
    assert [str(w) for w in ratcheted.warnings] == ["spec.replicas: Invalid value: 7: failed rule: self < 5"]
    new["spec"]["replicas"] = 8
    assert [x.field for x in kc.validate_crd(c, new, old)] == ["spec.replicas"]
    assert len(kc.validate_crd(c, old)) == 1  # create: never ratcheted


def test_transition_rules_are_not_ratcheted():
    c = crd([{"rule": "self.replicas >= oldSelf.replicas", "message": "no scale down"}])
    # unchanged but the rule still runs (and passes); a change that fails is reported
    assert kc.validate_crd(c, obj(replicas=3), obj(replicas=3)) == []
    assert len(kc.validate_crd(c, obj(replicas=2), obj(replicas=3))) == 1


def test_map_list_items_correlate_by_key():
    props = {
        "items": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-map-keys": ["name"],
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
                "x-kubernetes-validations": [{"rule": "self.size < 3"}],
            },
        }
    }
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
    # evaluation errors keep the schema type as the value and use cel-go's wording
    assert str(v) == 'spec: Invalid value: "object": no such key: nope evaluating rule: self.nope == 1'


def test_scalar_values_print_like_go():
    props = {
        "tier": {"type": "string", "x-kubernetes-validations": [{"rule": "self == 'gold'"}]},
        "ratio": {"type": "number", "x-kubernetes-validations": [{"rule": "self < 1.0"}]},
        "big": {"type": "number", "x-kubernetes-validations": [{"rule": "self < 1.0"}]},
        "flag": {
            "type": "boolean",
            "x-kubernetes-validations": [{"rule": "!self", "reason": "FieldValueDuplicate", "message": "dropped"}],
        },
        "name": {
            "type": "string",
            "x-kubernetes-validations": [{"rule": "self == 'x'", "reason": "FieldValueRequired", "message": "need x"}],
        },
    }
    v = kc.validate_crd(crd([], props), obj(tier='pl"at\u00e9\n', ratio=1.5, big=1234567.0, flag=True, name="y"))
    assert [str(x) for x in v] == [
        'spec.tier: Invalid value: "pl\\"at\u00e9\\n": failed rule: self == \'gold\'',
        "spec.ratio: Invalid value: 1.5: failed rule: self < 1.0",
        "spec.big: Invalid value: 1.234567e+06: failed rule: self < 1.0",
        "spec.flag: Duplicate value: true",  # field.Duplicate has no detail
        "spec.name: Required value: need x",
    ]
    assert v[0].body() == 'Invalid value: "pl\\"at\u00e9\\n": failed rule: self == \'gold\''


def test_root_rule_and_null_values():
    c = {
        "spec": {
            "versions": [
                {
                    "name": "v1",
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-validations": [{"rule": "self.metadata.name != 'w'"}],
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "nullable": True,
                                    "x-kubernetes-validations": [{"rule": "false"}],
                                }
                            },
                        }
                    },
                }
            ]
        }
    }
    v = kc.validate_crd(c, {"metadata": {"name": "w"}, "spec": None})
    assert [str(x) for x in v] == ["<nil>: Invalid value: failed rule: self.metadata.name != 'w'"]


def test_atomic_list_items_ratchet_through_the_list():
    props = {
        "tags": {
            "type": "array",
            "items": {
                "type": "string",
                "x-kubernetes-validations": [{"rule": "self.size() < 4", "message": "tag too long"}],
            },
        },
        "name": {"type": "string"},
    }
    c = crd([], props)
    old = obj(tags=["long-tag"], name="a")
    new = obj(tags=["long-tag"], name="b")
    r = kc.validate_crd(c, new, old)  # the items don't correlate; the unchanged list decides
    assert r == [] and [str(w) for w in r.warnings] == ['spec.tags[0]: Invalid value: "long-tag": tag too long']
    r = kc.validate_crd(c, obj(tags=["long-tag", "x"], name="b"), old)
    assert [str(x) for x in r] == ['spec.tags[0]: Invalid value: "long-tag": tag too long'] and r.warnings == []


def test_message_expression_sees_plain_old_self():
    c = crd(
        [
            {
                "rule": "!oldSelf.hasValue() || self.replicas >= oldSelf.value().replicas",
                "optionalOldSelf": True,
                "messageExpression": "'was ' + string(oldSelf.replicas)",
            }
        ]
    )
    (v,) = kc.validate_crd(c, obj(replicas=1), obj(replicas=2))
    assert v.message == "was 2"
