"""A read-only reader of bbolt database files (the file format etcd keeps its data in).

Written from the format as go.etcd.io/bbolt v1.5.0 defines it (read there, not copied):

- the file is a sequence of pages of `page_size` bytes; every page starts with a 16-byte
  header: page id (uint64), flags (uint16), count (uint16), overflow (uint32), little-endian
  on the machines etcd runs on (internal/common/page.go: `Page`, `PageHeaderSize`);
  flags 0x01 branch, 0x02 leaf, 0x04 meta, 0x10 freelist; a page with overflow n spans n+1
  pages;
- pages 0 and 1 are meta pages: magic 0xED0CDAED, version 2, page size, flags, the root
  bucket (root page id, sequence), the freelist page id, the high-water page id, the
  transaction id, and an FNV-1a 64 checksum of the bytes before it; the valid one with the
  higher transaction id wins (internal/common/meta.go: `Meta`, `Validate`, `Sum64`;
  db.go: `meta()`);
- a branch page holds `count` 16-byte elements (pos uint32, ksize uint32, child page id
  uint64), a leaf page `count` 16-byte elements (flags uint32, pos uint32, ksize uint32,
  vsize uint32); `pos` counts from the element's own start (page.go: `branchPageElement`,
  `leafPageElement`);
- a leaf element with flag 0x01 is a nested bucket: its value is the bucket header (root page
  id uint64, sequence uint64), and a root of 0 means an inline bucket whose leaf page follows
  the header in the value itself (internal/common/bucket.go: `InBucket`, `BucketHeaderSize`);
- a freelist page lists free page ids; a count of 0xFFFF means the real count is the first
  uint64 (page.go: `FreelistPageIds`).

The file is memory-mapped; nothing is loaded whole. Values come back as memoryviews of the
map, which is why a `BoltFile` must be closed (or used as a context manager) when done.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from k8slearn.errors import K8sLearnError

MAGIC = 0xED0CDAED
VERSION = 2
PAGE_HEADER = struct.Struct("<QHHI")  # id, flags, count, overflow
META = struct.Struct("<IIIIQQQQQQ")  # magic, version, page size, flags, root, sequence, freelist, pgid, txid, checksum
ELEMENT = struct.Struct("<IIII")  # leaf: flags, pos, ksize, vsize
BRANCH_ELEMENT = struct.Struct("<IIQ")  # branch: pos, ksize, pgid
BUCKET_HEADER = struct.Struct("<QQ")  # root, sequence
BRANCH, LEAF, META_PAGE, FREELIST = 0x01, 0x02, 0x04, 0x10
BUCKET_LEAF_FLAG = 0x01
NO_FREELIST = 0xFFFFFFFFFFFFFFFF


class BoltError(K8sLearnError):
    """The file is not a bbolt database, or it is truncated or corrupt."""


def fnv1a64(data: bytes | memoryview) -> int:
    """The 64-bit FNV-1a hash (Go's hash/fnv New64a), which bbolt's meta pages carry."""
    h = 0xCBF29CE484222325
    for b in bytes(data):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


@dataclass(frozen=True)
class Meta:
    """One of the two meta pages."""

    page: int
    page_size: int
    flags: int
    root: int
    freelist: int
    high_water: int  # the first page id past the end of the data ("pgid")
    txid: int


@dataclass(frozen=True)
class Entry:
    """One key-value of a bucket: where its value lies in the file, and whether it is a bucket."""

    key: bytes
    value: memoryview
    bucket: bool
    page: int  # the leaf page it is on
    value_offset: int  # absolute offset of the value in the file


class Bucket:
    """A bucket: its root page in the file, or an inline leaf page inside its parent's value."""

    def __init__(self, db: BoltFile, root: int, inline: memoryview | None, name: bytes = b"", inline_at: int = -1):
        self.db, self.root, self.inline, self.name, self.inline_at = db, root, inline, name, inline_at

    def __repr__(self) -> str:
        where = "inline" if self.inline is not None else f"root page {self.root}"
        return f"<bbolt bucket {self.name!r} {where}>"

    def items(self) -> Iterator[Entry]:
        """Every key-value in key order (nested buckets too, with `bucket=True`), streamed."""
        if self.inline is not None:
            yield from self.db._leaf_items(self.inline, self.inline_at, -1)
        else:
            yield from self.db._walk(self.root, depth=0)

    def scan(self) -> Iterator[tuple[bytes, int, int, bool]]:
        """Every entry as a (key, value offset in the file, value size, is a bucket) tuple, in key
        order: the fast path of `items()` for large buckets (no object per entry, no recursion)."""
        if self.inline is not None:
            for e in self.items():
                yield e.key, e.value_offset, len(e.value), e.bucket
            return
        db = self.db
        buf, unpack, esize, hsize = db.buf, ELEMENT.unpack_from, ELEMENT.size, PAGE_HEADER.size
        for pgid in db._leaf_pages(self.root):
            off, flags, count, overflow = db.page(pgid)
            if flags != LEAF:
                raise BoltError(f"{db.path} is corrupt: page {pgid} should be a leaf page, its flags are {flags:#x}")
            end = off + (overflow + 1) * db.page_size
            for i in range(count):
                at = off + hsize + i * esize
                eflags, pos, ksize, vsize = unpack(buf, at)
                k0 = at + pos
                v0 = k0 + ksize
                if v0 + vsize > end:
                    raise BoltError(f"{db.path} is corrupt: element {i} of page {pgid} runs past its page")
                yield bytes(buf[k0:v0]), v0, vsize, bool(eflags & BUCKET_LEAF_FLAG)

    def bucket(self, name: bytes) -> Bucket | None:
        """The nested bucket called `name`, or None."""
        for e in self.items():
            if e.key == name and e.bucket:
                return self.db._bucket_from_value(e, name)
        return None

    def buckets(self) -> list[bytes]:
        """The names of the nested buckets."""
        return [e.key for e in self.items() if e.bucket]

    def pages(self) -> Iterator[tuple[int, int, int]]:
        """(page id, flags, overflow) of each page heading this bucket's tree, nested buckets too;
        a page with overflow n also occupies the n pages after it."""
        if self.inline is not None:
            for e in self.items():
                if e.bucket:
                    yield from self.db._bucket_from_value(e, e.key).pages()
            return
        yield from self.db._tree_pages(self.root, 0)


class BoltFile:
    """A bbolt file opened read-only and memory-mapped. `size` limits it (e.g. to drop a trailer)."""

    MAX_DEPTH = 64

    def __init__(self, path: str | os.PathLike, size: int | None = None):
        self.path = Path(path)
        try:
            self._fd = os.open(self.path, os.O_RDONLY)
        except OSError as e:
            raise BoltError(f"cannot open {self.path}: {e.strerror}", hint="check the file name") from None
        self._mm: mmap.mmap | None = None
        try:
            full = os.fstat(self._fd).st_size
            self.size = full if size is None else size
            if self.size < 2 * 512:
                raise BoltError(
                    f"{self.path} is {self.size} bytes: too small to be a bbolt database (two meta pages)",
                    hint="is it an etcd snapshot? `etcdctl snapshot save FILE` writes one",
                )
            self._mm = mmap.mmap(self._fd, full, access=mmap.ACCESS_READ)
            self.buf = memoryview(self._mm)[: self.size]
            self.meta = self._choose_meta()
            self.page_size = self.meta.page_size
            if self.meta.high_water * self.page_size > self.size:
                raise BoltError(
                    f"{self.path} is truncated: its meta page says it holds {self.meta.high_water} pages of "
                    f"{self.page_size} bytes ({self.meta.high_water * self.page_size} bytes), the file has {self.size}",
                    hint="copy or download the snapshot again",
                )
        except BaseException:
            self.close()
            raise

    # -------------------------------------------------------------- meta
    def _read_meta(self, offset: int, page: int) -> Meta | None:
        if offset + PAGE_HEADER.size + META.size > self.size:
            return None
        _pid, flags, _c, _o = PAGE_HEADER.unpack_from(self.buf, offset)
        start = offset + PAGE_HEADER.size
        magic, version, psize, mflags, root, _seq, freelist, pgid, txid, checksum = META.unpack_from(self.buf, start)
        if flags != META_PAGE or magic != MAGIC or version != VERSION:
            return None
        if checksum != fnv1a64(self.buf[start : start + META.size - 8]):
            return None
        return Meta(page, psize, mflags, root, freelist, pgid, txid)

    def _choose_meta(self) -> Meta:
        m0 = self._read_meta(0, 0)
        if m0 is not None:
            psize = m0.page_size
        else:  # bbolt, too, falls back to probing for page 1 when page 0 is damaged
            psize = next((p for p in (4096, 8192, 16384, 65536, 1024, 2048) if self._read_meta(p, 1) is not None), 0)
        m1 = self._read_meta(psize, 1) if psize else None
        valid = [m for m in (m0, m1) if m is not None]
        if not valid:
            head = bytes(self.buf[16:20])
            what = "not a bbolt database (no meta page with bbolt's magic number)"
            if struct.unpack("<I", head)[0] == MAGIC:
                what = "a bbolt database whose meta pages both fail their checksum (corrupt)"
            raise BoltError(f"{self.path} is {what}", hint="is it an etcd snapshot (`etcdctl snapshot save`)?")
        return max(valid, key=lambda m: m.txid)

    # -------------------------------------------------------------- pages
    def page(self, pgid: int) -> tuple[int, int, int, int]:
        """(offset, flags, count, overflow) of page `pgid`, checked against the file's bounds."""
        if pgid < 2 or pgid >= self.meta.high_water:
            raise BoltError(
                f"{self.path} is corrupt: a reference to page {pgid}, outside its pages 2..{self.meta.high_water - 1}"
            )
        off = pgid * self.page_size
        pid, flags, count, overflow = PAGE_HEADER.unpack_from(self.buf, off)
        if pid != pgid:
            raise BoltError(f"{self.path} is corrupt: page {pgid} says it is page {pid}")
        if off + (overflow + 1) * self.page_size > self.size:
            raise BoltError(f"{self.path} is truncated: page {pgid} runs past the end of the file")
        return off, flags, count, overflow

    def _page_bytes(self, pgid: int) -> tuple[memoryview, int, int]:
        off, flags, count, overflow = self.page(pgid)
        return self.buf[off : off + (overflow + 1) * self.page_size], flags, off

    def _leaf_items(self, page: memoryview, base: int, pgid: int) -> Iterator[Entry]:
        _pid, flags, count, _o = PAGE_HEADER.unpack_from(page, 0)
        if flags != LEAF:
            raise BoltError(f"{self.path} is corrupt: page {pgid} should be a leaf page, its flags are {flags:#x}")
        n = len(page)
        for i in range(count):
            at = PAGE_HEADER.size + i * ELEMENT.size
            eflags, pos, ksize, vsize = ELEMENT.unpack_from(page, at)
            k0 = at + pos
            v0 = k0 + ksize
            if v0 + vsize > n:
                raise BoltError(f"{self.path} is corrupt: element {i} of page {pgid} runs past its page")
            yield Entry(
                bytes(page[k0:v0]),
                page[v0 : v0 + vsize],
                bool(eflags & BUCKET_LEAF_FLAG),
                pgid,
                base + v0,
            )

    def _branch_children(self, page: memoryview, count: int) -> list[int]:
        return [BRANCH_ELEMENT.unpack_from(page, PAGE_HEADER.size + i * 16)[2] for i in range(count)]

    def _leaf_pages(self, root: int) -> list[int]:
        """The leaf pages of the tree under `root`, in key order (only branch pages are read)."""
        out: list[int] = []
        stack = [(root, 0)]
        while stack:
            pgid, depth = stack.pop()
            if depth > self.MAX_DEPTH:
                raise BoltError(f"{self.path} is corrupt: its B+tree is deeper than {self.MAX_DEPTH} (a loop?)")
            off, flags, count, _overflow = self.page(pgid)
            if flags == LEAF:
                out.append(pgid)
            elif flags == BRANCH:
                children = [
                    BRANCH_ELEMENT.unpack_from(self.buf, off + PAGE_HEADER.size + i * 16)[2] for i in range(count)
                ]
                stack.extend((c, depth + 1) for c in reversed(children))
            else:
                raise BoltError(f"{self.path} is corrupt: page {pgid} in a bucket's tree has flags {flags:#x}")
        return out

    def _walk(self, pgid: int, depth: int) -> Iterator[Entry]:
        if depth > self.MAX_DEPTH:
            raise BoltError(f"{self.path} is corrupt: its B+tree is deeper than {self.MAX_DEPTH} (a loop?)")
        page, flags, off = self._page_bytes(pgid)
        if flags == LEAF:
            yield from self._leaf_items(page, off, pgid)
        elif flags == BRANCH:
            count = PAGE_HEADER.unpack_from(page, 0)[2]
            for child in self._branch_children(page, count):
                yield from self._walk(child, depth + 1)
        else:
            raise BoltError(f"{self.path} is corrupt: page {pgid} in a bucket's tree has flags {flags:#x}")

    def _tree_pages(self, pgid: int, depth: int) -> Iterator[tuple[int, int, int]]:
        if depth > self.MAX_DEPTH:
            raise BoltError(f"{self.path} is corrupt: its B+tree is deeper than {self.MAX_DEPTH} (a loop?)")
        page, flags, off = self._page_bytes(pgid)
        _pid, _f, count, overflow = PAGE_HEADER.unpack_from(page, 0)
        yield pgid, flags, overflow
        if flags == BRANCH:
            for child in self._branch_children(page, count):
                yield from self._tree_pages(child, depth + 1)
        else:
            for e in self._leaf_items(page, off, pgid):
                if e.bucket:
                    yield from self._bucket_from_value(e, e.key).pages()

    def _bucket_from_value(self, e: Entry, name: bytes) -> Bucket:
        value = e.value
        if len(value) < BUCKET_HEADER.size:
            raise BoltError(f"{self.path} is corrupt: bucket {name!r} has a header of {len(value)} bytes")
        root, _seq = BUCKET_HEADER.unpack_from(value, 0)
        if root == 0:
            return Bucket(self, 0, value[BUCKET_HEADER.size :], name, e.value_offset + BUCKET_HEADER.size)
        return Bucket(self, root, None, name)

    def value_at(self, offset: int, size: int) -> bytes:
        """`size` bytes of the file from `offset` (a value an `Entry` pointed at), copied."""
        if offset < 0 or offset + size > self.size:
            raise BoltError(f"{self.path}: bytes {offset}..{offset + size} are outside the file")
        return bytes(self.buf[offset : offset + size])

    # -------------------------------------------------------------- public
    def root(self) -> Bucket:
        """The root bucket, whose entries are the top-level buckets."""
        return Bucket(self, self.meta.root, None, b"")

    def bucket(self, name: bytes) -> Bucket | None:
        """The top-level bucket called `name`, or None."""
        return self.root().bucket(name)

    def freelist(self) -> list[int]:
        """The free page ids the freelist page lists (empty when the file keeps no freelist)."""
        if self.meta.freelist in (0, NO_FREELIST):
            return []
        page, flags, _off = self._page_bytes(self.meta.freelist)
        if flags != FREELIST:
            raise BoltError(f"{self.path} is corrupt: freelist page {self.meta.freelist} has flags {flags:#x}")
        count = PAGE_HEADER.unpack_from(page, 0)[2]
        start = PAGE_HEADER.size
        if count == 0xFFFF:
            count = struct.unpack_from("<Q", page, start)[0]
            start += 8
        if start + 8 * count > len(page):
            raise BoltError(f"{self.path} is corrupt: the freelist says {count} ids, its pages hold fewer")
        return list(struct.unpack_from(f"<{count}Q", page, start))

    def used_pages(self) -> set[int]:
        """Every page the current meta page reaches: metas, freelist, and every bucket's tree."""
        used = {0, 1}
        if self.meta.freelist not in (0, NO_FREELIST):
            _off, _f, _c, overflow = self.page(self.meta.freelist)
            used.update(range(self.meta.freelist, self.meta.freelist + overflow + 1))
        for pgid, _flags, overflow in self.root().pages():
            used.update(range(pgid, pgid + overflow + 1))
        return used

    def page_kinds(self) -> list[str]:
        """What each page of the file is: meta, branch, leaf, overflow (the continuation of a large
        value), freelist, or unused (free, or left from older transactions)."""
        kinds = ["unused"] * self.meta.high_water
        kinds[0] = kinds[1] = "meta"
        if self.meta.freelist not in (0, NO_FREELIST):
            _off, _f, _c, overflow = self.page(self.meta.freelist)
            for p in range(self.meta.freelist, self.meta.freelist + overflow + 1):
                kinds[p] = "freelist"
        for pgid, flags, overflow in self.root().pages():
            kinds[pgid] = "branch" if flags == BRANCH else "leaf"
            for p in range(pgid + 1, pgid + overflow + 1):
                kinds[p] = "overflow"
        return kinds

    def close(self) -> None:
        """Unmap and close the file."""
        if getattr(self, "buf", None) is not None:
            self.buf.release()
            self.buf = None  # type: ignore[assignment]
        if self._mm is not None:
            try:
                self._mm.close()
            except BufferError:  # a caller still holds a value's memoryview; the map goes with it
                pass
            self._mm = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> BoltFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
