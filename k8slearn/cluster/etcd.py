"""Reading etcd as kube-apiserver left it: keys, values, revisions.

`Etcd` wraps a real etcd client (the cluster's in live mode, the local one everywhere
else). Every value it returns carries etcd's own bookkeeping: create_revision,
mod_revision (what the API calls resourceVersion), version and lease.

Replay keeps the answers honest: the local etcd holds the whole recorded history, and the
n-th read a notebook makes is served at the revision the n-th read saw when recorded
(`ReadPins`), so "before" and "after" reads show what they showed then.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8slearn.errors import K8sLearnError, NotRecorded

if TYPE_CHECKING:
    import pandas as pd

    from k8slearn.storage.codec import Decoded


# Range reads are paged, as kube-apiserver pages its lists (pagedChunks in
# k8s.io/apiserver/pkg/storage/etcd3/store.go, v0.37.2): `limit` keys per request, the next
# page starting just after the last key (last key + "\x00"), every page at the revision of
# the first, so the pages together are one consistent read. Few, large pages: etcd answers
# every Range with the count of all keys to the end of the range (v3.7.0,
# server/etcdserver/v3_server.go#L149 asks storage/mvcc/index.go#L112-L136 for the total),
# so each page walks the index over every key after it and n pages cost about n/2 walks of
# the whole range. 100,000 keys in 500-key pages took 4.9 s on this project's 2-core
# machine, in 5,000-key pages 1.8 s (benchmarks/bench_keyspace.py, docs/codec.md). A page
# whose values pass PAGE_BYTES halves the next page's key count, and the client's receive
# limit (GRPC_OPTIONS) leaves room above that, so memory stays bounded whatever the size.
PAGE_KEYS = 5000
PAGE_BYTES = 16 * 1024 * 1024  # a page larger than this halves the next page's key count
# gRPC's default receive limit is 4 MiB; etcd's server sends up to math.MaxInt32 bytes.
GRPC_OPTIONS = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]


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
    def decoded(self) -> Decoded:
        """The value decoded by k8slearn's codec (`codec.Decoded`)."""
        from k8slearn.storage import codec

        return codec.decode(self.value)

    @property
    def obj(self) -> Any:
        """The decoded object (``decoded.obj``)."""
        return self.decoded.obj


@dataclass
class ReadPins:
    """Revisions of the reads a notebook made, in order: written in record, used in replay."""

    mode: str = "off"  # "off" | "record" | "replay"
    revisions: list[int] = field(default_factory=list)
    _next: int = 0

    def revision_for_read(self) -> int | None:
        """In replay, the revision the next read is pinned to (NotRecorded past the last); else None."""
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

    def saw(self, revision: int) -> None:
        """In record mode, note the revision a read was answered at."""
        if self.mode == "record":
            self.revisions.append(int(revision))


