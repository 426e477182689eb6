"""Notebook 00's exercise checks: wrong answers and None give a false Verdict, never an exception.

Offline: the key-version and compaction checks run against throw-away sandbox etcds, the
Lease-key check against the replayed recording of 00-preflight.
"""

from __future__ import annotations

import contextlib

import pytest

import k8slearn
from k8slearn.cluster.localetcd import LocalEtcd
from k8slearn.notebook.exercises import nb00


class SandboxLab:
    """Just enough of a Lab for the checks that only need `lab.sandbox()`."""

    def __init__(self):
        self._stack = contextlib.ExitStack()

    def sandbox(self) -> LocalEtcd:
        s = LocalEtcd(name="test-nb00").start()
        self._stack.callback(s.stop)
        return s

    def close(self):
        self._stack.close()


@pytest.fixture
def sandbox_lab():
    lab = SandboxLab()
    yield lab
    lab.close()


@pytest.fixture(scope="module")
def replay_lab():
    lab = k8slearn.connect("replay", notebook="00-preflight")
    yield lab
    lab.close()


@pytest.mark.parametrize("wrong", [None, 0, 2, 3, 4, 5, "1", 1.0, True])
def test_key_version_rejects_wrong_answers(sandbox_lab, wrong, capsys):
    assert not nb00.check_key_version(sandbox_lab, wrong)
    assert ("⏳" if wrong is None else "❌") in capsys.readouterr().out


def test_key_version_accepts_what_etcd_says(sandbox_lab):
    client = sandbox_lab.sandbox().client()
    for value in (b"a", b"b", b"c"):
        client.put("/k", value)
    client.delete("/k")
    client.put("/k", b"d")
    assert nb00.check_key_version(sandbox_lab, client.get("/k")[1].version)


@pytest.mark.parametrize(
    "wrong",
    [
        None,
        42,
        "leases/kube-node-lease/k8slearn-worker",
        "/registry/leases/k8slearn-worker",
        "/registry/coordination.k8s.io/leases/kube-node-lease/k8slearn-worker",
        "/registry/leases/kube-node-lease/k8slearn-worker/",
        "/registry/leases/default/k8slearn-worker",
        "/registry/minions/k8slearn-worker",
    ],
)
def test_lease_key_rejects_wrong_answers(replay_lab, wrong):
    assert not nb00.check_lease_key(replay_lab, wrong)


def test_lease_key_accepts_the_composed_key(replay_lab):
    prefix = replay_lab.cluster["etcd_prefix"]
    assert nb00.check_lease_key(replay_lab, f"{prefix}/leases/kube-node-lease/k8slearn-worker")


def _future_revision_error(lab) -> Exception:
    client = lab.sandbox().client()
    rev = client.put("/k", b"v").header.revision
    try:
        client.get_response("/k", revision=rev + 100)
    except Exception as e:
        return e
    raise AssertionError("etcd served a read at a future revision")


def test_compacted_read_rejects_wrong_answers(sandbox_lab):
    assert not nb00.check_compacted_read(sandbox_lab, None)
    assert not nb00.check_compacted_read(sandbox_lab, "etcdserver: mvcc: required revision has been compacted")
    assert not nb00.check_compacted_read(sandbox_lab, KeyError("/preflight/exercise"))
    # same gRPC code (OUT_OF_RANGE), other cause: a revision etcd has not reached yet
    assert not nb00.check_compacted_read(sandbox_lab, _future_revision_error(sandbox_lab))


def test_compacted_read_accepts_etcds_error(sandbox_lab):
    client = sandbox_lab.sandbox().client()
    first = client.put("/k", b"1").header.revision
    client.compact(client.put("/k", b"2").header.revision)
    with pytest.raises(Exception) as caught:
        client.get_response("/k", revision=first)
    assert nb00.check_compacted_read(sandbox_lab, caught.value)
