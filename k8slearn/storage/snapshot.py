"""An etcd snapshot file, read in pure Python: every revision of every key it still holds.

    >>> from k8slearn.storage.snapshot import Snapshot
    >>> with Snapshot("etcd.db") as snap:
    ...     snap.revision, snap.compacted
    ...     snap.keys(prefix="/registry/deployments/", revision=1200)
    ...     [v.mod_revision for v in snap.history("/registry/leases/kube-node-lease/kwok-node-0")]

The format, as etcd v3.7.0 writes it (read in go.etcd.io/etcd, not copied):

- `etcdctl snapshot save` (and the Maintenance/Snapshot RPC it calls) streams the bbolt
  database (`k8slearn.storage.bbolt`) followed by its SHA-256, 32 bytes; a file whose size
  modulo 512 is 32 has that trailer (server/etcdserver/api/v3rpc/maintenance.go `Snapshot`;
  etcdutl/snapshot/v3_snapshot.go `hasChecksum`, `copyAndVerifyDB`);
- bucket `key` holds one entry per change: the key is the revision, 8-byte big-endian main
  revision, `_`, 8-byte big-endian sub revision, and a trailing `t` when the change deleted
  the key; the value is an `mvccpb.KeyValue` protobuf (key, create_revision, mod_revision,
  version, value, lease), and a deletion stores only the key
  (server/storage/mvcc/revision.go `BucketKeyToBytes`; kvstore_txn.go `delete`);
- bucket `meta` holds the consistent index and term (8-byte big-endian), and
  `scheduledCompactRev` / `finishedCompactRev` as revision bytes
  (server/storage/schema/bucket.go, cindex.go; server/storage/mvcc/store.go);
- on restore etcd takes `finishedCompactRev` as the compacted revision and the newest
  revision in `key` (or `scheduledCompactRev`, if higher) as the current one
  (server/storage/mvcc/kvstore.go `restore`); a read below the compacted revision fails.

A compaction at revision C keeps, of each key's changes at or below C, only the newest, and
drops that one too when it is a deletion; every change above C stays
(server/storage/mvcc/key_index.go `compact`, `doCompact`; kvstore_compaction.go).
`compaction_drops` computes exactly that; the tests check it against a real etcd's compaction.

Nothing is loaded whole: the bbolt file is memory-mapped, one pass over `key` builds an
index of where each change lies, and values are read (and decoded) when asked for.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import struct
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8slearn.errors import K8sLearnError
from k8slearn.storage.bbolt import BoltError, BoltFile

if TYPE_CHECKING:
    from k8slearn.storage.codec import Decoded

SHA_SIZE = 32
REV = struct.Struct(">QcQ")  # main, "_", sub


class SnapshotError(K8sLearnError):
    """The snapshot cannot be read, or cannot answer what was asked."""


class ChecksumMismatch(SnapshotError):
    """The snapshot's SHA-256 trailer does not match its contents."""


def has_checksum(size: int) -> bool:
    """etcd's rule: a snapshot file whose size modulo 512 is 32 ends with a SHA-256 of the rest."""
    return size % 512 == SHA_SIZE


def parse_revision(raw: bytes) -> tuple[int, int, bool]:
    """(main, sub, deleted) from a `key` bucket key (17 bytes, 18 with the `t` of a deletion)."""
    if len(raw) not in (17, 18) or raw[8:9] != b"_" or (len(raw) == 18 and raw[17:] != b"t"):
        raise SnapshotError(f"the key bucket holds a key that is not a revision: {raw!r}")
    main, _, sub = REV.unpack_from(raw)
    return main, sub, len(raw) == 18


def revision_bytes(main: int, sub: int = 0, deleted: bool = False) -> bytes:
    """The `key` bucket key of a revision (the inverse of `parse_revision`)."""
    return REV.pack(main, b"_", sub) + (b"t" if deleted else b"")


