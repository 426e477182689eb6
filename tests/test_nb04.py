"""Notebook 04 (CEL), "Does the apiserver agree?": what it records, read back from a replay run."""

import pytest

GROUP = "cel.k8slearn.example.com"


@pytest.fixture(scope="module")
def records(executed):
    return executed("04-cel")


def test_crd_answers_agree_with_validate_crd(records):
    rows = {r["object"]: r for r in records["crd_agreement"]}
    assert set(rows) == {"w-good", "w-bad"}
    assert all(r["agree"] for r in rows.values())
    good, bad = rows["w-good"], rows["w-bad"]
    assert (good["apiserver"], good["HTTP"], good["local violations"]) == ("allowed", 201, [])
    assert (bad["apiserver"], bad["HTTP"], bad["kc.validate_crd"]) == ("denied", 422, "denied")
    assert bad["apiserver causes"] == bad["local violations"] == [
        'spec: Invalid value: "object": replicas 9 outside [1, 5]',
        'spec: Invalid value: "object": new widgets start at tier bronze']
    assert bad["apiserver message"] == (f'Widget.{GROUP} "w-bad" is invalid: [' + ", ".join(bad["local violations"]) + "]")


def test_policy_answers_agree_with_admit(records):
    rows = {r["object"]: r for r in records["vap_agreement"]}
    assert set(rows) == {"cm-good", "cm-no-owner", "cm-password"}
    for row in rows.values():
        for k in ("verdict", "HTTP", "message"):
            assert row[f"apiserver {k}"] == row[f"kc.admit {k}"], (row["object"], k)
    denied = rows["cm-no-owner"]
    assert (denied["apiserver verdict"], denied["apiserver HTTP"]) == ("denied", 422)
    assert denied["apiserver message"] == (
        'configmaps "cm-no-owner" is forbidden: ValidatingAdmissionPolicy \'k8slearn-cel-owner\' with binding '
        "'k8slearn-cel-owner-deny' denied request: every ConfigMap in k8slearn-cel needs an owner label")
    warned = rows["cm-password"]
    assert (warned["apiserver verdict"], warned["apiserver HTTP"]) == ("allowed", 201)
    assert warned["kc.admit warnings"] == [
        "Validation failed for ValidatingAdmissionPolicy 'k8slearn-cel-no-password' with binding "
        "'k8slearn-cel-no-password-warn': passwords belong in a Secret, not in a ConfigMap"]
    # transcripts keep the Warning header, so the apiserver's warnings replay too
    assert warned["apiserver warnings"] == warned["kc.admit warnings"]
    assert rows["cm-good"]["apiserver warnings"] == rows["cm-good"]["kc.admit warnings"] == []
