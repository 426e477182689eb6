"""Checks for notebook 04 (CEL): each evaluates the learner's rule locally with k8slearn.cel.

The checks judge behaviour, never text: the learner's expression is compiled and run on good
and bad cases (and, for the policy, through :func:`k8slearn.cel.admit` as the apiserver would
run it). A wrong answer, an expression that does not compile, or one that fails to evaluate
prints ❌ with a hint and returns a false Verdict; nothing here raises on a wrong answer.
"""

from __future__ import annotations

from typing import Any

from k8slearn.notebook.exercises import Verdict, verdict

TIERS = "['bronze', 'silver', 'gold']"


def _spec(replicas: int, lo: int = 1, hi: int = 5, tier: str = "bronze") -> dict:
    return {"replicas": replicas, "minReplicas": lo, "maxReplicas": hi, "tier": tier}


def _widget(spec: dict) -> dict:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": spec}


def _crd(rule: dict) -> dict:
    """A Widget CRD whose ``spec`` carries just the learner's rule."""
    props = {k: {"type": "integer"} for k in ("replicas", "minReplicas", "maxReplicas")}
    props["tier"] = {"type": "string"}
    spec = {"type": "object", "properties": props, "x-kubernetes-validations": [rule]}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}},
                }
            ],
        },
    }


def _rejects(crd: dict, new: dict, old: dict | None = None) -> bool | str:
    """True/False: the rule rejects/accepts; a string: why it could not be evaluated."""
    from k8slearn.cel import CELError, validate_crd

    try:
        return len(validate_crd(crd, _widget(new), None if old is None else _widget(old))) > 0
    except CELError as exc:
        return f"your rule does not compile or evaluate: {exc}"


def check_replicas_rule(lab: Any, rule: str | None) -> Verdict:
    """Easy: a rule on a Widget's ``spec`` that rejects replicas outside [minReplicas, maxReplicas]."""
    hint = "`self` is the spec object: compare self.replicas with self.minReplicas and self.maxReplicas"
    if rule is None:
        return verdict(False, None, hint)
    if not isinstance(rule, str):
        return verdict(False, rule, hint, "The answer is a CEL expression in a string.")
    crd = _crd({"rule": rule})
    cases = [(_spec(3), False), (_spec(1), False), (_spec(5), False), (_spec(9), True), (_spec(0), True),
             (_spec(2, lo=3, hi=8), True), (_spec(8, lo=3, hi=8), False)]  # fmt: skip
    for spec, should_reject in cases:
        got = _rejects(crd, spec)
        if isinstance(got, str):
            return verdict(False, rule, hint, got)
        if got != should_reject:
            what = "rejects" if got else "accepts"
            return verdict(False, rule, hint, f"It {what} replicas={spec['replicas']} with bounds "
                           f"[{spec['minReplicas']}, {spec['maxReplicas']}].")  # fmt: skip
    return verdict(True, rule, why=f"It decided all {len(cases)} cases right, bounds included.")


def _configmap(name: str, keys: int | None) -> dict:
    cm: dict = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    if keys is not None:
        cm["data"] = {f"k{i}": "v" for i in range(keys)}
    return cm


def check_configmap_validation(lab: Any, validation: dict | None) -> Verdict:
    """Medium: a ValidatingAdmissionPolicy validation (expression + messageExpression).

    It must deny ConfigMaps with more than 3 data keys (and allow ConfigMaps without data), with
    a message computed per request that names the ConfigMap and its number of keys.
    """
    from k8slearn.cel import CELError, admit

    hint = (
        "a dict {'expression': ..., 'messageExpression': ...}; `object` is the ConfigMap; "
        "guard with has(object.data); string(size(object.data)) gives the count"
    )
    if validation is None:
        return verdict(False, None, hint)
    if not isinstance(validation, dict) or not isinstance(validation.get("expression"), str):
        return verdict(False, validation, hint, "The answer is a dict with an 'expression' string.")
    if not isinstance(validation.get("messageExpression"), str):
        return verdict(False, validation, hint, "Add a 'messageExpression' so the message says how many keys.")
    policy = {
        "metadata": {"name": "max-keys"},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]}
                ]
            },
            "validations": [validation],
        },
    }
    binding = {"metadata": {"name": "max-keys"}, "spec": {"policyName": "max-keys", "validationActions": ["Deny"]}}
    for name, keys in [("empty", None), ("small", 2), ("limit", 3), ("big", 5), ("huge", 7)]:
        cm = _configmap(name, keys)
        request = {"operation": "CREATE", "name": name, "namespace": "default", "object": cm,
                   "resource": {"group": "", "version": "v1", "resource": "configmaps"}}  # fmt: skip
        try:
            r = admit(policy, binding, request)
        except CELError as exc:
            return verdict(False, validation, hint, f"It does not compile: {exc}")
        if r.errors:
            return verdict(False, validation, hint, f"On ConfigMap {name!r} it failed to evaluate: {r.errors[0]}")
        should_deny = (keys or 0) > 3
        if r.allowed == should_deny:
            what = "allows" if r.allowed else "denies"
            return verdict(False, validation, hint, f"It {what} a ConfigMap with {keys or 0} keys.")
        if should_deny:
            message = (r.message or "").split("denied request: ", 1)[-1]
            if str(keys) not in message or name not in message:
                return verdict(False, validation, hint, f"For {name!r} ({keys} keys) the message is {message!r}: "
                               "it should name the ConfigMap and its number of keys.")  # fmt: skip
    return verdict(True, validation, why="Denied only above 3 keys, with a message computed per ConfigMap.")


def check_ratcheting_rule(lab: Any, rule: dict | str | None) -> Verdict:
    """Break it: a ``spec`` rule limiting ``tier`` that existing platinum Widgets survive.

    The rule sits on ``spec`` (an object): an update that changes any spec field is *not*
    ratcheted automatically, so the rule itself must let an unchanged tier through, using
    ``oldSelf`` (with ``optionalOldSelf: true`` so it also runs on create).
    """
    hint = (
        "a dict {'rule': ..., 'optionalOldSelf': True}; on create oldSelf has no value; on update "
        "oldSelf.value().tier is the stored tier"
    )
    if rule is None:
        return verdict(False, None, hint)
    entry = {"rule": rule} if isinstance(rule, str) else rule
    if not isinstance(entry, dict) or not isinstance(entry.get("rule"), str):
        return verdict(False, rule, hint, "The answer is a dict with a 'rule' string.")
    crd = _crd(entry)
    cases = [
        ("create gold", _spec(3, tier="gold"), None, False),
        ("create platinum", _spec(3, tier="platinum"), None, True),
        ("scale a stored platinum Widget 3 -> 4", _spec(4, tier="platinum"), _spec(3, tier="platinum"), False),
        ("change gold to platinum", _spec(3, tier="platinum"), _spec(3, tier="gold"), True),
        ("change platinum to silver", _spec(3, tier="silver"), _spec(3, tier="platinum"), False),
        ("change platinum to diamond", _spec(3, tier="diamond"), _spec(3, tier="platinum"), True),
    ]
    for label, new, old, should_reject in cases:
        got = _rejects(crd, new, old)
        if isinstance(got, str):
            return verdict(False, rule, hint, got)
        if got != should_reject:
            what = "rejects" if got else "accepts"
            return verdict(False, rule, hint, f"It {what} '{label}'.")
    return verdict(True, rule, why=f"All {len(cases)} create/update cases right: the rule ratchets by itself.")
