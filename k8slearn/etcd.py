"""Reading etcd as kube-apiserver left it: keys, values, revisions.

`Etcd` wraps a real etcd client (the cluster's in live mode, the local one everywhere
else). Every value it returns carries etcd's own bookkeeping: create_revision,
mod_revision (what the API calls resourceVersion), version and lease.

Replay keeps the answers honest: the local etcd holds the whole recorded history, and the
n-th read a notebook makes is served at the revision the n-th read saw when recorded
(`ReadPins`), so "before" and "after" reads show what they showed then.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterable

from .errors import FixtureMissing, K8sLearnError, NotRecorded


class RecordingIncomplete(K8sLearnError):
    """The recorder's etcd watch did not deliver every write."""

FILLER_KEY = b"/k8slearn/replay-filler"


def prefix_end(prefix: bytes) -> bytes:
    """The range end that selects every key starting with `prefix` (etcd's convention)."""
    if not prefix:
        return b"\0"
    b = bytearray(prefix)
    for i in range(len(b) - 1, -1, -1):
        if b[i] < 0xFF:
            b[i] += 1
            return bytes(b[: i + 1])
    return b"\0"


def _b(x) -> bytes:
    return x if isinstance(x, bytes) else str(x).encode()


@dataclass(frozen=True)
class KeyValue:
    """One etcd key-value with the revisions etcd keeps beside it."""

    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int = 0

    @cached_property
    def decoded(self):
        """The value decoded by k8slearn's codec (`codec.Decoded`)."""
        from . import codec

        return codec.decode(self.value)

    @property
    def obj(self):
        return self.decoded.obj


@dataclass
class ReadPins:
    """Revisions of the reads a notebook made, in order: written in record, used in replay."""

    mode: str = "off"  # "off" | "record" | "replay"
    revisions: list[int] = field(default_factory=list)
    _next: int = 0

    def revision_for_read(self) -> int | None:
        if self.mode != "replay":
            return None
        if self._next >= len(self.revisions):
            raise NotRecorded(
                f"etcd read #{self._next + 1} was not recorded (the recording holds "
                f"{len(self.revisions)} reads); this notebook reads etcd more often than when it "
                "was recorded: re-record it with `k8slearn record`"
            )
        rev = self.revisions[self._next]
        self._next += 1
        return rev

    def saw(self, revision: int):
        if self.mode == "record":
            self.revisions.append(int(revision))


class Etcd:
    """Read access to an etcd keyspace, with values decoded on demand."""

    def __init__(self, client, *, prefix: str = "/registry", pins: ReadPins | None = None,
                 label: str = "etcd"):
        self.client = client
        self.prefix = prefix
        self.pins = pins or ReadPins()
        self.label = label
        self._lock = threading.Lock()

    def __repr__(self):
        return f"<k8slearn.Etcd {self.label} prefix={self.prefix!r}>"

    def _range(self, key: bytes, range_end: bytes | None = None, *, keys_only=False, limit=0,
               revision: int | None = None):
        from pyetcd.etcdrpc import rpc_pb2

        with self._lock:
            pinned = self.pins.revision_for_read()
            req = rpc_pb2.RangeRequest(key=key, range_end=range_end or b"", keys_only=keys_only,
                                       limit=limit, revision=revision or pinned or 0,
                                       sort_order=rpc_pb2.RangeRequest.ASCEND,
                                       sort_target=rpc_pb2.RangeRequest.KEY)
            resp = self.client.kvstub.Range(req, self.client.timeout,
                                            credentials=self.client.call_credentials,
                                            metadata=self.client.metadata)
            self.pins.saw(resp.header.revision)
        kvs = [KeyValue(kv.key.decode("utf-8", "replace"), kv.value, kv.create_revision,
                        kv.mod_revision, kv.version, kv.lease) for kv in resp.kvs]
        return (pinned or resp.header.revision) if not revision else revision, kvs

    def get(self, key: str, *, revision: int | None = None) -> KeyValue | None:
        """The key's current value (or at `revision`), None when absent."""
        _, kvs = self._range(_b(key), revision=revision)
        return kvs[0] if kvs else None

    def range(self, prefix: str | None = None, *, keys_only: bool = False,
              revision: int | None = None) -> list[KeyValue]:
        """Every key under `prefix` (default: the apiserver's prefix), sorted by key."""
        p = _b(self.prefix if prefix is None else prefix)
        start = p or b"\0"  # the empty prefix: every key (etcd wants a non-empty start key)
        _, kvs = self._range(start, prefix_end(p), keys_only=keys_only, revision=revision)
        return kvs

    def revision(self) -> int:
        """etcd's current revision (the header revision of a read)."""
        rev, _ = self._range(b"\0", limit=1, keys_only=True)
        return rev

    def keys(self, prefix: str | None = None) -> list[str]:
        return [kv.key for kv in self.range(prefix, keys_only=True)]

    def dataframe(self, prefix: str | None = None):
        """The keyspace as a pandas DataFrame, one row per key."""
        import pandas as pd

        from . import keys as keymod

        rows = []
        for kv in self.range(prefix):
            try:
                k = keymod.parse(kv.key, prefix=self.prefix)
                resource, group, ns, name = k.resource, k.group, k.namespace, k.name
            except Exception:
                resource = group = ns = name = None
            try:
                enc = kv.decoded.encoding
            except Exception:
                enc = "undecodable"
            rows.append(dict(key=kv.key, resource=resource, group=group, namespace=ns, name=name,
                             encoding=enc, size=len(kv.value), create_revision=kv.create_revision,
                             mod_revision=kv.mod_revision, version=kv.version, lease=kv.lease))
        return pd.DataFrame(rows)


