"""Notebook 03's exercise checks reject wrong answers (and None) without raising; offline: the
cluster is a stub that answers a consistent LIST as kube-apiserver v1.37.2 does."""

from __future__ import annotations

import json

import pytest

from k8slearn.notebook.exercises import nb03

NS = nb03.NAMESPACE
LIST_RV = 900
ITEMS = [("cm-1", 810), ("cm-3", 812), ("kube-root-ca.crt", 700)]


class _Resp:
    def __init__(self, status: int, body: bytes):
        self.status, self._body = status, body

    def read(self) -> bytes:
        return self._body


class _Api:
    """Answers GET /api/v1/namespaces/<NS>/configmaps like a consistent LIST; counts the calls."""

    class configuration:
        host = "https://stub"

    def __init__(self):
        self.calls: list[str] = []

    def call_api(self, method, url, header_params=None):
        self.calls.append(url)
        assert method == "GET" and url == f"https://stub/api/v1/namespaces/{NS}/configmaps", url
        items = [{"metadata": {"name": n, "namespace": NS, "resourceVersion": str(rv)}, "data": {}} for n, rv in ITEMS]
        body = {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": str(LIST_RV)}}
        return _Resp(200, json.dumps(dict(body, items=items)).encode())


class _Lab:
    def __init__(self):
        self.api = _Api()

    def get_raw(self, path, **params):
        from k8slearn.lab import get_raw

        return get_raw(self.api, path, **params)


@pytest.fixture
def lab():
    return _Lab()


def _added(name, rv, ns=NS):
    obj = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": str(rv)},
    }
    return {"type": "ADDED", "object": obj}


def _bookmark(rv, marker=True):
    meta: dict = {"resourceVersion": str(rv)}
    if marker:
        meta["annotations"] = {nb03.MARKER: "true"}
    return {"type": "BOOKMARK", "object": {"kind": "ConfigMap", "apiVersion": "v1", "metadata": meta}}


def _good_stream(marker_rv=850):
    return [_added(n, rv) for n, rv in ITEMS] + [_bookmark(marker_rv)]


def _status(causes, code=422, reason="Invalid", kind="ListOptions"):
    message = 'ListOptions.meta.k8s.io "" is invalid: ' + "; ".join(c[1] for c in causes)
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": {
            "group": "meta.k8s.io",
            "kind": kind,
            "causes": [{"reason": "FieldValueForbidden", "message": m, "field": f} for f, m in causes],
        },
        "code": code,
    }


# ------------------------------------------------------------------ exercise 1


def test_initial_count_none_sends_nothing(lab, capsys):
    assert not nb03.check_initial_event_count(lab, None)
    assert lab.api.calls == [] and "⏳" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [4, 0, 2, "3", 3.0, True, [3]])
def test_initial_count_wrong(lab, wrong, capsys):
    assert not nb03.check_initial_event_count(lab, wrong)
    assert "❌" in capsys.readouterr().out


def test_initial_count_right(lab):
    assert nb03.check_initial_event_count(lab, len(ITEMS))


# ------------------------------------------------------------------ exercise 2


def test_stream_none_sends_nothing(lab):
    assert not nb03.check_watchlist_stream(lab, None)
    assert lab.api.calls == []


def test_stream_right_in_every_form(lab):
    events = _good_stream()
    body = "\n".join(json.dumps(e) for e in events).encode()
    assert nb03.check_watchlist_stream(lab, events, list_rv=LIST_RV - 60)
    assert nb03.check_watchlist_stream(lab, body)
    assert nb03.check_watchlist_stream(lab, body.decode().splitlines())
    # a plain bookmark after the marker (near the watch's timeout) is fine
    assert nb03.check_watchlist_stream(lab, events + [_bookmark(LIST_RV, marker=False)])


def _wrong_streams():
    good = _good_stream()
    yield "empty", []
    yield "not events", ["hello"]
    yield "a number", 3
    yield "no marker (allowWatchBookmarks forgotten)", good[:-1]
    yield "plain bookmark only", good[:-1] + [_bookmark(850, marker=False)]
    yield (
        "ListWatch's watch: changes, not the state",
        [
            {"type": "MODIFIED", "object": good[0]["object"]},
            _bookmark(850),
        ],
    )
    yield "an object missing", good[1:]
    yield "an object at an old resourceVersion", [_added("cm-1", 700)] + good[1:]
    yield "an object of another namespace", [_added("cm-1", 810, ns="default")] + good[1:]
    yield "an object twice", [good[0]] + good
    yield "marker older than an object", _good_stream(marker_rv=811)
    yield "marker from the future", _good_stream(marker_rv=LIST_RV + 1)
    yield "two markers", good + [_bookmark(860)]
    yield (
        "marker without a resourceVersion",
        good[:-1] + [{"type": "BOOKMARK", "object": {"metadata": {"annotations": {nb03.MARKER: "true"}}}}],
    )