class Etcd:
    """Read access to an etcd keyspace, with values decoded on demand."""

    def __init__(self, client, *, prefix: str = "/registry", pins: ReadPins | None = None, label: str = "etcd"):
        self.client = client
        self.prefix = prefix
        self.pins = pins or ReadPins()
        self.label = label
        self._lock = threading.Lock()

    def __repr__(self):
        return f"<k8slearn.Etcd {self.label} prefix={self.prefix!r}>"

    def _range(
        self, key: bytes, range_end: bytes | None = None, *, keys_only=False, limit=0, revision: int | None = None
    ):
        with self._lock:
            pinned = self.pins.revision_for_read()
            # through the library's own call, so failures arrive as its typed exceptions
            # (pyetcd.exceptions: RevisionCompactedError, ConnectionFailedError, ...)
            resp = self.client.get_response(
                key,
                range_end=range_end,
                keys_only=keys_only,
                limit=limit or None,
                revision=revision or pinned or None,
                sort_order="ascend",
                sort_target="key",
            )
            self.pins.saw(resp.header.revision)
        kvs = [
            KeyValue(
                kv.key.decode("utf-8", "replace"), kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease
            )
            for kv in resp.kvs
        ]
        return (pinned or resp.header.revision) if not revision else revision, kvs

    def _page(self, start: bytes, end: bytes, keys_only: bool, limit: int, revision: int | None):
        """One page: (response, limit used). A page over gRPC's receive limit is asked
        again with half the keys (RESOURCE_EXHAUSTED), down to one key."""
        import grpc

        while True:
            try:
                resp = self.client.get_response(
                    start, range_end=end, keys_only=keys_only, limit=limit, revision=revision or None
                )
                return resp, limit
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                    raise
                if limit <= 1:
                    raise K8sLearnError(
                        f"the etcd value at {start.decode('utf-8', 'replace')!r} is larger than the gRPC "
                        "client's receive limit"
                    ) from None
                limit = max(1, limit // 2)

    def _pages(self, prefix: str | None, keys_only: bool, revision: int | None, page_keys: int) -> Iterator[list]:
        """etcd's own KeyValue messages under `prefix`, page by page (see iter_range)."""
        p = _b(self.prefix if prefix is None else prefix)
        key = p or b"\0"  # the empty prefix: every key (etcd wants a non-empty start key)
        end = prefix_end(p)
        with self._lock:
            pinned = self.pins.revision_for_read()
            resp, limit = self._page(key, end, keys_only, page_keys, revision or pinned)
            self.pins.saw(resp.header.revision)
        at = revision or pinned or resp.header.revision
        while True:
            yield resp.kvs
            if not resp.more or not resp.kvs:
                return
            size = sum(len(kv.value) for kv in resp.kvs)
            key = resp.kvs[-1].key + b"\0"
            if size > PAGE_BYTES and limit > 1:
                limit //= 2
            elif size < PAGE_BYTES // 4 and limit < page_keys:
                limit = min(page_keys, limit * 2)
            resp, limit = self._page(key, end, keys_only, limit, at)

    def iter_range(
        self,
        prefix: str | None = None,
        *,
        keys_only: bool = False,
        revision: int | None = None,
        page_keys: int = PAGE_KEYS,
    ) -> Iterator[KeyValue]:
        """Every key under `prefix` (default: the apiserver's prefix) in key order, read page
        by page at one revision (see PAGE_KEYS); one read as far as replay pins go."""
        for kvs in self._pages(prefix, keys_only, revision, page_keys):
            for kv in kvs:
                yield KeyValue(
                    kv.key.decode("utf-8", "replace"),
                    kv.value,
                    kv.create_revision,
                    kv.mod_revision,
                    kv.version,
                    kv.lease,
                )

    def get(self, key: str, *, revision: int | None = None) -> KeyValue | None:
        """The key's current value (or at `revision`), None when absent."""
        _, kvs = self._range(_b(key), revision=revision)
        return kvs[0] if kvs else None

    def range(
        self, prefix: str | None = None, *, keys_only: bool = False, revision: int | None = None
    ) -> list[KeyValue]:
        """Every key under `prefix` (default: the apiserver's prefix), sorted by key (read
        in pages, see :meth:`iter_range`)."""
        return list(self.iter_range(prefix, keys_only=keys_only, revision=revision))

    def revision(self) -> int:
        """etcd's current revision (the header revision of a read)."""
        rev, _ = self._range(b"\0", limit=1, keys_only=True)
        return rev

    def keys(self, prefix: str | None = None) -> list[str]:
        """The keys under ``prefix`` (default: the apiserver's prefix), sorted."""
        return [kv.key for kv in self.range(prefix, keys_only=True)]

    def dataframe(self, prefix: str | None = None) -> pd.DataFrame:
        """The keyspace as a pandas DataFrame, one row per key.

        Read page by page; only the columns are kept, not the values, so memory beyond the
        DataFrame stays bounded. ``encoding`` comes from the value's prefix and, for protobuf,
        its envelope (``codec.detect.encoding_of``): objects are not decoded here (``kv.decoded``
        does that on demand)."""
        import pandas as pd

        from k8slearn.storage import keys as keymod
        from k8slearn.storage.codec.detect import encoding_of

        names = [
            "key",
            "resource",
            "group",
            "namespace",
            "name",
            "encoding",
            "size",
            "create_revision",
            "mod_revision",
            "version",
            "lease",
        ]
        cols: dict[str, list] = {n: [] for n in names}
        resource: str | None
        group: str | None
        ns: str | None
        name: str | None
        appends = [cols[n].append for n in names]
        parse = keymod.parse
        for kvs in self._pages(prefix, False, None, PAGE_KEYS):
            for kv in kvs:
                key = kv.key.decode("utf-8", "replace")
                value = kv.value
                try:
                    k = parse(key, prefix=self.prefix)
                    resource, group, ns, name = k.resource, k.group, k.namespace, k.name
                except Exception:
                    resource = group = ns = name = None
                row = (key, resource, group, ns, name, encoding_of(value), len(value))
                row2 = (kv.create_revision, kv.mod_revision, kv.version, kv.lease)
                for append, v in zip(appends, row + row2):
                    append(v)
        return pd.DataFrame(cols, columns=names)


def txn(
    client: Any, compare: Iterable[Any] = (), success: Iterable[Any] = (), failure: Iterable[Any] = ()
) -> tuple[bool, list[Any], int]:
    """An etcd transaction returning (succeeded, responses, header revision).

    pyetcd's own `transaction()` does not return the header revision, which replay needs, so
    this sends etcd's TxnRequest through the library's stub.
    """
    from pyetcd.etcdrpc import rpc_pb2

    req = rpc_pb2.TxnRequest(
        compare=[c.build_message() for c in compare],
        success=client._ops_to_requests(list(success)),
        failure=client._ops_to_requests(list(failure)),
    )
    resp = client.kvstub.Txn(req, client.timeout, credentials=client.call_credentials, metadata=client.metadata)
    return resp.succeeded, list(resp.responses), resp.header.revision


def current_revision(client: Any) -> int:
    """etcd's current revision: the header revision of the smallest read."""
    return client.get_response(b"\0", limit=1, keys_only=True).header.revision


def save_snapshot(client: Any, path: str | Path, timeout: float = 600) -> Path:
    """Stream etcd's Maintenance/Snapshot into `path` (what `etcdctl snapshot save` does): the
    bbolt database followed by its SHA-256. Written to a side file and renamed when complete."""
    from pyetcd.etcdrpc import rpc_pb2

    path = Path(path)
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") as f:
            stream = client.maintenancestub.Snapshot(
                rpc_pb2.SnapshotRequest(), timeout, credentials=client.call_credentials, metadata=client.metadata
            )
            for resp in stream:
                f.write(resp.blob)
        part.replace(path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path
