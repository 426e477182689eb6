"""etcd snapshot files in recordings: taken live, redacted, kept gzip-compressed, opened in replay.

A snapshot of a cluster's etcd holds every Secret it ever stored, at every revision not yet
compacted, and bbolt's free pages may still hold older copies. `redact_snapshot` applies the
one rule of `k8slearn.recording.redact` to such a file without changing its layout:

- every stored revision of a Secret outside the `k8slearn-*` namespaces gets its `data` values
  replaced by "REDACTED" repeated to the same length (and the last-applied-configuration
  annotation by filler of the same length), re-encoded as stored; a value that cannot be
  re-encoded to the same length is overwritten whole with filler text; encrypted values stay;
- every page the snapshot's meta page does not reach (free pages, pages of older
  transactions) is zeroed;
- the SHA-256 trailer is computed afresh, so etcd's own tools still accept the file.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import shutil
from pathlib import Path
from typing import Any

from k8slearn.recording.redact import curriculum_secret
from k8slearn.storage.snapshot import SHA_SIZE, Snapshot, SnapshotError, _kv_message, has_checksum

SNAPSHOT_FILE = "etcd-snapshot.db.gz"
FILLER_TEXT = b"k8slearn: Secret value not recorded (redacted) "


def _filler(n: int, unit: bytes = b"REDACTED") -> bytes:
    return (unit * (n // len(unit) + 1))[:n]


def _fields(msg: bytes) -> dict[int, tuple[int, int]]:
    """Length-delimited fields of a protobuf message: field number -> (start, length) of the bytes."""
    out: dict[int, tuple[int, int]] = {}
    i = 0

    def varint(i: int) -> tuple[int, int]:
        shift = v = 0
        while True:
            b = msg[i]
            i += 1
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v, i
            shift += 7

    while i < len(msg):
        tag, i = varint(i)
        wire = tag & 7
        if wire == 0:
            _, i = varint(i)
        elif wire == 2:
            n, i = varint(i)
            out[tag >> 3] = (i, n)
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise SnapshotError(f"unexpected protobuf wire type {wire} in a stored KeyValue")
    return out


def redact_value_same_length(key: str, value: bytes) -> bytes:
    """A stored Secret value with its data replaced, the same number of bytes long."""
    if "/secrets/" not in key or curriculum_secret(key):
        return value
    from k8slearn.storage import codec

    try:
        d = codec.decode(value)
        if d.encoding == "encrypted":
            return value
        obj = d.obj
        for k, v in (obj.get("data") or {}).items():
            obj["data"][k] = base64.b64encode(_filler(len(base64.b64decode(v)))).decode()
        ann = (obj.get("metadata") or {}).get("annotations") or {}
        name = "kubectl.kubernetes.io/last-applied-configuration"
        media = {"protobuf": "application/vnd.kubernetes.protobuf", "json": "application/json"}[d.encoding]
        size = len(ann[name].encode()) if name in ann else 0
        for _attempt in range(4):  # escapes (JSON) and varint lengths (protobuf) shift the size: adjust the filler
            if name in ann:
                ann[name] = _filler(max(size, 0)).decode()
            new = codec.encode(obj, media)
            if len(new) == len(value):
                return new
            if name not in ann:
                break
            size += len(value) - len(new)
    except Exception:  # noqa: BLE001 - anything unreadable is overwritten whole below
        pass
    return _filler(len(value), FILLER_TEXT)


def redact_snapshot(src: str | Path, dst: str | Path) -> dict[str, int]:
    """Write a redacted copy of snapshot `src` to `dst` (see the module docstring); returns counts."""
    src, dst = Path(src), Path(dst)
    counts = {"secret_revisions_redacted": 0, "pages_zeroed": 0}
    with Snapshot(src) as snap:
        db_size = snap.db.size
        edits: list[tuple[int, bytes]] = []
        for ch in snap.changes():
            if ch.deleted or b"/secrets/" not in ch.key:
                continue
            raw = snap.db.value_at(ch.offset, ch.size)
            kv = _kv_message(raw)
            new = redact_value_same_length(kv.key.decode(errors="replace"), kv.value)
            if new != kv.value:
                start, n = _fields(raw)[5]
                assert n == len(new)
                edits.append((ch.offset + start, new))
                counts["secret_revisions_redacted"] += 1
        used = snap.db.used_pages()
        psize, pages = snap.db.page_size, snap.db.meta.high_water
        unused = [p for p in range(2, pages) if p not in used]
    with open(src, "rb") as f_in, open(dst, "wb") as f_out:
        shutil.copyfileobj(f_in, f_out)
    with open(dst, "r+b") as f:
        f.truncate(db_size)
        for off, data in edits:
            f.seek(off)
            f.write(data)
        zero = bytes(psize)
        for p in unused:
            f.seek(p * psize)
            f.write(zero)
        counts["pages_zeroed"] = len(unused)
        f.seek(0)
        h = hashlib.sha256()
        while chunk := f.read(1 << 22):
            h.update(chunk)
        f.seek(db_size)
        f.write(h.digest())
    assert has_checksum(db_size + SHA_SIZE)
    Snapshot(dst).close()  # opens and verifies
    return counts


def store(src: Path, folder: Path, info: dict[str, Any]) -> Path:
    """Redact `src` and keep it gzip-compressed in a recording's notebook folder, with provenance."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".etcd-snapshot.db"
    try:
        counts = redact_snapshot(src, tmp)
        out = folder / SNAPSHOT_FILE
        with open(tmp, "rb") as f_in, gzip.GzipFile(out, "wb", compresslevel=9, mtime=0) as f_out:
            shutil.copyfileobj(f_in, f_out)
        with Snapshot(tmp) as snap:
            info = dict(
                info,
                revision=snap.revision,
                compacted=snap.compacted,
                file_bytes=snap.file_size,
                sha256_after_redaction=snap.checksum,
                **counts,
            )
    finally:
        tmp.unlink(missing_ok=True)
    (folder / "etcd-snapshot.yaml").write_text(yaml.safe_dump(info, sort_keys=False))
    return out


def load(folder: Path, into: Path) -> Path:
    """The recorded snapshot of a notebook's folder, decompressed into `into`."""
    from k8slearn.errors import FixtureMissing

    src = folder / SNAPSHOT_FILE
    if not src.is_file():
        raise FixtureMissing(
            f"the recording holds no etcd snapshot for {folder.name} ({src.name} is missing)",
            hint=f"record it with `k8slearn record {folder.name}`",
        )
    out = into / "etcd-snapshot.db"
    with gzip.open(src, "rb") as f_in, open(out, "wb") as f_out:
        shutil.copyfileobj(f_in, f_out)
    return out
