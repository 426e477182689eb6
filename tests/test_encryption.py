"""k8slearn.storage.encryption: known answers from published vectors, the apiserver's formats,
and clear failures. Values written by the real kube-apiserver are in test_encryption_recorded.py."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from k8slearn.cluster.kmsplugin import KMSPlugin, KMSPluginError, client_decrypt
from k8slearn.errors import K8sLearnError
from k8slearn.storage import codec
from k8slearn.storage import encryption as enc

h = bytes.fromhex
KEY = "/registry/secrets/k8slearn-t/s"

# NIST SP 800-38A (2001), Appendix F.2.1, CBC-AES128.Encrypt
SP800_38A_KEY = h("2b7e151628aed2a6abf7158809cf4f3c")
SP800_38A_IV = h("000102030405060708090a0b0c0d0e0f")
SP800_38A_PLAIN = h(
    "6bc1bee22e409f96e93d7e117393172a"
    "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef"
    "f69f2445df4f9b17ad2b417be66c3710"
)
SP800_38A_CIPHER = h(
    "7649abac8119b246cee98e9b12e9197d"
    "5086cb9b507219ee95db113a917678b2"
    "73bed6b8e3c1743b7116e69e22229516"
    "3ff1caa1681fac09120eca307586e1a7"
)

# The GCM specification (McGrew and Viega, 2005), Test Case 4 (AES-128, 96-bit IV, with AAD),
# also among NIST's GCM test vectors
GCM_KEY = h("feffe9928665731c6d6a8f9467308308")
GCM_IV = h("cafebabefacedbaddecaf888")
GCM_PLAIN = h(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
)
GCM_AAD = h("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM_CIPHER = h(
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
)
GCM_TAG = h("5bc94fbc3221a5db94fae95ae7121a47")

# NaCl's tests/secretbox.c (also libsodium's test/default/secretbox.c): firstkey, nonce, message, ciphertext
NACL_KEY = h("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389")
NACL_NONCE = h("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")
NACL_PLAIN = h(
    "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffc"
    "e5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb31"
    "0e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde"
    "048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864"
    "5e0705"
)
NACL_BOX = h(
    "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce"
    "48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c972"
    "71d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae"
    "90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b3"
    "7973f622a43d14a6599b1f654cb45a74e355a5"
)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def cfg(*providers):
    return enc.parse_config(
        {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "EncryptionConfiguration",
            "resources": [{"resources": ["secrets"], "providers": list(providers)}],
        }
    )


def pkcs7_block(key: bytes, last_cipher_block: bytes) -> bytes:
    """The CBC block that carries a full PKCS#7 padding block after the published ciphertext."""
    enc_ = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    block = bytes(a ^ 16 for a in last_cipher_block)
    return enc_.update(block) + enc_.finalize()


def test_aescbc_reads_the_sp800_38a_vector():
    body = SP800_38A_IV + SP800_38A_CIPHER + pkcs7_block(SP800_38A_KEY, SP800_38A_CIPHER[-16:])
    value = b"k8s:enc:aescbc:v1:nist:" + body
    got = enc.decrypt(value, cfg({"aescbc": {"keys": [{"name": "nist", "secret": b64(SP800_38A_KEY)}]}}))
    assert got.plaintext == SP800_38A_PLAIN
    assert (got.provider, got.key_name, got.stale) == ("aescbc", "nist", False)


def test_aesgcm_reads_the_gcm_spec_vector_with_the_etcd_key_as_aad():
    value = b"k8s:enc:aesgcm:v1:nist:" + GCM_IV + GCM_CIPHER + GCM_TAG
    config = cfg({"aesgcm": {"keys": [{"name": "nist", "secret": b64(GCM_KEY)}]}})
    # the vector's AAD stands where kube-apiserver puts the etcd key (bytes > 127: not a str key)
    from k8slearn.storage.encryption import _aesgcm

    assert _aesgcm(GCM_KEY, GCM_IV + GCM_CIPHER + GCM_TAG, GCM_AAD) == GCM_PLAIN
    with pytest.raises(enc.EncryptionError, match="tag does not match"):
        enc.decrypt(value, config, KEY)


def test_secretbox_reads_the_nacl_vector():
    value = b"k8s:enc:secretbox:v1:nacl:" + NACL_NONCE + NACL_BOX
    got = enc.decrypt(value, cfg({"secretbox": {"keys": [{"name": "nacl", "secret": b64(NACL_KEY)}]}}))
    assert got.plaintext == NACL_PLAIN
    assert len(value) - len(b"k8s:enc:secretbox:v1:nacl:") == 24 + 16 + len(NACL_PLAIN)


