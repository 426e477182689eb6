"""The real local etcd: start, use, stop, and what happens without a binary."""

import os
import subprocess
import sys

import pytest

from k8slearn.cluster import etcd as etcdmod
from k8slearn.cluster.localetcd import EtcdNotFound, LocalEtcd, find_etcd
from k8slearn.recording import etcdlog


def test_starts_on_loopback_and_stops_cleanly():
    server = LocalEtcd().start()
    try:
        assert server.endpoint.startswith("http://127.0.0.1:")
        c = server.client()
        r1 = c.put("/t/a", b"1").header.revision
        r2 = c.put("/t/a", b"2").header.revision
        assert r2 == r1 + 1
        value, meta = c.get("/t/a")
        assert value == b"2" and meta.version == 2 and meta.create_revision == r1
        data_dir = server.data_dir
    finally:
        server.stop()
    assert server.proc.poll() is not None, "etcd still running after stop()"
    assert not data_dir.exists(), "temporary data folder not removed"


def test_two_servers_side_by_side_are_independent():
    with LocalEtcd() as a, LocalEtcd() as b:
        assert a.client_port != b.client_port
        a.client().put("/only-in-a", b"x")
        assert b.client().get("/only-in-a")[0] is None


def test_missing_binary_says_what_to_do(monkeypatch):
    monkeypatch.setenv("K8SLEARN_ETCD", "/nonexistent/etcd")
    with pytest.raises(EtcdNotFound) as e:
        find_etcd()
    msg = str(e.value)
    assert "K8SLEARN_ETCD" in msg and "apt-get install etcd-server" in msg


def test_cli_doctor_reports_missing_etcd_without_traceback(tmp_path):
    env = dict(os.environ, K8SLEARN_ETCD=str(tmp_path / "no-etcd"), KUBECONFIG=str(tmp_path / "none"))
    out = subprocess.run(
        [sys.executable, "-m", "k8slearn", "doctor"], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 1
    assert "MISSING  etcd" in out.stdout and "Traceback" not in out.stdout + out.stderr


def test_recorded_writes_replay_at_the_same_revisions():
    with LocalEtcd() as src:
        c = src.client()
        start = etcdmod.current_revision(c)
        rec = etcdlog.OpsRecorder(c, start + 1)
        c.put("/registry/a", b"one")
        c.put("/elsewhere", b"not under the prefix")
        c.put("/registry/a", b"two")
        lease = c.lease(600)
        c.put("/registry/events/ns/e1", b"\x00binary\xff", lease=lease)
        c.delete("/registry/a")
        ops = rec.stop()
        original = {
            kv.key: (kv.value, kv.mod_revision, kv.create_revision, kv.version) for kv in etcdmod.Etcd(c).range("/")
        }
    assert [o.op for o in ops] == ["put", "put", "put", "put", "delete"]
    assert ops[3].lease_ttl == 600
    # a gap before the ops: replay must fill it so revisions match exactly
    shifted = [etcdlog.Op(o.rev + 5, o.op, o.key, o.value, o.lease_ttl) for o in ops]
    lines = [o.to_json() for o in shifted]
    restored = [etcdlog.Op.from_json(line) for line in lines]
    assert restored == shifted
    with LocalEtcd() as dst:
        c2 = dst.client()
        final = etcdlog.apply_ops(c2, restored)
        assert final == shifted[-1].rev
        got = {
            kv.key: (kv.value, kv.mod_revision - 5, kv.create_revision - 5, kv.version)
            for kv in etcdmod.Etcd(c2).range("/")
            if kv.key != etcdlog.FILLER_KEY.decode()
        }
        assert got == original
        ev = etcdmod.Etcd(c2).get("/registry/events/ns/e1")
        assert ev.lease != 0 and c2.get_lease_info(ev.lease).grantedTTL == 600


def test_pinned_reads_answer_as_when_recorded():
    with LocalEtcd() as server:
        c = server.client()
        c.put("/registry/k", b"before")
        pins = etcdmod.ReadPins("record")
        view = etcdmod.Etcd(c, pins=pins)
        assert view.get("/registry/k").value == b"before"
        c.put("/registry/k", b"after")
        assert view.get("/registry/k").value == b"after"
        # replay the two reads after the key changed again: each sees what it saw then
        c.put("/registry/k", b"later")
        replay = etcdmod.Etcd(c, pins=etcdmod.ReadPins("replay", list(pins.revisions)))
        assert replay.get("/registry/k").value == b"before"
        assert replay.get("/registry/k").value == b"after"
        from k8slearn.errors import NotRecorded

        with pytest.raises(NotRecorded, match="k8slearn record"):
            replay.get("/registry/k")


def test_out_of_order_ops_are_reported():
    from k8slearn.errors import FixtureMissing

    with LocalEtcd() as server:
        ops = [etcdlog.Op(5, "put", "/a", b"x"), etcdlog.Op(4, "put", "/b", b"y")]
        with pytest.raises(FixtureMissing, match="out of order"):
            etcdlog.apply_ops(server.client(), ops)


def test_a_killed_parent_leaves_no_etcd(tmp_path):
    """SIGKILL the Python process that started etcd: the kernel stops etcd too (Linux)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux-only")
    code = (
        "from k8slearn.cluster.localetcd import LocalEtcd; import sys, time; s = LocalEtcd().start(); "
        "print(s.proc.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    etcd_pid = int(parent.stdout.readline())
    os.kill(etcd_pid, 0)  # running
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(etcd_pid, 0)
            if open(f"/proc/{etcd_pid}/stat").read().split(")")[-1].split()[0] == "Z":
                break
        except (ProcessLookupError, FileNotFoundError):
            break
        time.sleep(0.1)
    else:
        os.kill(etcd_pid, signal.SIGKILL)
        pytest.fail("etcd outlived its killed parent")


def test_the_recorder_fails_loudly_when_its_watch_dies():
    """A lagging or broken watch must not give a silently partial recording."""
    with LocalEtcd() as src:
        c = src.client()
        rec = etcdlog.OpsRecorder(c, etcdmod.current_revision(c) + 1)
        c.put("/registry/a", b"one")
        until = etcdmod.current_revision(c)
        src._kill()  # the server goes away under the watch
        with pytest.raises(etcdlog.RecordingIncomplete, match="record it again"):
            rec.stop(until_revision=until + 1, timeout=3)


def test_a_recorded_delete_of_a_key_replay_never_wrote_keeps_the_revisions():
    """The namespace controller deletes an earlier notebook's objects while the next one is
    recorded: replaying that notebook alone deletes keys it never wrote."""
    ops = [
        etcdlog.Op(5, "put", "/registry/a", b"one"),
        etcdlog.Op(6, "delete", "/registry/written-elsewhere"),
        etcdlog.Op(7, "put", "/registry/b", b"two"),
    ]
    with LocalEtcd() as dst:
        c = dst.client()
        assert etcdlog.apply_ops(c, ops) == 7
        view = etcdmod.Etcd(c, prefix="/registry")
        assert view.get("/registry/b").mod_revision == 7 and view.get("/registry/written-elsewhere") is None
