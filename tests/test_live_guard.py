"""Live-mode detection against a real HTTP API (the stand-in on loopback, a real etcd).

No Kind cluster can run on the project's machines; these tests check the parts of live mode
that do not need Docker: finding the curriculum context, answering /version, and the guard.
"""

import pytest

from k8slearn import kind, lab
from k8slearn.localetcd import LocalEtcd
from k8slearn.standin import StandIn


@pytest.fixture
def kubeconfig_for(tmp_path, monkeypatch):
    for var in ("CI", "BINDER_REPO_URL", "BINDER_SERVICE_HOST", "K8SLEARN_MODE", "K8SLEARN_ALLOW_CONTEXT"):
        monkeypatch.delenv(var, raising=False)

    def write(context: str, server: str):
        cfg = tmp_path / "kubeconfig"
        cfg.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{server}"}}}}]
users: [{{name: u, user: {{}}}}]
contexts: [{{name: {context}, context: {{cluster: c, user: u}}}}]
current-context: {context}
""")
        monkeypatch.setenv("KUBECONFIG", str(cfg))

    return write


@pytest.fixture(scope="module")
def api_server():
    from k8slearn.record import constructed_version_info

    with LocalEtcd() as server:
        standin = StandIn(server.client(), version_info=constructed_version_info("v1.35.0"))
        yield standin.start()
        standin.stop()


def test_auto_goes_live_when_the_curriculum_context_answers(kubeconfig_for, api_server):
    kubeconfig_for("kind-k8slearn", api_server)
    ok, why = kind.answers()
    assert ok and "v1.35.0" in why
    assert lab.resolve_mode("auto")[0] == "live"


def test_auto_ignores_a_reachable_cluster_under_another_context(kubeconfig_for, api_server):
    kubeconfig_for("my-production", api_server)
    assert lab.resolve_mode("auto")[0] == "replay"
    with pytest.raises(kind.ClusterRefused):
        kind.api_client("my-production")


def test_opting_in_to_another_context(kubeconfig_for, api_server, monkeypatch):
    kubeconfig_for("my-dev", api_server)
    monkeypatch.setenv("K8SLEARN_ALLOW_CONTEXT", "my-dev")
    assert kind.answers()[0] is True


def test_curriculum_context_that_does_not_answer_falls_back_to_replay(kubeconfig_for):
    kubeconfig_for("kind-k8slearn", "http://127.0.0.1:9")  # nothing listens on port 9
    mode, why = lab.resolve_mode("auto")
    assert mode == "replay" and "did not answer" in why


def test_recorded_secrets_are_redacted_in_etcd_values():
    import base64

    from k8slearn import codec
    from k8slearn.record import redact_value

    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "k8slearn-x"},
              "data": {"password": base64.b64encode(b"hunter2").decode()}, "type": "Opaque"}
    stored = codec.encode(secret)
    assert b"hunter2" in stored  # protobuf keeps Secret bytes as they are
    redacted = redact_value("/registry/secrets/k8slearn-x/s", stored)
    assert b"hunter2" not in redacted
    assert codec.decode(redacted).obj["data"] == {"password": base64.b64encode(b"REDACTED").decode()}
    other = codec.encode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}})
    assert redact_value("/registry/configmaps/default/c", other) == other
    assert b"k8s:enc" not in redact_value("/registry/secrets/a/b", b"k8s:enc:aescbc:v1:key1:\x00\x01")
