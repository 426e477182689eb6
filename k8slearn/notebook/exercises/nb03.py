"""Checks for notebook 03's exercises (ListWatch and watchList).

Each check looks at the cluster (a consistent LIST of the namespace's ConfigMaps) or at the data
the learner hands over (the events of a stream, the Status of a refused request). None of them
raises on a wrong answer; `answer=None` prints ⏳ and sends no request.
"""

from __future__ import annotations

import json
from typing import Any

from k8slearn.notebook.exercises import Verdict, verdict

NAMESPACE = "k8slearn-listwatch"
MARKER = "k8s.io/initial-events-end"
#: the refusal notebook 03 shows before its exercises (validation.go#L57-L59 at v1.37.2)
SHOWN_REFUSAL = "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"


def _list_configmaps(lab: Any, namespace: str) -> dict:
    """A consistent LIST (resourceVersion unset) of the namespace's ConfigMaps, as JSON."""
    _, body = lab.get_raw(f"/api/v1/namespaces/{namespace}/configmaps")
    return json.loads(body)


def _is_marker(event: Any) -> bool:
    if not isinstance(event, dict) or event.get("type") != "BOOKMARK":
        return False
    meta = (event.get("object") or {}).get("metadata") or {}
    return (meta.get("annotations") or {}).get(MARKER) == "true"


def _events(answer: Any) -> list | None:
    """The learner's stream as a list of event dicts: accepts the dicts, the raw body, or its lines."""
    try:
        if isinstance(answer, (bytes, str)):
            answer = answer.splitlines()
        events = [json.loads(e) if isinstance(e, (bytes, str)) else e for e in answer]
    except (TypeError, ValueError):
        return None
    if not all(isinstance(e, dict) and "type" in e and isinstance(e.get("object"), dict) for e in events):
        return None
    return events


def check_initial_event_count(lab: Any, answer: Any, namespace: str = NAMESPACE) -> Verdict:
    """Easy: how many ADDED events come before the initial-events-end bookmark of a watch-list
    of `namespace`'s ConfigMaps? The truth is the number of objects a consistent LIST returns now."""
    hint = "one ADDED per ConfigMap the namespace holds now (kube-root-ca.crt included); count up to the marker"
    if answer is None:
        return verdict(False, None, hint)
    if isinstance(answer, bool) or not isinstance(answer, int):
        return verdict(False, answer, hint, f"The answer is a number of events (an int), not {type(answer).__name__}.")
    items = _list_configmaps(lab, namespace)["items"]
    if answer == len(items):
        return verdict(True, answer, why=f"A consistent LIST of {namespace} holds {len(items)} ConfigMaps.")
    return verdict(False, answer, hint, f"{answer} is not the number of ConfigMaps in {namespace}.")


def check_watchlist_stream(lab: Any, answer: Any, list_rv: Any = None, namespace: str = NAMESPACE) -> Verdict:
    """Medium: `answer` is the body (or its events) of a watch-list of `namespace`'s ConfigMaps.

    Checked: every event before the marker is ADDED; they name exactly the objects a consistent
    LIST returns now, at the same resourceVersions; then comes the BOOKMARK annotated
    `k8s.io/initial-events-end: "true"`, whose resourceVersion is at least every initial
    object's, at least `list_rv` (a LIST made just before the watch), and not newer than now."""
    hint = (
        "one GET with watch=true, sendInitialEvents=true, resourceVersionMatch=NotOlderThan, "
        "allowWatchBookmarks=true and a timeoutSeconds, resourceVersion unset"
    )
    if answer is None:
        return verdict(False, None, hint)
    events = _events(answer)
    if not events:
        return verdict(False, answer, hint, "Hand over the stream: a list of events (dicts with type and object).")
    ends = [i for i, e in enumerate(events) if _is_marker(e)]
    if not ends:
        return verdict(False, answer, hint, f"No BOOKMARK annotated {MARKER}: was allowWatchBookmarks=true sent?")
    end = ends[0]
    initial, marker = events[:end], events[end]["object"]
    if any(e["type"] != "ADDED" for e in initial):
        return verdict(False, answer, hint, "Before the marker a watch-list sends only ADDED events.")
    if any(_is_marker(e) for e in events[end + 1 :]):
        return verdict(False, answer, hint, "A stream has one initial-events-end marker; this one has several.")
    metas = [e["object"].get("metadata") or {} for e in initial]
    if any(m.get("namespace") != namespace for m in metas):
        return verdict(False, answer, hint, f"The initial events should be ConfigMaps of the namespace {namespace}.")
    try:
        marker_rv = int(marker["metadata"]["resourceVersion"])
        seen = {m["name"]: int(m["resourceVersion"]) for m in metas}
        floor = int(list_rv) if list_rv is not None else None
    except (KeyError, TypeError, ValueError):
        return verdict(False, answer, hint, "Every event's object needs a name and a numeric resourceVersion.")
    now = _list_configmaps(lab, namespace)
    current = {i["metadata"]["name"]: int(i["metadata"]["resourceVersion"]) for i in now["items"]}
    if len(seen) != len(metas) or seen != current:
        missing, extra = sorted(set(current) - set(seen)), sorted(set(seen) - set(current))
        return verdict(
            False,
            answer,
            hint,
            f"The ADDED events should be the namespace's current objects (missing {missing}, not there {extra}); "
            "if you changed the namespace since the watch, run the watch again.",
        )
    if any(rv > marker_rv for rv in seen.values()):
        return verdict(False, answer, hint, "The marker's resourceVersion must cover every initial object.")
    if floor is not None and marker_rv < floor:
        return verdict(False, answer, hint, f"The marker ({marker_rv}) is older than the LIST before it ({floor}).")
    if marker_rv > int(now["metadata"]["resourceVersion"]):
        return verdict(False, answer, hint, "The marker is newer than the cluster: was this stream from this cluster?")
    return verdict(
        True,
        answer,
        why=f"{len(initial)} ADDED events for the {len(current)} current ConfigMaps, then the marker at {marker_rv}.",
    )


