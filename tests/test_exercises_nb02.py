"""Notebook 02's exercise checks refuse wrong answers (offline: a fake apiserver answers)."""

import base64
import json
from types import SimpleNamespace

import pytest

from k8slearn.notebook.exercises import nb02

NS = "k8slearn-rv"


class FakeApi:
    """Answers `param_serialize` + `call_api` as lab.api would, from a function of (path, query)."""

    def __init__(self, answer):
        self.answer = answer
        self.asked = []

    def param_serialize(self, method, path, query_params=(), **_):
        return (method, path, dict(query_params))

    def call_api(self, method, path, query):
        self.asked.append((path, query))
        status, body = self.answer(path, query)
        return SimpleNamespace(status=status, data=json.dumps(body).encode(), read=lambda: None)


def fake_lab(answer=lambda path, query: (404, {"kind": "Status"})):
    api = FakeApi(answer)

    def get_raw(path, **query):
        response = api.call_api(*api.param_serialize("GET", path, query_params=list(query.items())))
        return response.status, response.data

    return SimpleNamespace(api=api, get_raw=get_raw, _namespaces=[NS])


def items_at(*rvs):
    return {"metadata": {"resourceVersion": "0"}, "items": [{"metadata": {"resourceVersion": str(r)}} for r in rvs]}


def token(rv):
    doc = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": "x\x00"}).encode()
    return base64.urlsafe_b64encode(doc).decode().rstrip("=")


@pytest.mark.parametrize(
    "answer",
    [None, 42, (1,), ("a", "b"), (0, 5), (True, 3), (120, 120), (100, 120), (120, 110)],
)
def test_list_vs_items_refuses_wrong_answers(answer, capsys):
    # at revision 120 the newest ConfigMap was written at 115
    lab = fake_lab(lambda path, query: (200, items_at(101, 115)))
    assert not nb02.check_list_vs_items(lab, answer)
    assert ("⏳" if answer is None else "❌") in capsys.readouterr().out


def test_list_vs_items_asks_for_an_exact_read():
    lab = fake_lab(lambda path, query: (200, items_at(101, 115)))
    assert nb02.check_list_vs_items(lab, (120, "115"))
    [(path, query)] = lab.api.asked
    assert path == f"/api/v1/namespaces/{NS}/configmaps"
    assert query == {"resourceVersion": "120", "resourceVersionMatch": "Exact"}


def test_list_vs_items_refuses_when_the_revision_cannot_be_read(capsys):
    assert not nb02.check_list_vs_items(fake_lab(lambda p, q: (410, {"kind": "Status"})), (120, 115))
    assert "❌" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer",
    [None, "200", ("not-a-token", 200), (token(200), 201), (token(200), "0200"), (token(200), None), [token(200)]],
)
def test_page_two_refuses_wrong_answers(answer, capsys):
    lab = fake_lab(lambda path, query: (200, {"metadata": {"resourceVersion": "200"}, "items": []}))
    assert not nb02.check_page_two_rv(lab, answer)
    assert ("⏳" if answer is None else "❌") in capsys.readouterr().out


def test_page_two_refuses_when_the_server_disagrees(capsys):
    lab = fake_lab(lambda path, query: (200, {"metadata": {"resourceVersion": "199"}, "items": []}))
    assert not nb02.check_page_two_rv(lab, (token(200), 200))
    assert "❌" in capsys.readouterr().out


def test_page_two_accepts_the_token_revision():
    lab = fake_lab(lambda path, query: (200, {"metadata": {"resourceVersion": "200"}, "items": []}))
    assert nb02.check_page_two_rv(lab, (token(200), 200))
    assert lab.api.asked[0][1]["continue"] == token(200)


def api_error(status, reason, name="counter", kind="configmaps"):
    body = {"kind": "Status", "code": status, "reason": reason, "details": {"name": name, "kind": kind}}
    return SimpleNamespace(status=status, body=json.dumps(body))


def stale(rv="10", ns=NS, name="counter"):
    return {"metadata": {"namespace": ns, "name": name, "resourceVersion": rv}}


@pytest.mark.parametrize(
    "answer",
    [
        None,
        api_error(409, "Conflict"),  # not a tuple
        (api_error(422, "Invalid"), stale()),
        (api_error(409, "AlreadyExists"), stale()),  # a create of an existing name is 409 too
        (ValueError("409"), stale()),
        (api_error(409, "Conflict", name="other"), stale()),
        (api_error(409, "Conflict", kind="secrets"), stale()),
        (api_error(409, "Conflict"), stale(ns="default")),
        (api_error(409, "Conflict"), stale(rv=None)),
    ],
)
def test_conflict_refuses_wrong_answers(answer, capsys):
    assert not nb02.check_conflict(fake_lab(), answer)
    assert ("⏳" if answer is None else "❌") in capsys.readouterr().out


@pytest.mark.parametrize(("current", "ok"), [("10", False), ("9", False), ("11", True)])
def test_conflict_compares_with_the_cluster(monkeypatch, current, ok):
    from kubernetes import client

    class FakeCore:
        def __init__(self, api):
            pass

        def read_namespaced_config_map(self, name, ns):
            return SimpleNamespace(metadata=SimpleNamespace(resource_version=current))

    monkeypatch.setattr(client, "CoreV1Api", FakeCore)
    assert bool(nb02.check_conflict(fake_lab(), (api_error(409, "Conflict"), stale("10")))) is ok
