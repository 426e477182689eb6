"""Notebook 04 (CEL), "Does the apiserver agree?": what it records, read back from a replay run.

The answers are kube-apiserver v1.37.2's (live or recorded); these tests pin what it said."""

import pytest

GROUP = "cel.k8slearn.example.com"
TIER_RULE = "failed rule: self in ['bronze', 'silver', 'gold']"


@pytest.fixture(scope="module")
def records(executed):
    return executed("04-cel")


def test_local_crd_messages_use_the_1_35_format(records):
    assert records["crd_create_violations"] == [
        "spec: Invalid value: replicas 9 outside [1, 5]",
        "spec: Invalid value: new widgets start at tier bronze",
        "spec: Invalid value: new widgets start at tier bronze",
        f'spec.tier: Invalid value: "platinum": {TIER_RULE}',
    ]


def test_apiserver_refuses_the_costly_message_expression(records):
    causes = records["crd_cost_refusal"]
    assert causes[0].startswith(
        "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].messageExpression: "
        "Forbidden: estimated messageExpression cost exceeds budget by factor of more than 100x"
    )


def test_crd_answers_agree_with_validate_crd(records):
    rows = {r["object"]: r for r in records["crd_agreement"]}
    assert set(rows) == {"w-good", "w-bad", "w-platinum", "w-incomplete"}
    assert all(r["agree"] for r in rows.values())
    assert (rows["w-good"]["apiserver"], rows["w-good"]["HTTP"], rows["w-good"]["local violations"]) == (
        "allowed",
        201,
        [],
    )
    bad = rows["w-bad"]
    assert (bad["apiserver"], bad["HTTP"], bad["kc.validate_crd"]) == ("denied", 422, "denied")
    assert (
        bad["apiserver causes"]
        == bad["local violations"]
        == sorted(
            ["spec: Invalid value: replicas above maxReplicas", "spec: Invalid value: new widgets start at tier bronze"]
        )
    )
    assert bad["apiserver message"] == (
        f'Widget.{GROUP} "w-bad" is invalid: '
        "[spec: Invalid value: replicas above maxReplicas, spec: Invalid value: new widgets start at tier bronze]"
    )
    assert f'spec.tier: Invalid value: "platinum": {TIER_RULE}' in rows["w-platinum"]["apiserver causes"]
    assert (
        rows["w-incomplete"]["apiserver causes"]
        == rows["w-incomplete"]["local violations"]
        == [
            'spec: Invalid value: "object": no such key: maxReplicas evaluating rule: '
            "self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas"
        ]
    )


def test_transition_rule_and_ratcheting_on_update(records):
    scaled, ratcheted = records["crd_update_agreement"]
    assert (scaled["object"], scaled["HTTP"]) == ("w-good", 422)
    assert (
        scaled["apiserver causes"]
        == scaled["local violations"]
        == ["spec.replicas: Forbidden: scaling down is not allowed"]
    )
    assert (ratcheted["object"], ratcheted["HTTP"], ratcheted["apiserver causes"]) == ("w-legacy", 200, [])
    # a ratcheted failure is a Warning header, not an error
    assert (
        ratcheted["apiserver warnings"]
        == ratcheted["local warnings"]
        == [f'spec.tier: Invalid value: "platinum": {TIER_RULE}']
    )


def test_policy_answers_agree_with_admit(records):
    rows = {r["object"]: r for r in records["vap_agreement"]}
    assert set(rows) == {"cm-good", "cm-no-owner", "cm-password", "cm-no-owner-password", "kube-settings"}
    for row in rows.values():
        for k in ("verdict", "HTTP", "message", "warnings"):
            assert row[f"apiserver {k}"] == row[f"kc.admit {k}"], (row["object"], k)
    denied = rows["cm-no-owner"]
    assert (denied["apiserver verdict"], denied["apiserver HTTP"]) == ("denied", 422)
    assert denied["apiserver message"] == (
        "configmaps \"cm-no-owner\" is forbidden: ValidatingAdmissionPolicy 'k8slearn-cel-owner' with binding "
        "'k8slearn-cel-owner-deny' denied request: every ConfigMap in k8slearn-cel needs an owner label"
    )
    forbidden = rows["kube-settings"]
    assert (forbidden["apiserver verdict"], forbidden["apiserver HTTP"]) == ("denied", 403)
    assert forbidden["apiserver message"].endswith("denied request: names starting with kube- are reserved")
    warning = (
        "Validation failed for ValidatingAdmissionPolicy 'k8slearn-cel-no-password' with binding "
        "'k8slearn-cel-no-password-warn': passwords belong in a Secret, not in a ConfigMap"
    )
    warned = rows["cm-password"]
    assert (warned["apiserver verdict"], warned["apiserver HTTP"]) == ("allowed", 201)
    # transcripts keep the Warning header, so the apiserver's warnings replay too
    assert warned["apiserver warnings"] == [warning]
    both = rows["cm-no-owner-password"]
    assert (both["apiserver verdict"], both["apiserver HTTP"], both["apiserver warnings"]) == ("denied", 422, [warning])
    assert rows["cm-good"]["apiserver warnings"] == []
    assert records["vap_probes_until_enforced"] >= 1


def test_apiserver_accepts_new_expressions_by_compatibility_version(records):
    accepted = records["library_probe_accepted"]
    # a 1.37 apiserver compiles new expressions at compatibility version 1.36 (base.go)
    assert accepted["Kubernetes lists v1"] is False  # includes(): introduced 1.37
    assert accepted["CEL extended lists v3"] is True  # sort() and friends: introduced 1.34
    assert accepted["Kubernetes semver"] is True
    assert accepted["literal validators (duration, timestamp, regex, homogeneous literals)"] is None  # no probe


def test_mutating_admission_policy_agrees_with_kc_mutate(records):
    rows = {r["object"]: r for r in records["map_agreement"]}
    assert (
        rows["cm-no-owner"]["apiserver stored labels"]
        == rows["cm-no-owner"]["kc.mutate labels"]
        == {
            "team": "a",
            "owner": "unassigned",
        }
    )
    assert rows["cm-owned"]["apiserver stored labels"] == {"owner": "team-a"}
    assert rows["cm-owned"]["kc.mutate patch"] == []


def test_a_spec_level_rule_is_not_ratcheted_when_spec_changes(records):
    assert records["spec_rule_not_ratcheted"] == {
        "HTTP": 422,
        "causes": ["spec: Invalid value: tier must be bronze, silver or gold"],
    }


def test_the_corpus_agreement_is_recorded(records):
    """The agreement table of the whole corpus (k8slearn/cel/corpus.py) as the notebook measured it."""
    got = records["corpus_agreement"]
    assert got["cases"] >= 300 and got["counted"] >= 300
    assert got["same_message"] >= 0.98
    assert got["same_verdict"] >= 0.99
    assert len(got["disagreements"]) <= got["counted"] * 0.02
