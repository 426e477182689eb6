"""The etcd write log of a recording: every write as a line, and putting them back at their revisions.

`OpsRecorder` watches the whole keyspace while a notebook is recorded and keeps each write
(`Op`: revision, put or delete, key, value, lease TTL); `write_ops`/`read_ops` keep them as
JSON lines (`etcd.jsonl`, `base.jsonl`); `apply_ops` writes them into a fresh local etcd so
that each lands at its recorded revision.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from k8slearn.cluster.etcd import current_revision, txn
from k8slearn.errors import FixtureMissing, K8sLearnError


class RecordingIncomplete(K8sLearnError):
    """The recorder's etcd watch did not deliver every write."""


FILLER_KEY = b"/k8slearn/replay-filler"


@dataclass(frozen=True)
class Op:
    """One write to etcd as recorded: the revision it made, put or delete, and the value."""

    rev: int
    op: str  # "put" | "delete"
    key: str
    value: bytes = b""
    lease_ttl: int | None = None

    def to_json(self) -> str:
        """This op as one JSON line (the value as text when printable UTF-8, else base64)."""
        d = {"rev": self.rev, "op": self.op, "key": self.key}
        if self.op == "put":
            try:
                text = self.value.decode("utf-8")
                if text.isprintable():
                    d["text"] = text
                else:
                    raise UnicodeDecodeError("utf-8", b"", 0, 1, "not printable")
            except UnicodeDecodeError:
                d["b64"] = base64.b64encode(self.value).decode()
            if self.lease_ttl:
                d["lease_ttl"] = self.lease_ttl
        return json.dumps(d, separators=(",", ":"), sort_keys=False)

    @classmethod
    def from_json(cls, line: str) -> Op:
        """The op written as ``line`` by ``to_json``."""
        d = json.loads(line)
        value = d["text"].encode() if "text" in d else base64.b64decode(d.get("b64", ""))
        return cls(int(d["rev"]), d["op"], d["key"], value, d.get("lease_ttl"))


def read_ops(path: Path) -> list[Op]:
    """The ops recorded in a .jsonl file; FixtureMissing when it is absent."""
    if not Path(path).is_file():
        raise FixtureMissing(f"recorded etcd history {path} is missing; re-record with `k8slearn record`")
    return [Op.from_json(line) for line in Path(path).read_text().splitlines() if line.strip()]


def write_ops(path: Path, ops: Iterable[Op]) -> None:
    """Write ``ops`` to a .jsonl file, one line each."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("".join(op.to_json() + "\n" for op in ops))


def apply_ops(client: Any, ops: Iterable[Op]) -> int:
    """Write recorded ops into a (fresh) etcd so that each lands at its recorded revision.

    Gaps between recorded revisions (writes that were not recorded, such as other keys'
    history on a live cluster) are filled with writes to FILLER_KEY, outside the
    apiserver's prefix. Returns the final revision.
    """
    rev = current_revision(client)
    leases: dict[int, object] = {}
    for op in ops:
        if op.rev <= rev:
            raise FixtureMissing(
                f"recorded op at revision {op.rev} ({op.key}) is out of order; "
                "the recording is damaged: re-record it with `k8slearn record`"
            )
        while rev + 1 < op.rev:
            rev = client.put(FILLER_KEY, str(rev + 1).encode()).header.revision
        if op.op == "put":
            lease = None
            if op.lease_ttl:
                lease = leases.get(op.lease_ttl) or client.lease(op.lease_ttl)
                leases[op.lease_ttl] = lease
            rev = client.put(op.key.encode(), op.value, lease=lease).header.revision
        elif op.op == "delete":
            # A notebook's history may delete a key written outside it (by an earlier notebook,
            # or between two recordings) that this replay never wrote. Deleting an absent key
            # makes no revision in etcd, so the revision is spent on the filler key instead.
            ok, _r, rev = txn(
                client,
                compare=[client.transactions.version(op.key.encode()) > 0],
                success=[client.transactions.delete(op.key.encode())],
                failure=[client.transactions.put(FILLER_KEY, str(op.rev).encode())],
            )
        else:
            raise FixtureMissing(f"unknown op {op.op!r} at revision {op.rev} in the recording")
        if rev != op.rev:
            raise FixtureMissing(
                f"replaying {op.key} landed at revision {rev}, recorded {op.rev}; was the local etcd fresh?"
            )
    return rev


class OpsRecorder:
    """Records every write to an etcd from a revision on, by watching the whole keyspace."""

    def __init__(self, client, start_revision: int):
        self.client = client
        self.start_revision = start_revision
        self.ops: list[Op] = []
        self.error: Exception | None = None
        self._ttl_cache: dict[int, int | None] = {}
        self._events, self._cancel = client.watch(b"\0", range_end=b"\0", start_revision=start_revision)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _ttl(self, lease_id: int) -> int | None:
        if not lease_id:
            return None
        if lease_id not in self._ttl_cache:
            try:
                self._ttl_cache[lease_id] = int(self.client.get_lease_info(lease_id).grantedTTL)
            except Exception:
                self._ttl_cache[lease_id] = None
        return self._ttl_cache[lease_id]

    def _run(self):
        try:
            for ev in self._events:
                kv = ev._event.kv
                if kv.key == FILLER_KEY:
                    continue
                if type(ev).__name__ == "DeleteEvent":
                    self.ops.append(Op(kv.mod_revision, "delete", kv.key.decode()))
                else:
                    self.ops.append(Op(kv.mod_revision, "put", kv.key.decode(), kv.value, self._ttl(kv.lease)))
        except Exception as e:  # noqa: BLE001 - kept and raised by stop(), unless it is the cancel
            self.error = e

    def stop(self, until_revision: int | None = None, timeout: float = 10.0) -> list[Op]:
        """The writes from the start revision up to `until_revision` (default: now).

        Raises RecordingIncomplete when the watch failed or did not deliver every revision in
        time: a partial recording would replay as a different history.
        """
        import time

        until = until_revision or current_revision(self.client)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (not self.ops or self.ops[-1].rev < until):
            if until < self.start_revision or self.error is not None:
                break
            time.sleep(0.02)
        error = self.error
        try:
            self._cancel()
        except Exception as e:  # noqa: BLE001 - a dead server cannot cancel: the watch failed
            error = error or e
        got = self.ops[-1].rev if self.ops else self.start_revision - 1
        if error is not None:
            raise RecordingIncomplete(
                f"the etcd watch that records writes failed ({type(error).__name__}: {error}); "
                "the recording of this notebook is incomplete: record it again"
            )
        if until >= self.start_revision and got < until:
            raise RecordingIncomplete(
                f"the etcd watch delivered writes up to revision {got}, not {until}, within "
                f"{timeout:.0f} s; the recording of this notebook is incomplete: record it again"
            )
        return [op for op in self.ops if op.rev <= until]
