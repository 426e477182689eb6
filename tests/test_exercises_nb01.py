"""Notebook 01's exercise checks: wrong answers (and None) give a false Verdict, never an error."""

from __future__ import annotations

import pytest

import k8slearn
from k8slearn.notebook.exercises import nb01


@pytest.fixture(scope="module")
def lab():
    lab = k8slearn.connect("replay", notebook="01-etcd-contents")
    yield lab
    lab.close()


@pytest.mark.parametrize(
    "answer",
    [
        None,
        "/registry/endpoints/kube-system/kube-dns",  # the pattern, which Endpoints break
        "/registry/services/specs/kube-system/kube-dns",  # the Service, not its Endpoints
        42,
    ],
)
def test_endpoints_key_rejects_wrong_answers(lab, answer):
    assert not nb01.check_endpoints_key(lab, answer)


@pytest.mark.parametrize("answer", [None, [], ["10.96.0.10"], "10.244.0.1", ["10.244.0.1", "10.244.0.1", "x"]])
def test_endpoint_ips_rejects_wrong_answers(lab, answer):
    assert not nb01.check_endpoint_ips(lab, answer)


def test_json_value_rejects_protobuf_missing_and_the_notebooks_own_values(lab):
    prefix = lab.etcd.prefix
    apiservice = next(k for k in lab.etcd.keys() if k.startswith(f"{prefix}/apiregistration.k8s.io/apiservices/"))
    for answer in (
        None,
        f"{prefix}/services/specs/kube-system/kube-dns",  # protobuf
        f"{prefix}/k8slearn.example/notes/nowhere/nothing",  # no such key
        apiservice,  # JSON, but written by the apiserver itself
        f"{prefix}/apiextensions.k8s.io/customresourcedefinitions/{nb01.CRD_NAME}",
        ["not", "a", "key"],
    ):
        assert not nb01.check_json_value(lab, answer), answer


def test_checks_print_a_verdict(lab, capsys):
    nb01.check_endpoints_key(lab, None)
    nb01.check_endpoint_ips(lab, ["1.2.3.4"])
    out = capsys.readouterr().out
    assert "⏳" in out and "❌" in out
