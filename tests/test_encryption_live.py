"""Encryption at rest on the suite's real kube-apiserver: `k8slearn decode --encryption-config`
decrypts what it wrote (aesgcm and KMS v2 through the running plugin), and the Lab leaves
kube-apiserver as it found it."""

from __future__ import annotations

import base64
import json

import pytest

from conftest import LIVE

NS = "k8slearn-encryption-test"


@LIVE
def test_decode_cli_reads_what_the_apiserver_encrypted(live_url, tmp_path, capsys):
    import yaml
    from kubernetes import client

    import k8slearn
    from k8slearn.cli import main
    from k8slearn.cluster import local
    from k8slearn.cluster.etcd import Etcd
    from k8slearn.lab.encryption import config
    from k8slearn.storage.encryption import EncryptionError

    found = dict(local.require_state()["options"])
    lab = k8slearn.connect("live", notebook="scratch")
    try:
        ns = lab.namespace(NS)
        v1 = client.CoreV1Api(lab.api)
        plugin = lab.kms_plugin("k8slearn-test-kms", {"kek-t": b"k8slearn-test-kek-PUBLIC-32bytes"})
        gcm = {"aesgcm": {"keys": [{"name": "kt", "secret": base64.b64encode(b"t" * 32).decode()}]}}
        for name, doc in (
            ("gcm", config(gcm, {"identity": {}})),
            ("kms", config(plugin.provider(), gcm, {"identity": {}})),
        ):
            lab.use_encryption(doc)
            v1.create_namespaced_secret(ns, {"metadata": {"name": name}, "stringData": {"password": f"demo-{name}"}})
            key = f"/registry/secrets/{ns}/{name}"
            (tmp_path / f"{name}.bin").write_bytes(lab.etcd.get(key).value)
            (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(doc))
            args = ["decode", str(tmp_path / f"{name}.bin"), "--encryption-config", str(tmp_path / f"{name}.yaml")]
            assert main([*args, "--key", key]) == 0
            assert (
                json.loads(capsys.readouterr().out)["data"]["password"]
                == base64.b64encode(f"demo-{name}".encode()).decode()
            )
            assert main([*args, "--key", key + "-moved"]) == 1
            assert "tag does not match" in capsys.readouterr().err
        assert [c["call"] for c in plugin.calls()].count("Encrypt") == 1
        with pytest.raises(EncryptionError, match="cannot read"):  # it would drop key kt, still in use
            lab.use_encryption(
                config({"secretbox": {"keys": [{"name": "s", "secret": base64.b64encode(b"s" * 32).decode()}]}})
            )
    finally:
        lab.close()
    assert local.require_state()["options"] == found, "kube-apiserver's options are restored"
    after = Etcd(local.etcd_client()).range("/registry/secrets/")
    assert not [kv.key for kv in after if kv.value.startswith(b"k8s:enc:")], "every Secret is decrypted again"
