"""Checks for notebook 02 (resourceVersion): each asks the cluster, never the printed text.

`check_list_vs_items` re-reads the learner's list at the revision they report
(`resourceVersionMatch=Exact`), `check_page_two_rv` fetches page 2 with the learner's continue
token, `check_conflict` reads the object the learner's stale write was refused for. A wrong
answer prints ❌ with a hint and returns a false Verdict; nothing here raises on one.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from k8slearn.notebook.exercises import Verdict, verdict


def _rv(value: Any) -> int | None:
    """A resourceVersion as an int (from an int or a decimal string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit() and value.isascii() and value[0] != "0":
        return int(value)
    return None


def _namespaces(lab) -> list[str]:
    return list(getattr(lab, "_namespaces", []))


def _get(lab, path: str, **query: str) -> tuple[int, dict]:
    status, body = lab.get_raw(path, **query)
    return status, json.loads(body)


def check_list_vs_items(lab, answer: Any) -> Verdict:
    """`answer = (list_rv, newest_item_rv)` read from one LIST of the notebook namespace's ConfigMaps."""
    hint = "take both numbers from the same list: `listed.metadata.resource_version` and the items' resource_version"
    if answer is None:
        return verdict(False, None, hint)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return verdict(False, answer, hint, "Answer with a tuple (list_rv, newest_item_rv).")
    list_rv, newest = _rv(answer[0]), _rv(answer[1])
    if list_rv is None or newest is None:
        return verdict(False, answer, hint, "Both must be resourceVersions (positive whole numbers).")
    if list_rv == newest:
        return verdict(
            False, answer, hint, "Did you write something that is not a ConfigMap before listing? Then they differ."
        )
    if newest > list_rv:
        return verdict(False, answer, hint, "No item of a list can be newer than the list itself.")
    for ns in _namespaces(lab):
        status, body = _get(
            lab, f"/api/v1/namespaces/{ns}/configmaps", resourceVersion=str(list_rv), resourceVersionMatch="Exact"
        )
        if status != 200 or not body.get("items"):
            continue
        items_newest = max(int(i["metadata"]["resourceVersion"]) for i in body["items"])
        if items_newest == newest:
            return verdict(
                True,
                answer,
                why=f"The list was read at revision {list_rv}; its newest item was last written at {newest}. "
                "The list's resourceVersion is the revision of the read, not any item's.",
            )
        return verdict(
            False, answer, hint, f"At revision {list_rv} the newest ConfigMap there was written at {items_newest}."
        )
    return verdict(False, answer, hint, f"No list of the notebook's ConfigMaps can be read at revision {list_rv}.")


def _token_rv(token: str) -> int | None:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(decoded["rv"])
    except (ValueError, TypeError, KeyError):
        return None


def check_page_two_rv(lab, answer: Any) -> Verdict:
    """`answer = (continue_token, rv)`: page 1's continue token and the revision page 2 is read at."""
    hint = "page 2 is read at the revision the first page was read at; the continue token carries it"
    if answer is None:
        return verdict(False, None, hint)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2 or not isinstance(answer[0], str):
        return verdict(False, answer, hint, "Answer with a tuple (continue_token, resourceVersion).")
    token, read_at = answer[0], _rv(answer[1])
    token_rv = _token_rv(token)
    if token_rv is None:
        return verdict(False, answer, hint, "That is not a continue token from a list response.")
    if read_at != token_rv:
        return verdict(False, answer, hint, f"{answer[1]!r} is not the revision page 2 is read at.")
    for ns in _namespaces(lab):
        status, body = _get(lab, f"/api/v1/namespaces/{ns}/configmaps", limit="1", **{"continue": token})
        if status == 200:
            served = int(body["metadata"]["resourceVersion"])
            return verdict(
                served == read_at,
                answer,
                hint,
                f"The apiserver answered the next page at revision {served}.",
            )
    return verdict(False, answer, hint, "The apiserver did not accept that token for the notebook's namespace.")


def _status_body(error: Any) -> dict | None:
    body = getattr(error, "body", None)
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    return body if isinstance(body, dict) else None


def _meta(obj: Any) -> tuple[str | None, str | None, str | None]:
    """(namespace, name, resourceVersion) of a client object or a dict."""
    if isinstance(obj, dict):
        m = obj.get("metadata") or {}
        return m.get("namespace"), m.get("name"), m.get("resourceVersion")
    m = getattr(obj, "metadata", None)
    if m is None:
        return None, None, None
    return getattr(m, "namespace", None), getattr(m, "name", None), getattr(m, "resource_version", None)


def check_conflict(lab, answer: Any) -> Verdict:
    """`answer = (caught ApiException, the stale ConfigMap you sent)`: a 409 Conflict you provoked."""
    hint = "read the ConfigMap twice, write one copy, then replace with the other (stale) copy"
    if answer is None:
        return verdict(False, None, hint)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return verdict(False, answer, hint, "Answer with a tuple (caught ApiException, stale object you sent).")
    error, stale = answer
    body = _status_body(error)
    if getattr(error, "status", None) != 409 or body is None or body.get("reason") != "Conflict":
        return verdict(False, answer, hint, "The error is not a 409 with reason Conflict.")
    ns, name, sent = _meta(stale)
    details = body.get("details") or {}
    if details.get("kind") != "configmaps" or details.get("name") != name or name is None:
        return verdict(False, answer, hint, "The Conflict is not about the ConfigMap you sent.")
    if ns not in _namespaces(lab):
        return verdict(False, answer, hint, "Use a ConfigMap in the notebook's namespace.")
    sent_rv = _rv(sent)
    if sent_rv is None:
        return verdict(False, answer, hint, "The object you sent carries no resourceVersion: that write is blind.")
    from kubernetes import client

    try:
        current = client.CoreV1Api(lab.api).read_namespaced_config_map(name, ns)
    except client.ApiException:
        return verdict(False, answer, hint, f"ConfigMap {name} is not in {ns} any more.")
    now = _rv(_meta(current)[2])
    return verdict(
        now is not None and now > sent_rv,
        answer,
        hint,
        f"You sent resourceVersion {sent_rv}; the object is at {now} in the cluster.",
    )
