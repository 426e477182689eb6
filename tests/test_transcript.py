"""HTTP record/replay: redaction before writing, and replay through the official client."""

import base64
import json

import pytest

from k8slearn import transcript


def test_secret_data_is_redacted_in_objects_lists_and_watch_lines():
    secret = {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
        "data": {"password": base64.b64encode(b"hunter2").decode()}, "stringData": {"token": "abc"}}
    one = json.loads(transcript.redact_body(json.dumps(secret).encode()))
    assert one["data"] == {"password": transcript.REDACTED}
    assert one["stringData"] == {"token": "REDACTED"}
    assert "last-applied-configuration" not in one["metadata"]["annotations"]
    lst = {"kind": "SecretList", "items": [dict(secret, kind="Secret")]}
    assert b"aHVudGVyMg" not in transcript.redact_body(json.dumps(lst).encode())
    stream = b"\n".join(json.dumps({"type": "ADDED", "object": secret}).encode() for _ in range(2))
    out = transcript.redact_body(stream)
    assert b"aHVudGVyMg" not in out and out.count(b"\n") == 1


def test_non_secret_bodies_are_untouched():
    body = json.dumps({"kind": "ConfigMap", "data": {"password": "stays"}}).encode()
    assert transcript.redact_body(body) == body


def test_missing_cassette_is_a_clear_error(tmp_path):
    from k8slearn.errors import FixtureMissing

    with pytest.raises(FixtureMissing, match="k8slearn record"):
        transcript.cassette(tmp_path / "nope.yaml", record=False)


def test_record_then_replay_through_the_official_client(tmp_path):
    from kubernetes import client, watch

    from k8slearn.errors import NotRecorded
    from k8slearn.localetcd import LocalEtcd
    from k8slearn.standin import StandIn

    cas = tmp_path / "api.yaml"

    def scenario(api):
        v1 = client.CoreV1Api(api)
        v1.create_namespace({"metadata": {"name": "k8slearn-t"}})
        cm = v1.create_namespaced_config_map("k8slearn-t", {"metadata": {"name": "a"}, "data": {"x": "1"}})
        s = v1.create_namespaced_secret("k8slearn-t", {"metadata": {"name": "s"}, "data": {"p": base64.b64encode(b"hunter2").decode()}})
        events = [(e["type"], e["object"].metadata.name) for e in watch.Watch().stream(
            v1.list_namespaced_config_map, "k8slearn-t", resource_version="0", timeout_seconds=1)]
        return cm.metadata.resource_version, s.metadata.name, events

    with LocalEtcd() as server:
        standin = StandIn(server.client())
        url = standin.start()
        try:
            with transcript.cassette(cas, record=True):
                recorded = scenario(client.ApiClient(client.Configuration(host=url)))
        finally:
            standin.stop()
    assert b"aHVudGVyMg" not in cas.read_bytes(), "Secret data reached the cassette"
    with transcript.cassette(cas, record=False):
        api = transcript.replay_api_client("https://replay.invalid", "t")
        assert scenario(api) == recorded
        with pytest.raises(NotRecorded, match="GET /api/v1/namespaces"):
            client.CoreV1Api(api).list_namespace()