def test_layouts_name_their_parts():
    cbc = enc.inspect(b"k8s:enc:aescbc:v1:k:" + bytes(48))
    assert [(p.end - p.start) for p in cbc.parts] == [20, 16, 32]
    gcm = enc.inspect(b"k8s:enc:aesgcm:v1:k:" + bytes(40))
    assert [(p.end - p.start) for p in gcm.parts] == [20, 12, 12, 16]
    box = enc.inspect(b"k8s:enc:secretbox:v1:k:" + bytes(50))
    assert [p.label.split(" ")[0] for p in box.parts] == ["prefix", "nonce", "Poly1305", "XSalsa20"]
    with pytest.raises(enc.EncryptionError, match="not encrypted"):
        enc.inspect(b"k8s\x00rest")


def _secret_bytes(password: str = "demo") -> bytes:
    return codec.encode(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": "k8slearn-t"},
            "data": {"password": b64(password.encode())},
        }
    )


def test_kms_v2_envelope_with_a_seed_as_the_apiserver_writes_it(tmp_path):
    # what envelope.go + aes_extended_nonce.go do on a write, step by step
    plugin = KMSPlugin("p", tmp_path / "p.sock", {"kek-1": os.urandom(32)})
    seed, info, nonce = os.urandom(32), os.urandom(32), os.urandom(12)
    wrapped, key_id = plugin.wrap(seed)
    plain = _secret_bytes()
    sealed = AESGCM(enc.hkdf_dek(seed, info)).encrypt(nonce, plain, KEY.encode())
    value = b"k8s:enc:kms:v2:p:" + enc.encode_encrypted_object(
        {"encryptedData": info + nonce + sealed, "keyID": key_id, "encryptedDEKSource": wrapped}
    )
    config = cfg({"kms": {"apiVersion": "v2", "name": "p", "endpoint": "unix:///x"}}, {"identity": {}})
    got = enc.decrypt(value, config, KEY, kms={"p": plugin.unwrap})
    assert got.plaintext == plain and got.kms_key_id == "kek-1"
    obj = enc.inspect(value).kms
    assert obj is not None and obj["encryptedDEKSourceType"] == "HKDF_SHA256_XNONCE_AES_GCM_SEED"
    with pytest.raises(enc.EncryptionError, match="tag does not match"):
        enc.decrypt(value, config, "/registry/secrets/k8slearn-t/moved", kms={"p": plugin.unwrap})
    with pytest.raises(enc.EncryptionError, match="no KMS plugin named"):
        enc.decrypt(value, config, KEY)


def test_kms_plugin_serves_the_v2_api_over_a_unix_socket(tmp_path):
    plugin = KMSPlugin("p", tmp_path / "p.sock", {"kek-1": os.urandom(32)}).start()
    try:
        wrapped, key_id = plugin.wrap(b"s" * 32)
        assert client_decrypt(plugin.endpoint)(wrapped, key_id, {}) == b"s" * 32
        with pytest.raises(KMSPluginError, match="has no KEK"):
            client_decrypt(plugin.endpoint)(wrapped, "kek-9", {})
        plugin.rotate("kek-2", os.urandom(32))
        assert plugin.key_id == "kek-2" and plugin.unwrap(wrapped, "kek-1") == b"s" * 32
        assert [c["call"] for c in plugin.calls] == ["Decrypt", "Decrypt"]
        assert all("plaintext" not in c for c in plugin.calls), "no key material in the log"
    finally:
        plugin.stop()
    assert not (tmp_path / "p.sock").exists()


def test_first_provider_writes_and_stale_reads():
    k1, k2 = os.urandom(32), os.urandom(32)
    config = cfg({"aescbc": {"keys": [{"name": "new", "secret": b64(k2)}, {"name": "old", "secret": b64(k1)}]}})
    assert config.writer == "k8s:enc:aescbc:v1:new:"
    iv = os.urandom(16)
    e = Cipher(algorithms.AES(k1), modes.CBC(iv)).encryptor()
    body = iv + e.update(b"x" * 15 + b"\x01") + e.finalize()
    got = enc.decrypt(b"k8s:enc:aescbc:v1:old:" + body, config)
    assert got.plaintext == b"x" * 15 and got.key_name == "old" and got.stale
    assert enc.decrypt(b"k8s\x00plain", cfg({"identity": {}})).provider == "identity"


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"kind": "ConfigMap"}, "not an EncryptionConfiguration"),
        ("[unclosed", "not YAML"),
        (
            {
                "kind": "EncryptionConfiguration",
                "resources": [{"resources": ["secrets"], "providers": [{"rot13": {}}]}],
            },
            "unknown provider",
        ),
        (
            {
                "kind": "EncryptionConfiguration",
                "resources": [
                    {"resources": ["secrets"], "providers": [{"aescbc": {"keys": [{"name": "k", "secret": "!!"}]}}]}
                ],
            },
            "not base64",
        ),
        (
            {
                "kind": "EncryptionConfiguration",
                "resources": [
                    {
                        "resources": ["secrets"],
                        "providers": [{"secretbox": {"keys": [{"name": "k", "secret": b64(b"x" * 16)}]}}],
                    }
                ],
            },
            "16 bytes",
        ),
    ],
)
def test_bad_configurations_fail_with_one_clear_line(doc, message):
    with pytest.raises(enc.EncryptionError, match=message) as caught:
        enc.parse_config(doc)
    assert isinstance(caught.value, K8sLearnError) and "\n" not in str(caught.value)


