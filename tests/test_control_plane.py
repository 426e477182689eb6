"""The local control plane: its parts offline, and what the real kube-apiserver does, live.

The live tests run on the suite's own control plane (tests/with_control_plane.py) and skip,
saying why, when it is not built; CI makes them mandatory (K8SLEARN_REQUIRE_LIVE=1).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import LIVE, one_context_kubeconfig, raw_get
from k8slearn.cluster import binaries, kubeconfig, live, local, pki
from k8slearn.errors import ClusterRefused, K8sLearnError

pytestmark = LIVE  # see conftest.LIVE

# ------------------------------------------------------------------ offline


def test_pinned_versions_come_from_the_go_modules():
    v = binaries.versions()
    assert v["kubernetes"].startswith("v1.37.") and v["etcd"].startswith("v3.7.") and v["kwok"].startswith("v0.")
    text = (binaries.MODULES / "kubernetes" / "go.mod").read_text()
    # every staging module is replaced by its published release of the same minor: one release throughout
    replaced = {line.split()[0]: line.split()[-1] for line in text.splitlines() if "=>" in line}
    assert len(replaced) >= 30
    minor = v["kubernetes"].split(".")[1]
    assert all(ver == f"v0.{minor}.{v['kubernetes'].split('.')[2]}" for ver in replaced.values()), replaced


@pytest.mark.parametrize(
    "text, want, ok",
    [
        ("Kubernetes v1.37.2", "v1.37.2", True),
        ("Kubernetes v1.37.20", "v1.37.2", False),
        ("etcd Version: 3.7.0", "v3.7.0", True),
        ("etcd Version: 3.5.1", "v3.7.0", False),
        ("Client Version: v1.36.2", "v1.37.2", False),
    ],
)
def test_version_matching(text, want, ok):
    assert binaries._matches(text, want) is ok


def test_a_learners_binary_at_another_version_is_not_used(tmp_path, monkeypatch):
    fake = tmp_path / "kube-apiserver"
    fake.write_text("#!/bin/sh\necho 'Kubernetes v1.30.0'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("K8SLEARN_BIN_DIR", str(tmp_path))
    monkeypatch.setenv("K8SLEARN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    assert binaries.find("kube-apiserver") is None
    fake.write_text(f"#!/bin/sh\necho 'Kubernetes {binaries.versions()['kubernetes']}'\n")
    found = binaries.find("kube-apiserver")
    assert found and found.source == "K8SLEARN_BIN_DIR"
    with pytest.raises(K8sLearnError, match="cluster build"):
        binaries.require("kube-scheduler")


def test_missing_go_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(binaries.ToolchainMissing, match="Go is not installed"):
        binaries.build()


def test_pki_chains_and_names(tmp_path):
    out = pki.generate(tmp_path / "pki")
    from cryptography import x509

    def load(p):
        return x509.load_pem_x509_certificate(Path(p).read_bytes())

    api = load(out["apiserver"].cert)
    assert api.issuer == load(out["ca"].cert).subject
    sans = api.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "kubernetes.default.svc.cluster.local" in sans.get_values_for_type(x509.DNSName)
    assert load(out["etcd-server"].cert).issuer == load(out["etcd-ca"].cert).subject
    admin = load(out["admin"].cert).subject
    assert admin.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    for pair in out.values():
        assert oct(pair.key.stat().st_mode & 0o777) == "0o600"


def test_kubeconfig_merge_and_remove_keep_other_entries(tmp_path, monkeypatch):
    cfg = tmp_path / "config"
    cfg.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "mine",
                "clusters": [{"name": "mine", "cluster": {"server": "https://example.invalid"}}],
                "users": [{"name": "mine", "user": {}}],
                "contexts": [{"name": "mine", "context": {"cluster": "mine", "user": "mine"}}],
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(cfg))
    p = pki.generate(tmp_path / "pki")
    kubeconfig.merge("k8slearn-local", "https://127.0.0.1:1234", p["ca"].cert, p["admin"].cert, p["admin"].key)
    doc = yaml.safe_load(cfg.read_text())
    assert {c["name"] for c in doc["contexts"]} == {"mine", "k8slearn-local"}
    assert doc["current-context"] == "k8slearn-local"
    assert kubeconfig.server_of("k8slearn-local") == "https://127.0.0.1:1234"
    assert oct(cfg.stat().st_mode & 0o777) == "0o600"
    assert kubeconfig.remove("k8slearn-local")
    doc = yaml.safe_load(cfg.read_text())
    assert [c["name"] for c in doc["contexts"]] == ["mine"] and doc["current-context"] == ""
    assert not kubeconfig.remove("k8slearn-local")


def _kubeconfig(tmp_path, monkeypatch, context, server):
    cfg = one_context_kubeconfig(tmp_path / "kubeconfig", context, server)
    monkeypatch.setenv("KUBECONFIG", str(cfg))
    monkeypatch.delenv("K8SLEARN_ALLOW_CONTEXT", raising=False)


def test_guard_refuses_a_curriculum_name_pointing_elsewhere(tmp_path, monkeypatch):
    _kubeconfig(tmp_path, monkeypatch, "kind-k8slearn", "https://10.0.0.8:6443")
    with pytest.raises(ClusterRefused, match="loopback"):
        live.guard_context("kind-k8slearn")
    _kubeconfig(tmp_path, monkeypatch, "k8slearn-local", "https://127.0.0.1:1")
    monkeypatch.setenv("K8SLEARN_STATE_DIR", str(tmp_path / "no-state"))
    with pytest.raises(ClusterRefused, match="not the local control plane"):
        live.guard_context("k8slearn-local")
    with pytest.raises(ClusterRefused, match="K8SLEARN_ALLOW_CONTEXT=prod"):
        live.guard_context("prod")
    monkeypatch.setenv("K8SLEARN_ALLOW_CONTEXT", "prod")
    assert live.guard_context("prod") == "prod"
    with pytest.raises(ClusterRefused):
        live.guard_context("k8slearn-local")  # opting into one context does not open the others


def test_a_stale_control_plane_is_found_and_cleaned(tmp_path, monkeypatch):
    monkeypatch.setenv("K8SLEARN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    dead = subprocess.Popen(["true"])
    dead.wait()
    d = tmp_path / "state"
    (d / "logs").mkdir(parents=True)
    (d / "logs" / "kube-apiserver.log").write_text("E1203 first\nF1203 the last words of a dead apiserver\n")
    state = {"dir": str(d), "api": "https://127.0.0.1:1", "pids": {"kube-apiserver": dead.pid}, "ports": {}}
    (d / "state.json").write_text(json.dumps(state))
    ok, why = local.healthy()
    assert not ok and "stale" in why and "kube-apiserver" in why
    with pytest.raises(local.LocalClusterError, match="the last words of a dead apiserver"):
        local._wait("kube-apiserver", lambda: (False, ""), state, "kube-apiserver", 5)
    assert local.down(log=lambda m: None) and not d.exists()
    assert not local.down(log=lambda m: None)


def test_status_without_a_control_plane_says_how_to_start_one(tmp_path, monkeypatch):
    monkeypatch.setenv("K8SLEARN_STATE_DIR", str(tmp_path / "none"))
    st = local.status()
    assert st["running"] is False and "cluster up --runtime local" in st["why"]


# ------------------------------------------------------------------ live, on the real kube-apiserver


@pytest.fixture
def ns(live_api):
    from kubernetes import client

    name = f"k8slearn-test-{uuid.uuid4().hex[:6]}"
    v1 = client.CoreV1Api(live_api)
    v1.create_namespace({"metadata": {"name": name}})
    deadline = time.monotonic() + 30  # kube-controller-manager's root-ca-cert-publisher adds kube-root-ca.crt
    while time.monotonic() < deadline and not v1.list_namespaced_config_map(name).items:
        time.sleep(0.2)
    yield name
    v1.delete_namespace(name)


def test_version_is_stamped(live_api):
    from kubernetes import client

    v = client.VersionApi(live_api).get_code()
    assert v.git_version == binaries.versions()["kubernetes"]
    assert v.git_tree_state == "archive" and v.go_version.startswith("go1.")


def test_the_fake_node_is_ready_and_renews_its_lease(live_api):
    from kubernetes import client

    node = client.CoreV1Api(live_api).read_node(local.NODE)
    assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
    lease = client.CoordinationV1Api(live_api).read_namespaced_lease(local.NODE, "kube-node-lease")
    first = lease.spec.renew_time
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(2)
        lease = client.CoordinationV1Api(live_api).read_namespaced_lease(local.NODE, "kube-node-lease")
        if lease.spec.renew_time != first:
            break
    assert lease.spec.renew_time > first, "kwok did not renew the node's Lease within 60 s"


def test_resource_version_is_the_keys_mod_revision(live_api, live_etcd, ns):
    from kubernetes import client

    v1 = client.CoreV1Api(live_api)
    for i in range(3):
        v1.create_namespaced_config_map(ns, {"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})
    v1.patch_namespaced_config_map("cm-1", ns, {"data": {"i": "one"}})
    items = v1.list_config_map_for_all_namespaces().items
    assert len(items) >= 3
    for cm in items:
        kv = live_etcd.get(f"/registry/configmaps/{cm.metadata.namespace}/{cm.metadata.name}")
        assert kv is not None and int(cm.metadata.resource_version) == kv.mod_revision, cm.metadata.name


def test_409_comes_with_the_registrys_message(live_api, ns):
    from kubernetes import client

    v1 = client.CoreV1Api(live_api)
    cm = v1.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    v1.patch_namespaced_config_map("c", ns, {"data": {"a": "2"}})
    stale = {"metadata": {"name": "c", "resourceVersion": cm.metadata.resource_version}, "data": {"a": "3"}}
    with pytest.raises(client.ApiException) as e:
        v1.replace_namespaced_config_map("c", ns, stale)
    body = json.loads(e.value.body)
    assert e.value.status == 409 and body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on configmaps "c": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_410_from_the_watch_cache_is_an_error_event(live_api, ns):
    """After kube-apiserver restarts, its watch cache starts at the current revision: a watch from
    an older resourceVersion gets HTTP 200 and one ERROR event carrying a 410 Status."""
    state = local.load_state()
    local.restart_apiserver(local.Options(**state["options"]), log=lambda m: None)
    api = live.api_client(live.LOCAL_CONTEXT)  # new connections: the old ones died with the process
    code, data = raw_get(
        api,
        f"/api/v1/namespaces/{ns}/configmaps",
        [("watch", "true"), ("resourceVersion", "1"), ("timeoutSeconds", "5")],
    )
    lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    assert code == 200 and [e["type"] for e in lines] == ["ERROR"], lines[:2]
    status = lines[0]["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith("too old resource version: 1 (")


def test_a_watch_list_stream_ends_its_initial_events_with_an_annotated_bookmark(live_api, ns):
    from kubernetes import client

    v1 = client.CoreV1Api(live_api)
    for i in range(3):
        v1.create_namespaced_config_map(ns, {"metadata": {"name": f"w-{i}"}})
    code, data = raw_get(
        live_api,
        f"/api/v1/namespaces/{ns}/configmaps",
        [
            ("watch", "true"),
            ("sendInitialEvents", "true"),
            ("resourceVersionMatch", "NotOlderThan"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", "3"),
        ],
    )
    assert code == 200
    events = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    types = [e["type"] for e in events]
    bookmark = next(
        i
        for i, e in enumerate(events)
        if e["type"] == "BOOKMARK"
        and e["object"]["metadata"].get("annotations", {}).get("k8s.io/initial-events-end") == "true"
    )
    # the namespace's kube-root-ca.crt ConfigMap plus our three, all before the bookmark
    assert types[:bookmark] == ["ADDED"] * 4 and bookmark == 4
    names = {e["object"]["metadata"]["name"] for e in events[:bookmark]}
    assert names == {"kube-root-ca.crt", "w-0", "w-1", "w-2"}


def test_every_stored_value_decodes_to_the_apis_json(live_api, live_etcd):
    """Each value under /registry that k8slearn's codec decodes equals GET of that object (JSON).

    Values the built-in schema has no type for are counted and must stay few; the full set
    of types is the "codec" issue's (schema fetch).
    """
    from k8slearn.storage import codec
    from k8slearn.storage import keys as keymod

    checked, mismatched, unknown, unserved = 0, [], [], []
    for kv in live_etcd.range("/registry/"):
        k = keymod.parse(kv.key)
        if k.special or not k.name:
            continue  # not an API object (ranges, masterleases, compact_rev_key)
        try:
            decoded = codec.decode(kv.value)
        except codec.DecodeError:
            unknown.append(kv.key)
            continue
        if decoded.raw_tree is not None:
            unknown.append(kv.key)  # a protobuf type the built-in schema does not know
            continue
        stored = decoded.obj
        gv = stored.get("apiVersion", "")
        base = f"/api/{gv}" if "/" not in gv else f"/apis/{gv}"
        path = (
            f"{base}/namespaces/{k.namespace}/{k.resource}/{k.name}" if k.namespace else f"{base}/{k.resource}/{k.name}"
        )
        code, data = raw_get(live_api, path)
        if code == 404:
            unserved.append(kv.key)  # deleted since, or stored at a version the API no longer serves
            continue
        api = json.loads(data)
        if int(api["metadata"]["resourceVersion"]) != kv.mod_revision:
            continue  # changed between the two reads
        api["metadata"].pop("resourceVersion")
        stored.get("metadata", {}).pop("resourceVersion", None)
        checked += 1
        if stored != api:
            mismatched.append(kv.key)
    print(
        f"{checked} values equal to the API's JSON; {len(unknown)} without a built-in schema; "
        f"{len(unserved)} not served at their stored version"
    )
    assert checked >= 50, (checked, unknown)
    assert not mismatched, mismatched


def test_up_twice_keeps_the_running_control_plane(live_url):
    state = local.load_state()
    again = local.up(local.Options(**state["options"]), log=lambda m: None)
    assert again["api"] == live_url and again["pids"] == state["pids"]


def test_status_json_names_everything_a_learner_needs(live_url):
    out = subprocess.run(
        [str(Path(os.sys.executable).parent / "k8slearn"), "cluster", "status", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    st = json.loads(out.stdout)
    assert st["running"] and st["api"] == live_url and st["context"] == "k8slearn-local"
    assert st["etcd"]["endpoint"].startswith("https://127.0.0.1:")
    assert all(Path(st["etcd"][k]).is_file() for k in ("cacert", "cert", "key"))
    assert set(st["processes"]) == set(local.ORDER)
    for name, p in st["processes"].items():
        assert p["alive"] and p["pid"] > 0 and p["rss_bytes"] > 0, name
    assert "v1.37.2" in st["processes"]["kube-apiserver"]["version"]
    assert "3.7.0" in st["processes"]["etcd"]["version"]
    total = sum(p["rss_bytes"] for p in st["processes"].values())
    print(f"control plane RSS now: {total / 2**20:.0f} MiB")


def test_etcdctl_reads_what_the_apiserver_wrote(live_url):
    """The real etcdctl, with the endpoint and client certificate `status` names."""
    st = local.status()
    out = subprocess.run(
        [
            st["etcdctl"],
            f"--endpoints={st['etcd']['endpoint']}",
            f"--cacert={st['etcd']['cacert']}",
            f"--cert={st['etcd']['cert']}",
            f"--key={st['etcd']['key']}",
            "get",
            "/registry/namespaces/default",
            "--print-value-only",
        ],
        capture_output=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    from k8slearn.storage import codec

    assert out.stdout.startswith(b"k8s\x00")
    assert codec.decode(out.stdout[:-1]).obj["metadata"]["name"] == "default"  # etcdctl adds one newline
