"""Live-mode detection and the guard, against the suite's real kube-apiserver on loopback."""

import pytest

from conftest import LIVE, one_context_kubeconfig
from k8slearn import lab
from k8slearn.cluster import kubeconfig, live

pytestmark = LIVE  # see conftest.LIVE


@pytest.fixture
def kubeconfig_for(tmp_path, monkeypatch, live_url):
    """Write a kubeconfig with one context pointing at the suite's apiserver (TLS unchecked: /version is public)."""
    for var in ("CI", "BINDER_REPO_URL", "BINDER_SERVICE_HOST", "K8SLEARN_MODE", "K8SLEARN_ALLOW_CONTEXT"):
        monkeypatch.delenv(var, raising=False)

    def write(context: str, server: str = live_url):
        monkeypatch.setenv("KUBECONFIG", str(one_context_kubeconfig(tmp_path / "kubeconfig", context, server)))

    return write


def test_auto_goes_live_on_the_local_control_plane(live_url, monkeypatch):
    for var in ("CI", "BINDER_REPO_URL", "BINDER_SERVICE_HOST", "K8SLEARN_MODE", "K8SLEARN_ALLOW_CONTEXT"):
        monkeypatch.delenv(var, raising=False)
    assert kubeconfig.server_of(live.LOCAL_CONTEXT) == live_url
    ctx, why = live.answers()
    assert ctx == live.LOCAL_CONTEXT and "v1.37." in why
    assert lab.resolve_mode("auto")[0] == "live"
    assert live.runtime().name == "local"


def test_auto_goes_live_on_a_kind_context_at_a_loopback_address(kubeconfig_for):
    kubeconfig_for(live.KIND_CONTEXT)
    ctx, why = live.answers()
    assert ctx == live.KIND_CONTEXT and "v1.37." in why


def test_a_local_context_pointing_at_another_apiserver_is_refused(kubeconfig_for):
    kubeconfig_for(live.LOCAL_CONTEXT, "https://127.0.0.1:9")
    ctx, why = live.answers()
    assert ctx is None and "not the local control plane" in why


def test_auto_ignores_a_reachable_cluster_under_another_context(kubeconfig_for):
    kubeconfig_for("my-production")
    assert lab.resolve_mode("auto")[0] == "replay"
    with pytest.raises(live.ClusterRefused):
        live.api_client("my-production")


def test_opting_in_to_another_context(kubeconfig_for, monkeypatch):
    kubeconfig_for("my-dev")
    monkeypatch.setenv("K8SLEARN_ALLOW_CONTEXT", "my-dev")
    ctx, _ = live.answers()
    assert ctx == "my-dev" and live.runtime().name == "other"


def test_curriculum_context_that_does_not_answer_falls_back_to_replay(kubeconfig_for):
    kubeconfig_for(live.KIND_CONTEXT, "https://127.0.0.1:9")  # nothing listens on port 9
    mode, why = lab.resolve_mode("auto")
    assert mode == "replay" and "did not answer" in why
