"""Checks for notebook 05 (encryption at rest): each reads the Secret `quiz` from etcd or the API.

`check_writer` compares the learner's (provider, key name) with the prefix of the value etcd
holds, `check_password` with the value the API returns, `check_rewritten` looks at the stored
value's prefix and ModRevision. A wrong answer prints ❌ with a hint and returns a false
Verdict; nothing here raises.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from k8slearn.notebook.exercises import Verdict, verdict

SECRET = "quiz"


def _stored(lab) -> tuple[str, Any] | None:
    """(etcd key, KeyValue) of the Secret `quiz` in the notebook's namespaces, or None."""
    etcd = getattr(lab, "etcd", None)
    for ns in list(getattr(lab, "_namespaces", [])):
        key = f"{getattr(etcd, 'prefix', '/registry')}/secrets/{ns}/{SECRET}"
        try:
            kv = etcd.get(key) if etcd is not None else None
        except Exception:
            kv = None
        if kv is not None:
            return key, kv
    return None


def _prefix(value: bytes) -> tuple[str, str] | None:
    parts = value.split(b":", 5)
    if not value.startswith(b"k8s:enc:") or len(parts) < 6:
        return None
    return parts[2].decode("utf-8", "replace"), parts[4].decode("utf-8", "replace")


def check_writer(lab, answer: Any) -> Verdict:
    """`answer = (provider, key_name)` of the value etcd holds for Secret `quiz`, e.g. ("aescbc", "key1")."""
    hint = "read the value with lab.etcd.get(...) and look at its prefix k8s:enc:PROVIDER:v1:KEY:"
    if answer is None:
        return verdict(False, None, hint)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2 or not all(isinstance(a, str) for a in answer):
        return verdict(False, answer, hint, "Answer with two strings: (provider, key name).")
    found = _stored(lab)
    if found is None:
        return verdict(
            False, answer, hint, "There is no Secret `quiz` in the notebook's namespace: run the setup cell."
        )
    named = _prefix(found[1].value)
    if named is None:
        return verdict(False, answer, hint, "The stored value is not encrypted: run the setup cell again.")
    if tuple(answer) == named:
        return verdict(True, answer, why=f"etcd holds {found[0]} as k8s:enc:{named[0]}:v1:{named[1]}:...")
    if answer[0] == named[0]:
        return verdict(False, answer, hint, "The provider is right; the key name is the field after v1:.")
    return verdict(False, answer, hint, "That is not the provider the prefix names.")


def check_password(lab, answer: Any) -> Verdict:
    """`answer` = the `password` of Secret `quiz`, decrypted from the bytes in etcd (a str)."""
    hint = "enc.decrypt(value, enc.parse_config(QUIZ_CONFIG), key) then codec.decode(...).obj['data']['password']"
    if answer is None:
        return verdict(False, None, hint)
    if isinstance(answer, bytes):
        try:
            answer = answer.decode()
        except UnicodeDecodeError:
            return verdict(False, answer, hint, "The password is text; these bytes are not UTF-8.")
    if not isinstance(answer, str):
        return verdict(False, answer, hint, "Answer with the password as a string.")
    try:
        ns = next(iter(getattr(lab, "_namespaces", [])))
        status, body = lab.get_raw(f"/api/v1/namespaces/{ns}/secrets/{SECRET}")
        data = json.loads(body).get("data") or {} if status == 200 else {}
        real = base64.b64decode(data.get("password", "")).decode()
    except Exception:
        return verdict(False, answer, hint, "The Secret `quiz` could not be read from the API: run the setup cell.")
    if not real:
        return verdict(False, answer, hint, "The Secret `quiz` has no password: run the setup cell again.")
    if answer == real:
        return verdict(True, answer, why="It is what the API returns: the apiserver decrypts the same bytes.")
    if answer == base64.b64encode(real.encode()).decode():
        return verdict(False, answer, hint, "That is the base64 of the password: decode it.")
    return verdict(False, answer, hint, "That is not the password the Secret holds.")


def check_rewritten(lab, answer: Any) -> Verdict:
    """`answer` = the ModRevision of `quiz` after you made kube-apiserver store it with secretbox key `key3`."""
    hint = "put secretbox key3 first, keep the other keys behind it, restart, then rewrite the Secret"
    if answer is None:
        return verdict(False, None, hint)
    if isinstance(answer, bool) or not isinstance(answer, int) or answer <= 0:
        return verdict(False, answer, hint, "Answer with the etcd ModRevision (a positive int).")
    found = _stored(lab)
    if found is None:
        return verdict(False, answer, hint, "There is no Secret `quiz` in the notebook's namespace.")
    kv = found[1]
    named = _prefix(kv.value)
    if named != ("secretbox", "key3"):
        now = f"k8s:enc:{named[0]}:v1:{named[1]}:" if named else "not encrypted"
        return verdict(False, answer, hint, f"etcd still holds it as {now}.")
    if answer != kv.mod_revision:
        return verdict(False, answer, hint, f"It is stored with secretbox key3, but its ModRevision is not {answer}.")
    return verdict(True, answer, why=f"Stored with secretbox key3 at revision {kv.mod_revision}.")
