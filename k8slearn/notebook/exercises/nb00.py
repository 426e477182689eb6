"""Checks for notebook 00-preflight's exercises (see the package docstring for the contract).

- `check_key_version`: a key's `version` after it is written, deleted and written again,
  reproduced on a fresh sandbox etcd.
- `check_lease_key`: the etcd key of the fake Node's Lease, composed from the apiserver's
  `--etcd-prefix` and read back from the cluster's etcd.
- `check_compacted_read`: the error etcd gives for a read of a compacted revision, compared
  with the one a fresh sandbox etcd gives.
"""

from __future__ import annotations

from typing import Any

from k8slearn.notebook.exercises import Verdict, verdict

EXERCISE_KEY = "/preflight/exercise"
WORKER = "k8slearn-worker"


def _etcd_error(e: Any) -> tuple[str, str] | None:
    """(gRPC status code name, details) of an etcd client error, None for anything else."""
    code, details = getattr(e, "code", None), getattr(e, "details", None)
    if not isinstance(e, BaseException) or not callable(code) or not callable(details):
        return None
    try:
        return str(getattr(code(), "name", code())), str(details())
    except Exception:
        return None


def check_key_version(lab: Any, answer: Any) -> Verdict:
    """The key is put three times, deleted, and put once more: what is its `version`?"""
    hint = "etcd's version counts the writes since the key was last created; a delete ends that count"
    if answer is None:
        return verdict(False, None, hint)
    try:
        client = lab.sandbox().client()
        for value in (b"one", b"two", b"three"):
            client.put(EXERCISE_KEY, value)
        client.delete(EXERCISE_KEY)
        client.put(EXERCISE_KEY, b"four")
        expected = client.get(EXERCISE_KEY)[1].version
    except Exception as e:  # never raise on the learner's behalf
        return verdict(False, answer, hint, f"the check could not run a sandbox etcd ({e}).")
    ok = isinstance(answer, int) and not isinstance(answer, bool) and answer == expected
    why = f"a fresh etcd says version {expected} after that sequence." if ok else f"you answered {answer!r}."
    return verdict(ok, answer, hint, why)


def check_lease_key(lab: Any, answer: Any) -> Verdict:
    """The full etcd key of the Lease the fake Node renews in `kube-node-lease`."""
    from k8slearn.storage import codec, keys

    prefix = lab.cluster.get("etcd_prefix", keys.DEFAULT_PREFIX)
    hint = (
        "start with the apiserver's --etcd-prefix (lab.cluster['etcd_prefix']), then the resource's "
        "storage path, the namespace and the name; k8slearn.storage.keys.compose knows every "
        "built-in resource's path"
    )
    if answer is None:
        return verdict(False, None, hint)
    if not isinstance(answer, str):
        return verdict(False, answer, hint, f"a key is a string; you gave {type(answer).__name__}.")
    expected = keys.compose("leases", WORKER, "kube-node-lease", prefix=prefix)
    if answer != expected:
        return verdict(False, answer, hint, f"{answer!r} is not the key kube-apiserver uses.")
    # read the current keyspace directly, not through lab.etcd's pinned reads, so that a learner's
    # tries do not shift the reads a replay expects
    try:
        value, _ = lab.etcd.client.get(answer)
        obj = codec.decode(value).obj if value is not None else None
    except Exception as e:
        return verdict(False, answer, hint, f"reading it from etcd failed ({e}).")
    ok = isinstance(obj, dict) and obj.get("kind") == "Lease" and obj.get("metadata", {}).get("name") == WORKER
    return verdict(ok, answer, hint, "etcd holds the Lease there." if ok else "etcd holds no such Lease.")


def check_compacted_read(lab: Any, answer: Any) -> Verdict:
    """The exception etcd raised for a read at a revision older than its compaction."""
    hint = (
        "write a key twice, `compact()` the sandbox at the second revision, then read the key at the "
        "first revision (`get_response(key, revision=...)`) and hand the exception to the check"
    )
    if answer is None:
        return verdict(False, None, hint)
    got = _etcd_error(answer)
    if got is None:
        return verdict(False, answer, hint, f"that is not an error from etcd's client ({type(answer).__name__}).")
    try:
        client = lab.sandbox().client()
        first = client.put(EXERCISE_KEY, b"old").header.revision
        second = client.put(EXERCISE_KEY, b"new").header.revision
        client.compact(second)
        client.get_response(EXERCISE_KEY, revision=first)
        return verdict(False, answer, hint, "the check's own sandbox served the compacted read; cannot compare.")
    except Exception as e:
        expected = _etcd_error(e)
    ok = got == expected
    why = f"etcd answers {got[0]}: {got[1]!r}." if ok else f"etcd said {got[0]}: {got[1]!r}, not a compaction error."
    return verdict(ok, answer, hint, why)
