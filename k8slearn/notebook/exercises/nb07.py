"""Checks for notebook 07 (the etcd time machine): each asks the snapshot, never the printed text.

`snap` is the notebook's `Snapshot` of the cluster's etcd. `check_image_change_revision` reads
the Deployment at the learner's revision and at the one before it; `check_busiest_key` counts
every key's changes in the file; `check_damaged_copy` opens the learner's damaged copy with the
reader and expects its checksum to catch the damage. A wrong answer prints ❌ with a hint and
returns a false Verdict; nothing here raises on one.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from k8slearn.notebook.exercises import Verdict, verdict


def _image(version: Any) -> str | None:
    try:
        return version.obj["spec"]["template"]["spec"]["containers"][0]["image"]
    except Exception:  # noqa: BLE001 - a deletion, another kind of object: no image
        return None


def check_image_change_revision(snap: Any, answer: Any, key: str = "", image: str = "nginx:1.27") -> Verdict:
    """`answer` = the revision at which the Deployment under `key` first asked for `image`."""
    hint = "walk snap.history(key) and compare each revision's spec.template image with the one before"
    if answer is None:
        return verdict(False, None, hint)
    if isinstance(answer, bool) or not isinstance(answer, int):
        return verdict(False, answer, hint, "Answer with the revision as an int.")
    try:
        history = snap.history(key)
    except Exception as e:  # noqa: BLE001 - a closed snapshot, a bad key: say so, do not raise
        return verdict(False, answer, hint, f"The snapshot cannot be read ({e}).")
    revs = [v.mod_revision for v in history]
    if answer not in revs:
        return verdict(False, answer, hint, f"The Deployment was not written at revision {answer}.")
    i = revs.index(answer)
    if _image(history[i]) != image:
        return verdict(False, answer, hint, f"At revision {answer} the Deployment asks for {_image(history[i])}.")
    if i > 0 and _image(history[i - 1]) == image:
        return verdict(False, answer, hint, f"It already asked for {image} at revision {revs[i - 1]}: look earlier.")
    return verdict(True, answer, why=f"Revision {answer} is the write that changed the template to {image}.")


def check_busiest_key(snap: Any, answer: Any) -> Verdict:
    """`answer` = a key with the most changes (puts and deletions) in the snapshot."""
    hint = "count the entries of snap.changes() per key (collections.Counter)"
    if answer is None:
        return verdict(False, None, hint)
    if isinstance(answer, bytes):
        answer = answer.decode(errors="replace")
    if not isinstance(answer, str):
        return verdict(False, answer, hint, "Answer with the key as a str.")
    try:
        counts = Counter(ch.key.decode(errors="replace") for ch in snap.changes())
    except Exception as e:  # noqa: BLE001
        return verdict(False, answer, hint, f"The snapshot cannot be read ({e}).")
    if answer not in counts:
        return verdict(False, answer, hint, f"{answer!r} has no change in the snapshot.")
    most = max(counts.values())
    if counts[answer] != most:
        return verdict(False, answer, hint, f"{answer} changed {counts[answer]} times; some key changed {most} times.")
    return verdict(True, answer, why=f"{answer} changed {most} times in the file.")


def check_damaged_copy(snap: Any, answer: Any) -> Verdict:
    """`answer` = the path of a copy of the snapshot file, the same size, with some byte changed,
    that the reader refuses because its SHA-256 no longer matches."""
    from k8slearn.storage.snapshot import ChecksumMismatch, Snapshot, SnapshotError

    hint = "copy snap.path, flip one byte in the middle (open it 'r+b', seek, write), then open it with Snapshot"
    if answer is None:
        return verdict(False, None, hint)
    try:
        path = Path(answer)
        if not path.is_file():
            return verdict(False, answer, hint, f"There is no file at {answer}.")
        if path.resolve() == Path(snap.path).resolve():
            return verdict(False, answer, hint, "That is the notebook's own snapshot: damage a copy.")
        if path.stat().st_size != snap.file_size:
            return verdict(False, answer, hint, "Keep the size: change bytes, do not cut or add any.")
        with open(path, "rb") as a, open(snap.path, "rb") as b:
            same = a.read() == b.read()
        if same:
            return verdict(False, answer, hint, "The copy is identical to the snapshot: change a byte.")
    except (OSError, TypeError, ValueError) as e:
        return verdict(False, answer, hint, f"The answer is not a readable file path ({e}).")
    try:
        Snapshot(path).close()
    except ChecksumMismatch:
        return verdict(True, answer, why="The reader refused it: the SHA-256 trailer no longer matches the contents.")
    except SnapshotError as e:
        return verdict(False, answer, hint, f"Refused, but not by the checksum: {e}. Change a byte, not the trailer.")
    return verdict(False, answer, hint, "The reader accepted it: is the copy really different from the snapshot?")