def _varint(buf: memoryview | bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise SnapshotError("a stored KeyValue ends inside a varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise SnapshotError("a stored KeyValue has a varint longer than 10 bytes")


def _key_of(value: memoryview) -> bytes:
    """The `key` field of a stored KeyValue without parsing the rest (etcd writes it first)."""
    if len(value) and value[0] == 0x0A:
        n, i = _varint(value, 1)
        if i + n <= len(value):
            return bytes(value[i : i + n])
    return bytes(_kv_message(bytes(value)).key)


def _kv_message(raw: bytes) -> Any:
    from google.protobuf.message import DecodeError
    from pyetcd.etcdrpc import kv_pb2  # etcd's mvccpb.KeyValue, compiled by etcd-sdk-python

    try:
        return kv_pb2.KeyValue.FromString(raw)
    except DecodeError as e:
        raise SnapshotError(f"a value in the key bucket is not an etcd KeyValue message: {e}") from None


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the key bucket: a put or a deletion of `key` at revision (main, sub)."""

    main: int
    sub: int
    deleted: bool
    key: bytes
    size: int  # bytes of the stored KeyValue message
    offset: int  # where that message lies in the file

    @property
    def revision(self) -> int:
        return self.main


@dataclass(frozen=True)
class StoredValue:
    """A key's value at one revision as the snapshot holds it (field names as etcd's KeyValue)."""

    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int = 0
    deleted: bool = False
    sub_revision: int = 0

    @cached_property
    def decoded(self) -> Decoded:
        """The value decoded by k8slearn's codec."""
        from k8slearn.storage import codec

        return codec.decode(self.value)

    @property
    def obj(self) -> Any:
        """The decoded object (``decoded.obj``); None for a deletion."""
        return None if self.deleted else self.decoded.obj

    def to_dict(self, *, value: bool = False) -> dict:
        """JSON-able: the bookkeeping (and the raw value as text or base64 when `value`)."""
        d: dict[str, Any] = {
            "key": self.key,
            "mod_revision": self.mod_revision,
            "sub_revision": self.sub_revision,
            "create_revision": self.create_revision,
            "version": self.version,
            "lease": self.lease,
            "size": len(self.value),
            "deleted": self.deleted,
        }
        if value:
            import base64

            d["value_base64"] = base64.b64encode(self.value).decode()
        return d


def _text(key: str | bytes) -> bytes:
    return key if isinstance(key, bytes) else key.encode()


class Snapshot:
    """An etcd snapshot (or a member's `member/snap/db`) opened read-only; see the module docstring.

    `verify=True` (the default) checks the SHA-256 trailer when the file has one; a file without
    one (a copied `db`) opens too, with `checksum` None.
    """

    def __init__(self, path: str | os.PathLike, *, verify: bool = True):
        self.path = Path(path)
        if not self.path.is_file():
            raise SnapshotError(f"no snapshot file at {self.path}", hint="`k8slearn snapshot` reads a file")
        size = self.path.stat().st_size
        self.file_size = size
        self.checksum: str | None = None
        db_size = size - SHA_SIZE if has_checksum(size) else size
        try:
            self.db = BoltFile(self.path, db_size)
        except BoltError as e:
            raise SnapshotError(str(e), hint=e.hint) from None
        try:
            if has_checksum(size):
                self.checksum = self._trailer(db_size)
                if verify:
                    self.verify()
            key = self.db.bucket(b"key")
            if key is None:
                raise SnapshotError(
                    f"{self.path} is a bbolt database without etcd's `key` bucket: not an etcd snapshot",
                    hint="take one with `etcdctl snapshot save FILE`",
                )
            self._key = key
        except BaseException:
            self.db.close()
            raise

    def _trailer(self, db_size: int) -> str:
        with open(self.path, "rb") as f:
            f.seek(db_size)
            return f.read(SHA_SIZE).hex()

    def verify(self) -> None:
        """Check the SHA-256 trailer against the contents; ChecksumMismatch when they differ."""
        if self.checksum is None:
            return
        h = hashlib.sha256()
        step = 1 << 22
        buf = self.db.buf
        for i in range(0, len(buf), step):
            h.update(buf[i : i + step])
        if h.hexdigest() != self.checksum:
            raise ChecksumMismatch(
                f"{self.path}: the SHA-256 of its contents is {h.hexdigest()[:16]}…, its trailer says "
                f"{self.checksum[:16]}…: the file was changed or damaged after etcd wrote it",
                hint="take or copy the snapshot again (or pass verify=False / --no-verify to read it anyway)",
            )

    def __repr__(self) -> str:
        return f"<k8slearn Snapshot {self.path.name} revision={self.revision} compacted={self.compacted}>"

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -------------------------------------------------------------- meta bucket
    @cached_property
    def meta(self) -> dict[str, Any]:
        """The `meta` bucket, decoded: consistent_index, term, scheduled and finished compaction, ..."""
        out: dict[str, Any] = {}
        b = self.db.bucket(b"meta")
        if b is None:
            return out
        for e in b.items():
            name, v = e.key.decode(errors="replace"), bytes(e.value)
            if name in ("consistent_index", "term") and len(v) == 8:
                out[name] = struct.unpack(">Q", v)[0]
            elif name in ("scheduledCompactRev", "finishedCompactRev") and len(v) in (17, 18):
                out[name] = parse_revision(v)[0]
            else:
                out[name] = v.decode(errors="replace")
        return out

    def buckets(self) -> dict[str, int]:
        """Every top-level bucket and how many entries it holds."""
        root = self.db.root()
        out = {}
        for name in root.buckets():
            b = root.bucket(name)
            out[name.decode(errors="replace")] = sum(1 for _ in b.items()) if b else 0
        return out

    # -------------------------------------------------------------- the key bucket
    def changes(self) -> Iterator[Change]:
        """Every entry of the key bucket in revision order, streamed (values not read)."""
        buf = self.db.buf
        unpack = REV.unpack_from
        for raw, off, size, _bucket in self._key.scan():
            n = len(raw)
            if n == 17 and raw[8] == 0x5F:
                main, _, sub = unpack(raw)
                deleted = False
            else:
                main, sub, deleted = parse_revision(raw)
            # the etcd key is the KeyValue's first field (tag 0x0a, a one- or two-byte length)
            if size > 3 and buf[off] == 0x0A and buf[off + 1] < 0x80 and off + 2 + buf[off + 1] <= off + size:
                key = bytes(buf[off + 2 : off + 2 + buf[off + 1]])
            else:
                key = _key_of(buf[off : off + size])
            yield Change(main, sub, deleted, key, size, off)

    @cached_property
    def _index(self) -> dict[bytes, list[Change]]:
        idx: dict[bytes, list[Change]] = defaultdict(list)
        for c in self.changes():
            idx[c.key].append(c)
        return dict(idx)

    @cached_property
    def _newest(self) -> int:
        last = 0
        for lst in self._index.values():
            last = max(last, lst[-1].main)
        return last

    @property
    def compacted(self) -> int:
        """The revision etcd was compacted at (0 when never): reads below it are refused."""
        return int(self.meta.get("finishedCompactRev", 0))

    @property
    def revision(self) -> int:
        """The snapshot's current revision, as etcd would restore it."""
        return max(self._newest, int(self.meta.get("scheduledCompactRev", 0)))

    @property
    def oldest(self) -> int:
        """The oldest revision a read may ask for (the compacted one, or 1)."""
        return max(self.compacted, 1)

    def _check_revision(self, revision: int | None) -> int:
        if revision is None or revision <= 0:
            return self.revision
        if revision < self.compacted:
            raise SnapshotError(
                f"revision {revision} is compacted: this snapshot keeps revisions {self.compacted}..{self.revision}",
                hint=f"ask for a revision from {self.compacted} on",
            )
        if revision > self.revision:
            raise SnapshotError(
                f"revision {revision} is newer than the snapshot (its revision is {self.revision})",
                hint=f"ask for a revision up to {self.revision}",
            )
        return revision

    def _read(self, change: Change) -> StoredValue:
        raw = self._value_bytes(change)
        if change.deleted:
            return StoredValue(change.key.decode(errors="replace"), b"", 0, change.main, 0, 0, True, change.sub)
        m = _kv_message(raw)
        return StoredValue(
            m.key.decode(errors="replace"),
            m.value,
            m.create_revision,
            m.mod_revision,
            m.version,
            m.lease,
            False,
            change.sub,
        )

    def _value_bytes(self, change: Change) -> bytes:
        return self.db.value_at(change.offset, change.size)

    def _at(self, changes: list[Change], revision: int) -> Change | None:
        mains = [c.main for c in changes]
        i = bisect.bisect_right(mains, revision)
        return changes[i - 1] if i else None

    def key_names(self, prefix: str | bytes = b"") -> list[bytes]:
        """Every key that has at least one change in the file, sorted (live or not)."""
        p = _text(prefix)
        return sorted(k for k in self._index if k.startswith(p))

    def keys(self, revision: int | None = None, prefix: str | bytes = b"") -> list[StoredValue]:
        """The keys live at `revision` (default: the latest) under `prefix`, sorted, with their values:
        what etcd's Range(prefix, revision) answers."""
        rev = self._check_revision(revision)
        out = []
        for k in self.key_names(prefix):
            c = self._at(self._index[k], rev)
            if c is not None and not c.deleted:
                out.append(self._read(c))
        return out

    def get(self, key: str | bytes, revision: int | None = None) -> StoredValue | None:
        """The key's value at `revision` (default: the latest), None when it did not exist then."""
        rev = self._check_revision(revision)
        changes = self._index.get(_text(key))
        c = self._at(changes, rev) if changes else None
        return None if c is None or c.deleted else self._read(c)

    def history(self, key: str | bytes) -> list[StoredValue]:
        """Every change of `key` still in the file, oldest first (deletions with `deleted=True`)."""
        return [self._read(c) for c in self._index.get(_text(key), [])]

    # -------------------------------------------------------------- analysis
    def compaction_drops(self, at: int | None = None) -> list[Change]:
        """The entries a compaction at revision `at` (default: the current one) would delete."""
        at = self.revision if at is None else at
        drops: list[Change] = []
        for changes in self._index.values():
            upto = [c for c in changes if c.main <= at]
            if not upto:
                continue
            keep = upto[-1]
            drops.extend(upto[:-1])
            if keep.deleted:
                drops.append(keep)
        return sorted(drops, key=lambda c: (c.main, c.sub))

    def analyze(self, prefix: str = "/registry", compact_at: int | None = None, top: int = 10) -> dict[str, Any]:
        """Objects and bytes per resource, the largest objects, and what a compaction would drop."""
        from k8slearn.storage import keys as keymod

        def resource_of(k: bytes) -> str:
            text = k.decode(errors="replace")
            try:
                parsed = keymod.parse(text, prefix=prefix)
            except K8sLearnError:
                return "(other)"
            if parsed.special == "outside-prefix":
                return "(outside " + prefix + ")"
            if parsed.special in ("compact_rev_key",):
                return parsed.special
            return (parsed.resource + ("." + parsed.group if parsed.group else "")) or "(other)"

        compact_at = self.revision if compact_at is None else compact_at
        dropped = {(c.main, c.sub) for c in self.compaction_drops(compact_at)}
        per: dict[str, dict[str, int]] = defaultdict(
            lambda: dict(objects=0, live_bytes=0, revisions=0, history_bytes=0, drop_revisions=0, drop_bytes=0)
        )
        largest: list[tuple[int, str, int]] = []
        total = 0
        for k, changes in self._index.items():
            r = per[resource_of(k)]
            for c in changes:
                total += 1
                r["revisions"] += 1
                r["history_bytes"] += c.size
                if (c.main, c.sub) in dropped:
                    r["drop_revisions"] += 1
                    r["drop_bytes"] += c.size
            last = changes[-1]
            if not last.deleted:
                r["objects"] += 1
                r["live_bytes"] += last.size
                largest.append((last.size, k.decode(errors="replace"), last.main))
        largest.sort(reverse=True)
        return {
            "file": self.path.name,
            "file_bytes": self.file_size,
            "revision": self.revision,
            "compacted": self.compacted,
            "entries": total,
            "keys": len(self._index),
            "meta": self.meta,
            "resources": dict(sorted(per.items(), key=lambda kv: -kv[1]["revisions"])),
            "largest": [{"key": k, "bytes": s, "mod_revision": m} for s, k, m in largest[:top]],
            "compaction": {
                "at": compact_at,
                "drop_revisions": len(dropped),
                "drop_bytes": sum(r["drop_bytes"] for r in per.values()),
                "keep_revisions": total - len(dropped),
            },
        }

    def timeline(self, prefix: str = "/registry") -> list[tuple[int, str, bool]]:
        """(revision, resource, deleted) of every change in revision order: who writes when."""
        from k8slearn.storage import keys as keymod

        out: list[tuple[int, str, bool]] = []
        cache: dict[bytes, str] = {}
        for k, changes in self._index.items():
            if k not in cache:
                try:
                    p = keymod.parse(k.decode(errors="replace"), prefix=prefix)
                    cache[k] = p.resource or p.special or "(other)"
                except K8sLearnError:
                    cache[k] = "(other)"
            out.extend((c.main, cache[k], c.deleted) for c in changes)
        return sorted(out)
