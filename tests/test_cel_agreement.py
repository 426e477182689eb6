"""k8slearn.cel against the real kube-apiserver (cel-go) on the agreement corpus (k8slearn/cel/corpus.py).

The live test asserts the goals of issue #12: the same verdict in 100% of the cases that are not
labelled exceptions (cost estimates, the engine's parser depth) and the same message text in
at least 98%; every disagreement is printed, never hidden."""

from __future__ import annotations

import time

from conftest import LIVE
from k8slearn.cel import agreement, corpus

NAMESPACE = "k8slearn-cel-agree"


def test_corpus_is_large_and_covers_every_kind():
    crd, policies = corpus.crd_cases(), corpus.policy_cases()
    assert len(crd) + len(policies) >= 300
    libraries = {c.library for c in crd} | {c.library for c in policies}
    wanted = ["Kubernetes quantity", "Kubernetes IP and CIDR", "Kubernetes URL", "Kubernetes regex"]
    wanted += ["Kubernetes semver", "Kubernetes format", "Kubernetes lists", "CEL optional types", "cost"]
    for name in wanted:
        assert name in libraries
    kinds = {c.kind for c in crd} | {c.kind for c in policies}
    for kind in ("transition", "optionalOldSelf", "messageExpression", "fieldPath", "reason", "variables",
                 "params", "matchConditions"):  # fmt: skip
        assert kind in kinds
    assert len({c.id for c in crd} | {c.id for c in policies}) == len(crd) + len(policies)


def test_every_case_gets_a_local_answer():
    answers = agreement.ask_local(NAMESPACE)
    assert len(answers) == len(corpus.crd_cases()) + len(corpus.policy_cases())
    assert {a.verdict for a in answers.values()} <= {"allowed", "denied", "error", "invalid"}


@LIVE
def test_agreement_with_the_apiserver(live_api):
    from kubernetes import client

    try:
        client.CoreV1Api(live_api).create_namespace({"metadata": {"name": NAMESPACE}})
    except client.ApiException as e:
        assert e.status == 409
    started = time.monotonic()
    remote = agreement.ask_apiserver(live_api, NAMESPACE, time.sleep)
    local = agreement.ask_local(NAMESPACE)
    seconds = time.monotonic() - started
    rows = agreement.compare(remote, local)
    assert len(rows) == len(local)
    for line in agreement.summary(rows, "library") + agreement.summary(rows, "kind"):
        print(line)
    counted = [r for r in rows if not r["label"]]
    wrong_verdict = [r for r in counted if not r["verdict_agrees"]]
    wrong_message = [r for r in counted if not r["message_agrees"]]
    for r in wrong_verdict + [r for r in wrong_message if r["verdict_agrees"]]:
        print(f"DISAGREE {r['id']} {r['library']}: {r['case']}\n  apiserver {r['apiserver_verdict']} "
              f"{r['apiserver_messages']}\n  local     {r['local_verdict']} {r['local_messages']}")  # fmt: skip
    for r in rows:
        if r["label"]:
            print(f"LABELLED {r['id']} ({r['label']}): apiserver says {r['apiserver_messages']}")
    print(f"corpus of {len(rows)} cases in {seconds:.0f} s")
    assert seconds < 180
    assert not wrong_verdict, f"{len(wrong_verdict)} of {len(counted)} verdicts differ"
    assert len(wrong_message) <= 0.02 * len(counted), f"{len(wrong_message)} of {len(counted)} messages differ"
