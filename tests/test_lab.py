"""connect(): mode selection, the cluster guard, and failures that explain themselves."""

import pytest

from k8slearn import lab
from k8slearn.cluster import live
from k8slearn.errors import ClusterRefused, ClusterUnreachable, K8sLearnError


@pytest.fixture
def no_cluster(monkeypatch, tmp_path):
    for var in ("CI", "BINDER_REPO_URL", "BINDER_SERVICE_HOST", "K8SLEARN_MODE", "K8SLEARN_ALLOW_CONTEXT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))


def test_auto_is_replay_in_ci_and_on_binder(no_cluster, monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert lab.resolve_mode("auto") == ("replay", "running in CI (CI is set)")
    monkeypatch.delenv("CI")
    monkeypatch.setenv("BINDER_REPO_URL", "https://github.com/x/y")
    assert lab.resolve_mode("auto")[0] == "replay"
    monkeypatch.setenv("K8SLEARN_MODE", "live")
    assert lab.resolve_mode("auto") == ("live", "K8SLEARN_MODE=live")


def test_auto_without_cluster_replays_and_says_why(no_cluster):
    mode, why = lab.resolve_mode("auto")
    assert mode == "replay" and "kind-k8slearn" in why


def test_unknown_mode_is_refused(no_cluster):
    with pytest.raises(K8sLearnError, match="mode must be one of"):
        lab.connect("sideways")


def test_live_without_cluster_fails_with_advice(no_cluster):
    with pytest.raises(ClusterUnreachable, match="k8slearn cluster up"):
        lab.connect("live", notebook="00-preflight")


def test_guard_refuses_foreign_namespaces():
    assert live.guard_namespace("k8slearn-rv") == "k8slearn-rv"
    for bad in ("default", "kube-system", "k8slearn"):
        with pytest.raises(ClusterRefused):
            live.guard_namespace(bad)


def test_kubeconfig_with_other_context_is_not_used(no_cluster, monkeypatch, tmp_path):
    cfg = tmp_path / "config"
    cfg.write_text("""apiVersion: v1
kind: Config
clusters: [{name: prod, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: prod, context: {cluster: prod, user: u}}]
current-context: prod
""")
    monkeypatch.setenv("KUBECONFIG", str(cfg))
    ctx, why = live.answers()
    assert ctx is None and "k8slearn-local" in why and "kind-k8slearn" in why
    with pytest.raises(ClusterRefused):
        live.api_client("prod")


def test_replay_of_an_unknown_notebook_names_the_fix(no_cluster):
    from k8slearn.errors import FixtureMissing

    with pytest.raises(FixtureMissing, match="k8slearn record"):
        lab.connect("replay", notebook="99-not-a-notebook")


def test_replay_answers_what_was_recorded_and_refuses_the_rest(no_cluster):
    from kubernetes import client

    from k8slearn.errors import NotRecorded

    lb = lab.connect("replay", notebook="00-preflight")
    try:
        assert lb.mode == "replay" and lb.source["provenance"] == "recorded"
        info = client.VersionApi(lb.api).get_code()
        assert info.git_version == lb.cluster["kubernetes_version"]
        with pytest.raises(NotRecorded, match="k8slearn record"):
            client.CoreV1Api(lb.api).list_namespaced_secret("kube-system")
        # the replayed etcd holds the recorded keyspace at its recorded revisions
        from k8slearn.cluster.etcd import Etcd

        keys = Etcd(lb.etcd.client).keys()  # unpinned: 00-preflight itself makes no etcd read
        assert keys and all(k.startswith("/registry/") for k in keys)
    finally:
        lb.close()


def test_expect_error_requires_an_error():
    with lab.Lab.expect_error(ValueError) as caught:
        raise ValueError("boom")
    assert isinstance(caught.error, ValueError)
    with pytest.raises(AssertionError, match="nothing was raised"):
        with lab.Lab.expect_error(ValueError):
            pass
    with pytest.raises(KeyError):
        with lab.Lab.expect_error(ValueError):
            raise KeyError("other errors pass through")


def test_selfcheck_verdicts(capsys):
    import k8slearn

    assert bool(k8slearn.selfcheck(3, 3)) is True
    assert bool(k8slearn.selfcheck(None, 3)) is False and "Not answered" in capsys.readouterr().out
    assert bool(k8slearn.selfcheck(4, 3, hint="count")) is False and "count" in capsys.readouterr().out
    assert bool(k8slearn.selfcheck([1, 2], (1, 2))) is True
    assert k8slearn.selfcheck(1.0, 1.0 + 1e-12) == True  # noqa: E712 - a Verdict compares like a bool


def test_auto_falls_back_to_replay_when_live_cannot_start(no_cluster, monkeypatch):
    """A curriculum cluster that answers /version but whose etcd cannot be reached (a Kind
    cluster with the Docker engine stopped, say): auto replays and says why; live fails."""
    from k8slearn import lab as labmod
    from k8slearn.cluster import live as livemod

    class Broken(livemod.Runtime):
        def etcd_client(self):
            raise K8sLearnError("no Docker engine answers")

    monkeypatch.setattr(labmod, "resolve_mode", lambda mode: ("live", "context 'kind-k8slearn' answered"))
    monkeypatch.setattr(livemod, "runtime", lambda: Broken("kind", "kind-k8slearn"))
    monkeypatch.setattr(Broken, "api_client", lambda self: None)
    monkeypatch.setattr(Broken, "facts", lambda self, api: {})
    with pytest.raises(K8sLearnError, match="no Docker engine"):
        labmod.connect("live", notebook="00-preflight")
    lb = labmod.connect("auto", notebook="00-preflight")
    try:
        assert lb.mode == "replay" and "no Docker engine answers" in lb.reason
    finally:
        lb.close()
