"""Notebook 04's exercise checks refuse wrong answers (offline: they evaluate CEL locally)."""

import pytest

from k8slearn.notebook.exercises import nb04

TIERS = "['bronze', 'silver', 'gold']"
MESSAGE = "'ConfigMap ' + object.metadata.name + ' has ' + string(size(object.data)) + ' keys, at most 3 allowed'"


@pytest.mark.parametrize(
    "rule",
    [
        None,
        42,
        "self.replicas <= self.maxReplicas",  # forgets the lower bound
        "self.minReplicas < self.replicas && self.replicas < self.maxReplicas",  # bounds excluded
        "self.replicas <= 5",  # a constant, not the object's own bound
        "self.minReplicas <= self.replicas && self.replicas <= self.maxReplica",  # no such field
        "self.replicas <= ",  # does not compile
    ],
)
def test_replicas_rule_refuses_wrong_answers(rule, capsys):
    assert not nb04.check_replicas_rule(None, rule)
    assert ("⏳" if rule is None else "❌") in capsys.readouterr().out


def test_replicas_rule_accepts_the_solution():
    assert nb04.check_replicas_rule(None, "self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas")


@pytest.mark.parametrize(
    "validation",
    [
        None,
        "size(object.data) <= 3",  # not a dict
        {"expression": "!has(object.data) || size(object.data) <= 3"},  # no messageExpression
        {"expression": "size(object.data) <= 3", "messageExpression": MESSAGE},  # fails without data
        {"expression": "!has(object.data) || size(object.data) < 3", "messageExpression": MESSAGE},  # off by one
        {"expression": "!has(object.data) || size(object.data) <= 3", "messageExpression": "'too many keys'"},
        {"expression": "!has(object.data) || size(object.data) <= 3", "messageExpression": "object.data"},
    ],
)
def test_configmap_validation_refuses_wrong_answers(validation):
    assert not nb04.check_configmap_validation(None, validation)


def test_configmap_validation_accepts_the_solution():
    assert nb04.check_configmap_validation(
        None, {"expression": "!has(object.data) || size(object.data) <= 3", "messageExpression": MESSAGE}
    )


@pytest.mark.parametrize(
    "rule",
    [
        None,
        f"self.tier in {TIERS}",  # ratcheted by the apiserver only when spec is unchanged
        {"rule": f"self.tier in {TIERS} || oldSelf.tier == self.tier"},  # transition rule: skipped on create
        {"rule": f"self.tier in {TIERS} || oldSelf.hasValue()", "optionalOldSelf": True},  # any update passes
        {"rule": "oldSelf.hasValue() || self.tier == 'bronze'", "optionalOldSelf": True},
        {"rule": f"self.tier in {TIERS} || oldSelf.tier == self.tier", "optionalOldSelf": True},  # no .value()
    ],
)
def test_ratcheting_rule_refuses_wrong_answers(rule):
    assert not nb04.check_ratcheting_rule(None, rule)


def test_ratcheting_rule_accepts_the_solution():
    rule = f"self.tier in {TIERS} || (oldSelf.hasValue() && oldSelf.value().tier == self.tier)"
    assert nb04.check_ratcheting_rule(None, {"rule": rule, "optionalOldSelf": True})
