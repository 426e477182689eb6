"""A recorded etcd snapshot keeps no Secret data outside the curriculum's namespaces: not in any
revision, not in free pages; and etcd's own tools still accept the redacted file."""

from __future__ import annotations

import base64
import gzip

from k8slearn.cluster.etcd import save_snapshot
from k8slearn.cluster.localetcd import LocalEtcd, restore_snapshot
from k8slearn.recording import snapshot as recsnap
from k8slearn.storage import codec
from k8slearn.storage.snapshot import Snapshot


def _secret(ns: str, name: str, value: bytes, media: str = "application/vnd.kubernetes.protobuf") -> bytes:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": ns,
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":"' + value.decode() + '"}'},
        },
        "type": "Opaque",
        "data": {"password": base64.b64encode(value).decode()},
    }
    return codec.encode(obj, media)


PLAIN = [b"hunter2-first-revision", b"second-revision-pass", b"json-stored-secret-xyz"]


def test_redacted_snapshot_holds_no_secret_anywhere(tmp_path):
    with LocalEtcd() as server:
        c = server.client()
        c.put("/registry/secrets/default/db", _secret("default", "db", PLAIN[0]))
        for i in range(200):  # churn, so older pages are freed and reused
            c.put(f"/registry/configmaps/default/c{i % 20}", b"x" * 300)
        c.put("/registry/secrets/default/db", _secret("default", "db", PLAIN[1]))
        c.put("/registry/secrets/kube-system/j", _secret("kube-system", "j", PLAIN[2], "application/json"))
        c.put("/registry/secrets/k8slearn-demo/demo", _secret("k8slearn-demo", "demo", b"curriculum-demo-value"))
        c.delete("/registry/secrets/kube-system/j")
        save_snapshot(c, tmp_path / "raw.db")
    raw = (tmp_path / "raw.db").read_bytes()
    assert all(p in raw for p in PLAIN[1:]), "the test must start from a file holding the secrets"

    info = recsnap.store(tmp_path / "raw.db", tmp_path / "rec", {"how": "test"})
    red = recsnap.load(tmp_path / "rec", tmp_path)
    data = red.read_bytes()
    for p in PLAIN:
        assert p not in data and base64.b64encode(p) not in data, p
    assert b"curriculum-demo-value" in data, "the curriculum's own demo Secret is kept"
    assert (tmp_path / "rec" / "etcd-snapshot.yaml").read_text().count("secret_revisions_redacted: 3") == 1
    assert gzip.open(info).read() == data

    with Snapshot(tmp_path / "raw.db") as before, Snapshot(red) as after:
        assert after.revision == before.revision
        assert [(c.main, c.sub, c.key) for c in after.changes()] == [(c.main, c.sub, c.key) for c in before.changes()]
        for v in after.history("/registry/secrets/default/db") + after.history("/registry/secrets/kube-system/j")[:-1]:
            obj = v.decoded.obj
            assert base64.b64decode(obj["data"]["password"]).startswith(b"REDACTED")
            assert "hunter2" not in obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
        assert after.keys(prefix="/registry/configmaps/") == before.keys(prefix="/registry/configmaps/")

    restored = restore_snapshot(red)  # etcdutl checks the recomputed SHA-256 before restoring
    try:
        got = restored.client().get_response(b"/registry/secrets/default/db").kvs[0]
        assert PLAIN[1] not in got.value
    finally:
        restored.stop()
