"""HTTP record/replay: redaction before writing, and replay through the official client."""

import base64
import json

import pytest

from conftest import LIVE
from k8slearn.recording import redact, transcript


def test_secret_data_is_redacted_in_objects_lists_and_watch_lines():
    secret = {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {
            "name": "s",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"aHVudGVyMg=="}}'},
        },
        "data": {"password": base64.b64encode(b"hunter2").decode()},
        "stringData": {"token": "abc"},
    }
    one = json.loads(redact.redact_body(json.dumps(secret).encode()))
    assert one["data"] == {"password": redact.REDACTED}
    assert one["stringData"] == {"token": "REDACTED"}
    assert "last-applied-configuration" not in one["metadata"]["annotations"]
    lst = {"kind": "SecretList", "items": [dict(secret, kind="Secret")]}
    assert b"aHVudGVyMg" not in redact.redact_body(json.dumps(lst).encode())
    stream = b"\n".join(json.dumps({"type": "ADDED", "object": secret}).encode() for _ in range(2))
    out = redact.redact_body(stream)
    assert b"aHVudGVyMg" not in out and out.count(b"\n") == 1


def test_non_secret_bodies_are_untouched():
    body = json.dumps({"kind": "ConfigMap", "data": {"password": "stays"}}).encode()
    assert redact.redact_body(body) == body


def test_missing_cassette_is_a_clear_error(tmp_path):
    from k8slearn.errors import FixtureMissing

    with pytest.raises(FixtureMissing, match="k8slearn record"):
        transcript.cassette(tmp_path / "nope.yaml", record=False)


@LIVE
def test_record_then_replay_through_the_official_client(tmp_path, live_api):
    """A cassette recorded from the real kube-apiserver answers the same calls the same way."""
    import uuid

    from kubernetes import client, watch

    from k8slearn.errors import NotRecorded

    cas = tmp_path / "api.yaml"
    ns = f"k8slearn-t-{uuid.uuid4().hex[:6]}"

    def scenario(api):
        v1 = client.CoreV1Api(api)
        v1.create_namespace({"metadata": {"name": ns}})
        cm = v1.create_namespaced_config_map(ns, {"metadata": {"name": "a"}, "data": {"x": "1"}})
        s = v1.create_namespaced_secret(
            ns, {"metadata": {"name": "s"}, "data": {"p": base64.b64encode(b"demo-value").decode()}}
        )
        events = [
            (e["type"], e["object"].metadata.name)
            for e in watch.Watch().stream(v1.list_namespaced_config_map, ns, resource_version="0", timeout_seconds=1)
        ]
        v1.delete_namespace(ns)
        return cm.metadata.resource_version, s.data, events

    with transcript.cassette(cas, record=True):
        recorded = scenario(live_api)
    # kube-root-ca.crt comes from kube-controller-manager, soon after the namespace but not at once
    assert recorded[2] and "a" in {n for _, n in recorded[2]} <= {"a", "kube-root-ca.crt"}
    text = cas.read_text()
    assert "127.0.0.1" not in text, "the server's address reached the cassette"
    assert base64.b64encode(b"demo-value").decode() in text, "a curriculum demo Secret is kept"
    with transcript.cassette(cas, record=False):
        api = transcript.replay_api_client("https://replay.invalid", "t")
        assert scenario(api) == recorded
        with pytest.raises(NotRecorded, match="GET /api/v1/namespaces"):
            client.CoreV1Api(api).list_namespace()


def test_secrets_outside_the_curriculum_namespaces_are_redacted():
    secret = {
        "kind": "Secret",
        "metadata": {"name": "token", "namespace": "kube-system"},
        "data": {"token": base64.b64encode(b"real-credential").decode()},
    }
    demo = dict(secret, metadata={"name": "demo", "namespace": "k8slearn-01"})
    body = json.dumps({"kind": "SecretList", "items": [secret, demo]}).encode()
    out = json.loads(redact.redact_body(body))
    assert out["items"][0]["data"] == {"token": redact.REDACTED}
    assert out["items"][1]["data"] == demo["data"]
    event = json.dumps({"type": "ADDED", "object": secret}).encode()
    assert b"real-credential" not in redact.redact_body(event)
