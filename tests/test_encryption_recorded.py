"""Values the real kube-apiserver v1.37.2 wrote in notebook 05's recording decrypt with the notebook's
demo keys: every provider, including KMS v2 through the plugin's demo KEKs."""

from __future__ import annotations

import base64

import pytest

from k8slearn.cluster.kmsplugin import KMSPlugin
from k8slearn.recording import etcdlog
from k8slearn.recording.layout import recordings_dir
from k8slearn.storage import codec
from k8slearn.storage import encryption as enc

FOLDER = recordings_dir() / "local-v1.37.2" / "notebooks" / "05-encryption-at-rest"
NS = "k8slearn-encryption"
DEMO_KEYS = {  # notebook 05's demo keys (public)
    "key1": b"k8slearn-demo-aescbc-key1-PUBLIC",
    "key2": b"k8slearn-demo-aescbc-key2-PUBLIC",
    "keyg": b"k8slearn-demo-aesgcm-keyg-PUBLIC",
    "key3": b"k8slearn-demo-secretbox-key3-PUB",
}
KEKS = {"kek-1": b"k8slearn-demo-kms-kek-1-PUBLIC!!", "kek-2": b"k8slearn-demo-kms-kek-2-PUBLIC!!"}


def every_key_config():
    def keys(*names):
        return {"keys": [{"name": n, "secret": base64.b64encode(DEMO_KEYS[n]).decode()} for n in names]}

    return enc.parse_config(
        {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "EncryptionConfiguration",
            "resources": [
                {
                    "resources": ["secrets"],
                    "providers": [
                        {"kms": {"apiVersion": "v2", "name": "k8slearn-demo-kms", "endpoint": "unix:///none"}},
                        {"aescbc": keys("key2", "key1")},
                        {"aesgcm": keys("keyg")},
                        {"secretbox": keys("key3")},
                        {"identity": {}},
                    ],
                }
            ],
        }
    )


@pytest.fixture(scope="module")
def written():
    if not (FOLDER / "etcd.jsonl").is_file():
        pytest.skip("notebook 05 is not recorded")
    return [o for o in etcdlog.read_ops(FOLDER / "etcd.jsonl") if o.op == "put" and f"/secrets/{NS}/" in o.key]


def test_every_provider_the_apiserver_wrote_decrypts(written):
    plugin = KMSPlugin("k8slearn-demo-kms", "/nonexistent.sock", KEKS)
    config = every_key_config()
    seen = set()
    for op in written:
        if not op.value.startswith(b"k8s:enc:"):
            continue
        got = enc.decrypt(op.value, config, op.key, kms={"k8slearn-demo-kms": plugin.unwrap})
        secret = codec.decode(got.plaintext).obj
        assert secret["kind"] == "Secret" and secret["metadata"]["name"] == op.key.rsplit("/", 1)[1]
        assert base64.b64decode(secret["data"]["password"]).decode().startswith("demo-password")
        seen.add((got.provider, got.key_name, got.kms_key_id))
    assert {p for p, _, _ in seen} == {"aescbc", "aesgcm", "secretbox", "kms"}
    assert ("kms", "k8slearn-demo-kms", "kek-1") in seen and ("kms", "k8slearn-demo-kms", "kek-2") in seen
    assert ("aescbc", "key2", "") in seen


def test_aesgcm_and_kms_values_do_not_read_under_another_key(written):
    plugin = KMSPlugin("k8slearn-demo-kms", "/nonexistent.sock", KEKS)
    config = every_key_config()
    bound = [o for o in written if o.value.startswith((b"k8s:enc:aesgcm:", b"k8s:enc:kms:v2:"))]
    assert bound
    for op in bound:
        with pytest.raises(enc.EncryptionError, match="tag does not match"):
            enc.decrypt(op.value, config, op.key + "-moved", kms={"k8slearn-demo-kms": plugin.unwrap})