def _status(answer: Any) -> tuple[int | None, dict | None]:
    """(HTTP code, Status dict) from an ApiException, a Status dict, a (code, body) pair or a body."""
    code: Any = None
    body: Any = answer
    if hasattr(answer, "status") and hasattr(answer, "body"):  # kubernetes.client.ApiException
        code, body = answer.status, answer.body
    elif isinstance(answer, tuple) and len(answer) == 2:
        code, body = answer
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError:
            return None, None
    if not isinstance(body, dict) or body.get("kind") != "Status":
        return None, None
    return (code if isinstance(code, int) else body.get("code")), body


def check_refused_watchlist(lab: Any, answer: Any) -> Verdict:
    """Break it: `answer` is what the apiserver answered when it refused a request carrying
    watch-list parameters (the ApiException, its Status, or `get()`'s (status, body)).

    Accepted: 422 Invalid from ListOptions validation, naming sendInitialEvents or
    resourceVersionMatch, for a reason other than the one the notebook already showed."""
    hint = (
        "ValidateListOptions and validateWatchOptions in validation.go list every rule; "
        "each rule about sendInitialEvents other than the one shown is a way in"
    )
    if answer is None:
        return verdict(False, None, hint)
    code, status = _status(answer)
    if status is None:
        return verdict(False, answer, hint, "Hand over the ApiException (or the Status body) the apiserver answered.")
    details = status.get("details") or {}
    causes = details.get("causes") or []
    messages = {c.get("message", "") for c in causes}
    if code == 200 or status.get("status") == "Success":
        return verdict(False, answer, hint, "That request succeeded: the apiserver did not refuse it.")
    if code != 422 or status.get("reason") != "Invalid" or details.get("kind") != "ListOptions":
        return verdict(
            False, answer, hint, f"Refused ({code} {status.get('reason')}), but not by the validation of ListOptions."
        )
    if not causes or not all(c.get("field") in ("sendInitialEvents", "resourceVersionMatch") for c in causes):
        return verdict(False, answer, hint, "The refusal should be about sendInitialEvents or resourceVersionMatch.")
    if not any("sendInitialEvents" in m or "NotOlderThan" in m for m in messages):
        return verdict(False, answer, hint, "Make the refused request a watch-list request (sendInitialEvents).")
    if messages == {f"Forbidden: {SHOWN_REFUSAL}"} or messages == {SHOWN_REFUSAL}:
        return verdict(False, answer, hint, "That is the refusal shown above: find another rule of validation.go.")
    return verdict(True, answer, why="422 Invalid: " + "; ".join(sorted(messages)))


def check_informer_store(lab: Any, answer: Any, namespace: str = NAMESPACE) -> Verdict:
    """Medium: `answer` is a `k8slearn.informer.Informer` of `namespace`'s ConfigMaps, started with
    the watchList strategy and run (or started) until synced. Checked: it is synced, did not fall
    back, took its resourceVersion from the initial-events-end bookmark (or later), and its store
    holds exactly the objects, at the versions, of a consistent LIST made now."""
    hint = (
        'Informer(lab.api, path, "watchlist", watch_timeout=2, watches=1).run(), with path the '
        "namespace's ConfigMaps collection"
    )
    if answer is None:
        return verdict(False, None, hint)
    needed = ("strategy", "synced", "store", "timeline", "fell_back", "path")
    if not all(hasattr(answer, a) for a in needed):
        return verdict(False, answer, hint, "Hand over the Informer object itself.")
    if answer.strategy != "watchlist":
        return verdict(False, answer, hint, f"This informer's strategy is {answer.strategy!r}, not 'watchlist'.")
    if answer.path != f"/api/v1/namespaces/{namespace}/configmaps":
        return verdict(False, answer, hint, f"It should watch the ConfigMaps of {namespace}, not {answer.path}.")
    if not answer.synced.is_set():
        return verdict(False, answer, hint, "It is not synced: run it (run() or start() and wait_synced()).")
    if answer.fell_back:
        return verdict(False, answer, hint, f"It fell back to ListWatch: {answer.fell_back}")
    whats = [a.what for a in answer.timeline]
    if "MARKER" not in whats or whats.index("MARKER") > whats.index("SYNCED"):
        return verdict(False, answer, hint, "It was not synced by the initial-events-end bookmark.")
    now = _list_configmaps(lab, namespace)
    truth = {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in now["items"]}
    store = {k.split("/", 1)[1]: o["metadata"]["resourceVersion"] for k, o in dict(answer.store).items()}
    if store != truth:
        return verdict(
            False,
            answer,
            hint,
            "Its store differs from a LIST made now (did the namespace change since? run it again).",
        )
    return verdict(True, answer, why=f"Synced at the bookmark; its {len(store)} objects match a consistent LIST.")
