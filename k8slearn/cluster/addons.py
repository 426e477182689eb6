"""kubeadm's CoreDNS add-on, created as API objects on the local control plane.

`kubeadm init` (and so every Kind cluster) ends by applying the CoreDNS add-on: a
ServiceAccount, a ClusterRole and ClusterRoleBinding, a ConfigMap holding the Corefile, a
Deployment and the `kube-dns` Service. The local control plane creates the same six objects
through the API (admin kubeconfig, the official `kubernetes` client), so the apiserver
stores them, the controllers act on them (Deployment → ReplicaSet → Pods, Service →
Endpoints and EndpointSlice) and kwok marks the Pods Running on the fake node.

The facts (names, labels, selector, ports, image, replicas, RBAC rules, Corefile) follow
kubeadm v1.37.2:

- cmd/kubeadm/app/phases/addons/dns/manifests.go  the six manifests
- cmd/kubeadm/app/phases/addons/dns/dns.go        `coreDNSReplicas = 2`; the Service IP
- cmd/kubeadm/app/constants/constants.go          `CoreDNSVersion = "v1.14.6"`, the names
  `coredns`, `GetDNSIP` (the 10th address of the service subnet), the control-plane taint
- cmd/kubeadm/app/images/images.go                the image `registry.k8s.io/coredns/coredns:<tag>`
- cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go  DNS domain `cluster.local`

https://github.com/kubernetes/kubernetes/tree/v1.37.2/cmd/kubeadm/app/phases/addons/dns

What is *not* here: no CoreDNS process runs (kwok only reports the Pods as Running), and
neither kube-proxy nor a CNI plugin is installed, so no Service address routes anywhere and
no name resolves. The objects exist so that the keyspace holds what a kubeadm cluster's holds.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from pathlib import Path

from k8slearn.errors import K8sLearnError

NAMESPACE = "kube-system"
NAME = "coredns"  # ServiceAccount, ConfigMap and Deployment
SERVICE = "kube-dns"
ROLE = "system:coredns"  # ClusterRole and ClusterRoleBinding
REPLICAS = 2  # dns.go: coreDNSReplicas
VERSION = "v1.14.6"  # constants.go: CoreDNSVersion
IMAGE = f"registry.k8s.io/coredns/coredns:{VERSION}"
DNS_DOMAIN = "cluster.local"
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"
APP_LABELS = {"k8s-app": "kube-dns"}


class AddonError(K8sLearnError):
    """An add-on object could not be created, or its Pods did not come up in time."""


def dns_ip(service_cidr: str) -> str:
    """The kube-dns ClusterIP kubeadm picks: the 10th address of the (first) service subnet."""
    net = ipaddress.ip_network(service_cidr.split(",")[0].strip(), strict=False)
    return str(net.network_address + 10)


def corefile(domain: str = DNS_DOMAIN) -> str:
    """The Corefile kubeadm puts in the `coredns` ConfigMap, for cluster domain `domain`."""
    body = [
        "errors",
        "health {",
        "   lameduck 5s",
        "}",
        "ready",
        f"kubernetes {domain} in-addr.arpa ip6.arpa {{",
        "   pods insecure",
        "   fallthrough in-addr.arpa ip6.arpa",
        "   ttl 30",
        "}",
        "prometheus :9153",
        "forward . /etc/resolv.conf {",
        "   max_concurrent 1000",
        "}",
        "cache 30 {",
        f"   disable success {domain}",
        f"   disable denial {domain}",
        "}",
        "loop",
        "reload",
        "loadbalance",
    ]
    return ".:53 {\n" + "".join(f"    {line}\n" for line in body) + "}\n"


def _port(name: str, port: int, protocol: str, container: bool = False) -> dict:
    if container:
        return {"name": name, "containerPort": port, "protocol": protocol}
    return {"name": name, "port": port, "protocol": protocol, "targetPort": port}


def manifests(service_cidr: str = "10.96.0.0/16") -> list[dict]:
    """The six objects, in the order kubeadm creates them (ConfigMap first, Service last)."""
    meta = {"namespace": NAMESPACE}
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": NAME, **meta},
        "data": {"Corefile": corefile()},
    }
    cluster_role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": ROLE},
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["endpoints", "services", "pods", "namespaces"],
                "verbs": ["list", "watch"],
            },
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": ROLE},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE},
        "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
    }
    service_account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": NAME, **meta}}
    container = {
        "name": NAME,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
        "args": ["-conf", "/etc/coredns/Corefile"],
        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}],
        "ports": [
            _port("dns", 53, "UDP", True),
            _port("dns-tcp", 53, "TCP", True),
            _port("metrics", 9153, "TCP", True),
            _port("liveness-probe", 8080, "TCP", True),
            _port("readiness-probe", 8181, "TCP", True),
        ],
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": "liveness-probe", "scheme": "HTTP"},
            "initialDelaySeconds": 60,
            "timeoutSeconds": 5,
            "successThreshold": 1,
            "failureThreshold": 5,
        },
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "readiness-probe", "scheme": "HTTP"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
        },
    }
    anti_affinity = {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 100,
                "podAffinityTerm": {
                    "labelSelector": {
                        "matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]
                    },
                    "topologyKey": "kubernetes.io/hostname",
                },
            }
        ]
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, **meta, "labels": dict(APP_LABELS)},
        "spec": {
            "replicas": REPLICAS,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "selector": {"matchLabels": dict(APP_LABELS)},
            "template": {
                "metadata": {"labels": dict(APP_LABELS)},
                "spec": {
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": NAME,
                    "affinity": {"podAntiAffinity": anti_affinity},
                    "tolerations": [
                        {"key": "CriticalAddonsOnly", "operator": "Exists"},
                        {"key": CONTROL_PLANE_TAINT, "effect": "NoSchedule"},
                    ],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [container],
                    "dnsPolicy": "Default",
                    "volumes": [
                        {
                            "name": "config-volume",
                            "configMap": {"name": NAME, "items": [{"key": "Corefile", "path": "Corefile"}]},
                        }
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": SERVICE,
            **meta,
            "labels": {**APP_LABELS, "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
            "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
        },
        "spec": {
            "clusterIP": dns_ip(service_cidr),
            "ports": [_port("dns", 53, "UDP"), _port("dns-tcp", 53, "TCP"), _port("metrics", 9153, "TCP")],
            "selector": dict(APP_LABELS),
        },
    }
    # dns.go creates the ConfigMap, then RBAC and the ServiceAccount, the Deployment, the Service
    return [config_map, cluster_role, binding, service_account, deployment, service]


def _create(api, obj: dict) -> None:
    from kubernetes import client, utils

    try:
        utils.create_from_dict(api, obj)
    except utils.FailToCreateError as e:
        if not all(isinstance(x, client.ApiException) and x.status == 409 for x in e.api_exceptions):
            raise AddonError(
                f"creating {obj['kind']} {obj['metadata']['name']} failed: {[str(x)[:300] for x in e.api_exceptions]}"
            ) from None


def _settled(api) -> tuple[bool, str]:
    """Pods Running, the Deployment's status caught up, and the Service's endpoints filled."""
    from kubernetes import client

    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    pods = core.list_namespaced_pod(NAMESPACE, label_selector="k8s-app=kube-dns").items
    running = [p for p in pods if p.status is not None and p.status.phase == "Running"]
    dep = apps.read_namespaced_deployment(NAME, NAMESPACE)
    ready = (dep.status.ready_replicas if dep.status else None) or 0
    try:
        ep = core.read_namespaced_endpoints(SERVICE, NAMESPACE)
        addresses = sum(len(s.addresses or []) for s in ep.subsets or [])
    except client.ApiException as e:
        if e.status != 404:
            raise
        addresses = 0
    slices = (
        client.DiscoveryV1Api(api)
        .list_namespaced_endpoint_slice(NAMESPACE, label_selector=f"kubernetes.io/service-name={SERVICE}")
        .items
    )
    slice_eps = sum(len(s.endpoints or []) for s in slices)
    ok = (
        len(pods) == len(running) == ready == addresses == slice_eps == REPLICAS
        and dep.status is not None
        and dep.metadata is not None
        and dep.status.observed_generation == dep.metadata.generation
    )
    return ok, (
        f"{len(running)}/{len(pods)} Pods Running, Deployment ready {ready}/{REPLICAS}, "
        f"Endpoints addresses {addresses}, EndpointSlice endpoints {slice_eps}"
    )


def install(admin_conf: Path, service_cidr: str, log: Callable[[str], None] = print, timeout: float = 90.0) -> None:
    """Create the CoreDNS add-on's objects and wait (at most `timeout` s) until its Pods run."""
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(admin_conf))
    try:
        for obj in manifests(service_cidr):
            _create(api, obj)
        log(f"created kubeadm's CoreDNS add-on objects; waiting for {REPLICAS} Pods on the fake node")
        deadline, last = time.monotonic() + timeout, "not checked yet"
        while time.monotonic() < deadline:
            ok, last = _settled(api)
            if ok:
                return
            time.sleep(0.5)
        raise AddonError(
            f"the CoreDNS add-on did not settle within {timeout:.0f} s ({last}); "
            "see the kube-controller-manager, kube-scheduler and kwok logs"
        )
    finally:
        api.close()
