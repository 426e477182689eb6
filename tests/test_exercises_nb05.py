"""Notebook 05's exercise checks refuse wrong answers and None (offline: a fake etcd and API answer)."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from k8slearn.notebook.exercises import nb05

NS = "k8slearn-encryption"
KEY = f"/registry/secrets/{NS}/quiz"


class FakeEtcd:
    prefix = "/registry"

    def __init__(self, value: bytes | None, mod_revision: int = 42):
        self.value, self.mod_revision = value, mod_revision

    def get(self, key):
        if key != KEY or self.value is None:
            return None
        return SimpleNamespace(key=key, value=self.value, mod_revision=self.mod_revision)


def fake_lab(value: bytes | None, password: str = "demo-password-quiz", status: int = 200, mod_revision: int = 42):
    body = {"kind": "Secret", "data": {"password": base64.b64encode(password.encode()).decode()}}
    return SimpleNamespace(
        etcd=FakeEtcd(value, mod_revision),
        _namespaces=[NS],
        get_raw=lambda path, **q: (status, json.dumps(body).encode()),
    )


GCM = b"k8s:enc:aesgcm:v1:keyg:" + bytes(40)
BOX = b"k8s:enc:secretbox:v1:key3:" + bytes(50)


@pytest.mark.parametrize("answer", [None, "aesgcm", ("aesgcm",), ("aesgcm", "key1"), ("aescbc", "keyg"), (1, 2)])
def test_writer_refuses_wrong_answers(answer, capsys):
    assert not nb05.check_writer(fake_lab(GCM), answer)
    assert ("⏳" if answer is None else "❌") in capsys.readouterr().out


def test_writer_accepts_the_prefix_and_refuses_plain_or_missing_values(capsys):
    assert nb05.check_writer(fake_lab(GCM), ("aesgcm", "keyg"))
    assert not nb05.check_writer(fake_lab(b"k8s\x00plain"), ("aesgcm", "keyg"))
    assert not nb05.check_writer(fake_lab(None), ("aesgcm", "keyg"))
    assert "setup cell" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer",
    [
        None,
        42,
        "",
        "demo-password",
        base64.b64encode(b"demo-password-quiz").decode(),
        b"\xff\xfe",
        ["demo-password-quiz"],
    ],
)
def test_password_refuses_wrong_answers(answer, capsys):
    assert not nb05.check_password(fake_lab(GCM), answer)
    assert ("⏳" if answer is None else "❌") in capsys.readouterr().out


def test_password_accepts_the_real_one_and_survives_an_unreadable_secret():
    assert nb05.check_password(fake_lab(GCM), "demo-password-quiz")
    assert nb05.check_password(fake_lab(GCM), b"demo-password-quiz")
    assert not nb05.check_password(fake_lab(GCM, status=404), "demo-password-quiz")


@pytest.mark.parametrize("answer", [None, True, -1, 0, "42", 41, 42.0])
def test_rewritten_refuses_wrong_answers(answer, capsys):
    assert not nb05.check_rewritten(fake_lab(BOX, mod_revision=42), answer)
    assert ("⏳" if answer is None else "❌") in capsys.readouterr().out


def test_rewritten_needs_secretbox_key3_at_that_revision(capsys):
    assert nb05.check_rewritten(fake_lab(BOX, mod_revision=42), 42)
    assert not nb05.check_rewritten(fake_lab(GCM, mod_revision=42), 42)
    assert "still holds it as k8s:enc:aesgcm:v1:keyg:" in capsys.readouterr().out
    assert not nb05.check_rewritten(fake_lab(None), 42)