# ---------------------------------------------------------------- recorded history (ops)

@dataclass(frozen=True)
class Op:
    """One write to etcd as recorded: the revision it made, put or delete, and the value."""

    rev: int
    op: str  # "put" | "delete"
    key: str
    value: bytes = b""
    lease_ttl: int | None = None

    def to_json(self) -> str:
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
    def from_json(cls, line: str) -> "Op":
        d = json.loads(line)
        value = d["text"].encode() if "text" in d else base64.b64decode(d.get("b64", ""))
        return cls(int(d["rev"]), d["op"], d["key"], value, d.get("lease_ttl"))


def read_ops(path: Path) -> list[Op]:
    if not Path(path).is_file():
        raise FixtureMissing(f"recorded etcd history {path} is missing; re-record with `k8slearn record`")
    return [Op.from_json(line) for line in Path(path).read_text().splitlines() if line.strip()]


def write_ops(path: Path, ops: Iterable[Op]):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("".join(op.to_json() + "\n" for op in ops))


def txn(client, compare=(), success=(), failure=()):
    """An etcd transaction returning (succeeded, responses, header revision)."""
    from pyetcd.etcdrpc import rpc_pb2

    req = rpc_pb2.TxnRequest(compare=[c.build_message() for c in compare],
                             success=client._ops_to_requests(list(success)),
                             failure=client._ops_to_requests(list(failure)))
    resp = client.kvstub.Txn(req, client.timeout, credentials=client.call_credentials,
                             metadata=client.metadata)
    return resp.succeeded, list(resp.responses), resp.header.revision


def current_revision(client) -> int:
    from pyetcd.etcdrpc import rpc_pb2

    resp = client.kvstub.Range(rpc_pb2.RangeRequest(key=b"\0", limit=1, keys_only=True),
                               client.timeout, credentials=client.call_credentials,
                               metadata=client.metadata)
    return resp.header.revision


def apply_ops(client, ops: Iterable[Op]) -> int:
    """Write recorded ops into a (fresh) etcd so that each lands at its recorded revision.

    Gaps between recorded revisions (writes that were not recorded, such as other keys'
    history on a live cluster) are filled with writes to FILLER_KEY, outside the
    apiserver's prefix. Returns the final revision.
    """
    rev = current_revision(client)
    leases: dict[int, object] = {}
    for op in ops:
        if op.rev <= rev:
            raise FixtureMissing(f"recorded op at revision {op.rev} ({op.key}) is out of order; "
                                 "the recording is damaged: re-record it with `k8slearn record`")
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
            ok, _r, rev = txn(client, compare=[client.transactions.version(op.key.encode()) > 0],
                              success=[client.transactions.delete(op.key.encode())],
                              failure=[client.transactions.put(FILLER_KEY, str(op.rev).encode())])
        else:
            raise FixtureMissing(f"unknown op {op.op!r} at revision {op.rev} in the recording")
        if rev != op.rev:
            raise FixtureMissing(f"replaying {op.key} landed at revision {rev}, recorded {op.rev}; "
                                 "was the local etcd fresh?")
    return rev


class OpsRecorder:
    """Records every write to an etcd from a revision on, by watching the whole keyspace."""

    def __init__(self, client, start_revision: int):
        self.client = client
        self.start_revision = start_revision
        self.ops: list[Op] = []
        self.error: Exception | None = None
        self._ttl_cache: dict[int, int] = {}
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
            raise RecordingIncomplete(f"the etcd watch that records writes failed ({type(error).__name__}: {error}); "
                                      "the recording of this notebook is incomplete: record it again")
        if until >= self.start_revision and got < until:
            raise RecordingIncomplete(f"the etcd watch delivered writes up to revision {got}, not {until}, within "
                                      f"{timeout:.0f} s; the recording of this notebook is incomplete: record it again")
        return [op for op in self.ops if op.rev <= until]