def test_wrong_keys_and_missing_keys_fail_clearly():
    value = b"k8s:enc:secretbox:v1:nacl:" + NACL_NONCE + NACL_BOX
    wrong = cfg({"secretbox": {"keys": [{"name": "nacl", "secret": b64(b"w" * 32)}]}})
    with pytest.raises(enc.EncryptionError, match="Poly1305 tag does not match"):
        enc.decrypt(value, wrong)
    other = cfg({"secretbox": {"keys": [{"name": "other", "secret": b64(NACL_KEY)}]}})
    with pytest.raises(enc.EncryptionError, match="no provider in the configuration reads"):
        enc.decrypt(value, other)
    gcm = cfg({"aesgcm": {"keys": [{"name": "nist", "secret": b64(GCM_KEY)}]}})
    with pytest.raises(enc.EncryptionError, match="binds each value to its etcd key"):
        enc.decrypt(b"k8s:enc:aesgcm:v1:nist:" + GCM_IV + GCM_CIPHER + GCM_TAG, gcm)


def test_decode_cli_decrypts_then_decodes(tmp_path, capsys):
    import json

    from k8slearn.cli import main

    key = os.urandom(32)
    nonce = os.urandom(24)
    from nacl.secret import SecretBox

    value = b"k8s:enc:secretbox:v1:k:" + nonce + SecretBox(key).encrypt(_secret_bytes("hunter2"), nonce).ciphertext
    (tmp_path / "v.bin").write_bytes(value + b"\n")  # as `etcdctl get --print-value-only` prints it
    (tmp_path / "enc.yaml").write_text(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
        f"- resources: [secrets]\n  providers:\n  - secretbox:\n      keys: [{{name: k, secret: {b64(key)}}}]\n"
    )
    assert main(["decode", str(tmp_path / "v.bin"), "--encryption-config", str(tmp_path / "enc.yaml")]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["password"] == b64(b"hunter2")
    (tmp_path / "bad.yaml").write_text((tmp_path / "enc.yaml").read_text().replace(b64(key), b64(b"w" * 32)))
    assert main(["decode", str(tmp_path / "v.bin"), "--encryption-config", str(tmp_path / "bad.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("k8slearn: could not decrypt: secretbox") and "Traceback" not in err


def test_unwind_config_puts_identity_first_and_keeps_every_key():
    from k8slearn.lab.encryption import _unwind_config, config

    k = [{"name": n, "secret": b64(bytes([i]) * 32)} for i, n in enumerate(("a", "b", "c"))]
    docs = [
        config({"aescbc": {"keys": [k[0]]}}, {"identity": {}}),
        config({"aescbc": {"keys": [k[1], k[0]]}}, {"secretbox": {"keys": [k[2]]}}, {"identity": {}}),
        config({"kms": {"apiVersion": "v2", "name": "p", "endpoint": "unix:///s"}}, {"identity": {}}),
    ]
    parsed = enc.parse_config(_unwind_config(docs))
    assert parsed.writer == "identity"
    assert [(p.type, [key.name for key in p.keys], p.name) for p in parsed.providers] == [
        ("identity", [], ""),
        ("aescbc", ["a", "b"], ""),
        ("secretbox", ["c"], ""),
        ("kms", [], "p"),
    ]


def test_remember_replays_values_in_order_and_says_when_it_runs_out():
    from k8slearn.errors import NotRecorded
    from k8slearn.lab import Lab

    lab = Lab("replay", "test", "scratch")
    lab._remembered = {"calls": [[1], [1, 2]]}
    assert lab.remember("calls", lambda: 1 / 0) == [1]
    assert lab.remember("calls", lambda: 1 / 0) == [1, 2]
    with pytest.raises(NotRecorded, match="record this notebook again"):
        lab.remember("calls", lambda: 1 / 0)
    lab.close()
