"""Redaction: one rule for Secrets wherever they appear (API bodies, watch lines, etcd values)."""

import base64
import json

from k8slearn.recording import redact
from k8slearn.storage import codec


def test_a_real_secret_list_is_redacted_though_its_items_carry_no_kind():
    body = json.dumps(
        {
            "kind": "SecretList",
            "apiVersion": "v1",
            "items": [
                {"metadata": {"name": "t", "namespace": "kube-system"}, "data": {"token": "c2VjcmV0"}},
                {"metadata": {"name": "d", "namespace": "k8slearn-02"}, "data": {"demo": "ZGVtbw=="}},
            ],
        }
    ).encode()
    items = json.loads(redact.redact_body(body))["items"]
    assert items[0]["data"] == {"token": redact.REDACTED} and items[1]["data"] == {"demo": "ZGVtbw=="}


def test_recorded_secrets_are_redacted_in_etcd_values_outside_the_curriculum():

    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "team-a"},
        "data": {"password": base64.b64encode(b"hunter2").decode()},
        "type": "Opaque",
    }
    stored = codec.encode(secret)
    assert b"hunter2" in stored  # protobuf keeps Secret bytes as they are
    redacted = redact.redact_stored_value("/registry/secrets/team-a/s", stored)
    assert b"hunter2" not in redacted
    assert codec.decode(redacted).obj["data"] == {"password": base64.b64encode(b"REDACTED").decode()}
    demo = codec.encode(dict(secret, metadata={"name": "s", "namespace": "k8slearn-01"}))
    assert redact.redact_stored_value("/registry/secrets/k8slearn-01/s", demo) == demo  # the curriculum's demo value
    other = codec.encode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}})
    assert redact.redact_stored_value("/registry/configmaps/default/c", other) == other
    encrypted = b"k8s:enc:aescbc:v1:key1:\x00\x01"
    # the curriculum's encryption keys are public demo keys: only the prefix is kept
    assert redact.redact_stored_value("/registry/secrets/a/b", encrypted) == (
        b"k8s:enc:aescbc:v1:key1:" + redact.ENCRYPTED_NOT_RECORDED
    )
    assert redact.redact_stored_value("/registry/secrets/k8slearn-05/b", encrypted) == encrypted  # a demo Secret
