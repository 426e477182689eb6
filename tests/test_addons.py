"""The CoreDNS add-on objects the local control plane creates (offline: no cluster needed)."""

from __future__ import annotations

from k8slearn.cluster import addons


def test_dns_ip_is_the_tenth_address_of_the_service_subnet():
    assert addons.dns_ip("10.96.0.0/16") == "10.96.0.10"
    assert addons.dns_ip("10.100.0.0/12,fd00::/108") == "10.96.0.10"  # first family, network address + 10
    assert addons.dns_ip("fd00:10:96::/112") == "fd00:10:96::a"


def test_six_objects_in_kubeadms_order():
    objs = addons.manifests()
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("ConfigMap", "coredns"),
        ("ClusterRole", "system:coredns"),
        ("ClusterRoleBinding", "system:coredns"),
        ("ServiceAccount", "coredns"),
        ("Deployment", "coredns"),
        ("Service", "kube-dns"),
    ]
    assert all(o["metadata"].get("namespace") in (None, "kube-system") for o in objs)


def test_service_and_deployment_agree():
    by_kind = {o["kind"]: o for o in addons.manifests("10.96.0.0/16")}
    svc, dep = by_kind["Service"], by_kind["Deployment"]
    assert svc["spec"]["clusterIP"] == "10.96.0.10"
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
        ("metrics", 9153, "TCP"),
    ]
    assert (
        svc["spec"]["selector"]
        == dep["spec"]["selector"]["matchLabels"]
        == dep["spec"]["template"]["metadata"]["labels"]
    )
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert dep["spec"]["replicas"] == 2 and container["image"] == "registry.k8s.io/coredns/coredns:v1.14.6"
    exposed = {(p["name"], p["containerPort"], p["protocol"]) for p in container["ports"]}
    assert {(p["name"], p["targetPort"], p["protocol"]) for p in svc["spec"]["ports"]} <= exposed
    assert dep["spec"]["template"]["spec"]["serviceAccountName"] == by_kind["ServiceAccount"]["metadata"]["name"]
    binding = by_kind["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == by_kind["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}]


def test_corefile_serves_the_cluster_domain():
    text = addons.corefile("cluster.local")
    assert text.startswith(".:53 {\n") and text.endswith("}\n")
    assert "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n" in text
    assert "       disable success cluster.local\n" in text and "    prometheus :9153\n" in text
    assert text.count("{") == text.count("}")