@pytest.mark.parametrize("label,wrong", list(_wrong_streams()), ids=[w[0] for w in _wrong_streams()])
def test_stream_wrong(lab, label, wrong, capsys):
    assert not nb03.check_watchlist_stream(lab, wrong), label
    assert "❌" in capsys.readouterr().out


def test_stream_marker_older_than_the_list_before(lab):
    assert not nb03.check_watchlist_stream(lab, _good_stream(marker_rv=850), list_rv=851)
    assert not nb03.check_watchlist_stream(lab, _good_stream(), list_rv="not a number")


# ------------------------------------------------------------------ exercise 3

FOR_LIST = ("sendInitialEvents", "Forbidden: sendInitialEvents is forbidden for list")
SHOWN = ("resourceVersionMatch", f"Forbidden: {nb03.SHOWN_REFUSAL}")


class _ApiException(Exception):
    """Shaped like kubernetes.client.ApiException: .status and .body (a str)."""

    def __init__(self, status, body):
        self.status, self.body = status, body


def test_refusal_none(lab, capsys):
    assert not nb03.check_refused_watchlist(lab, None)
    assert "⏳" in capsys.readouterr().out


def test_refusal_right_in_every_form(lab):
    s = _status([FOR_LIST])
    assert nb03.check_refused_watchlist(lab, s)
    assert nb03.check_refused_watchlist(lab, _ApiException(422, json.dumps(s)))
    assert nb03.check_refused_watchlist(lab, (422, json.dumps(s).encode()))
    unsupported = ("resourceVersionMatch", 'Unsupported value: "Exact": supported values: "NotOlderThan"')
    assert nb03.check_refused_watchlist(lab, _status([SHOWN, unsupported]))


@pytest.mark.parametrize(
    "wrong",
    [
        "422",
        42,
        {"kind": "ConfigMapList", "items": []},
        _status([SHOWN]),  # the refusal the notebook already showed
        _ApiException(422, json.dumps(_status([SHOWN]))),
        _status([FOR_LIST], code=410, reason="Expired"),
        _status([FOR_LIST], code=504, reason="Timeout"),
        _status([FOR_LIST], kind="ConfigMap"),
        _status([("metadata.name", "Required value")]),
        _status(
            [
                (
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                )
            ]
        ),
        _status([]),
        (200, b'{"kind":"Status","status":"Success","code":200}'),
        _ApiException(500, "not json"),
    ],
)
def test_refusal_wrong(lab, wrong, capsys):
    assert not nb03.check_refused_watchlist(lab, wrong)
    assert "❌" in capsys.readouterr().out
    assert lab.api.calls == []


# ------------------------------------------------------------------ exercise 4


class _Informer:
    """Shaped like k8slearn.informer.Informer after a watch-list sync of the stub namespace."""

    def __init__(self, strategy="watchlist", marker=True, fell_back=None, items=ITEMS, path=None):
        import threading
        from types import SimpleNamespace

        self.strategy, self.fell_back = strategy, fell_back
        self.path = path or f"/api/v1/namespaces/{NS}/configmaps"
        self.synced = threading.Event()
        self.synced.set()
        self.store = {f"{NS}/{n}": {"metadata": {"name": n, "resourceVersion": str(rv)}} for n, rv in items}
        whats = ["ADDED"] * len(items) + (["MARKER"] if marker else []) + ["SYNCED"]
        self.timeline = [SimpleNamespace(what=w) for w in whats]


def test_informer_none_sends_nothing(lab, capsys):
    assert not nb03.check_informer_store(lab, None)
    assert lab.api.calls == [] and "⏳" in capsys.readouterr().out


def test_informer_right(lab):
    assert nb03.check_informer_store(lab, _Informer())


def _unsynced():
    inf = _Informer()
    inf.synced.clear()
    return inf


@pytest.mark.parametrize(
    "wrong",
    [
        "informer",
        _Informer(strategy="listwatch"),
        _Informer(marker=False),
        _Informer(fell_back="HTTP 422"),
        _Informer(items=ITEMS[:2]),
        _Informer(items=[("cm-1", 700)] + ITEMS[1:]),
        _Informer(path="/api/v1/namespaces/default/configmaps"),
        _unsynced(),
    ],
)
def test_informer_wrong(lab, wrong, capsys):
    assert not nb03.check_informer_store(lab, wrong)
    assert "❌" in capsys.readouterr().out
