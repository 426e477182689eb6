"""What a freshly created Kind cluster keeps in etcd — constructed, deterministic, pure data.

:func:`fresh_cluster` returns the objects kube-apiserver stores for a new
single-node Kind cluster, as JSON-ready dicts shaped the way the apiserver
holds them (no ``resourceVersion``, no ``selfLink``; ``managedFields`` as the
real components write them), in the order they would be written. It is
*restricted* to the types the project's built-in protobuf schemas cover:
ConfigMap, Namespace, Service, Endpoints, EndpointSlice, ServiceAccount,
Lease, Event, Role/ClusterRole/RoleBinding/ClusterRoleBinding, PriorityClass
and RangeAllocation, plus the plain-text ``compact_rev_key``. Everything else
a real cluster holds is listed in :data:`OMITTED` with the reason.

This is a *constructed* fixture, never a measurement: names, uids, hashes and
timestamps are derived deterministically; certificate fields hold an obvious
placeholder, never key material. Where an object's contents are abbreviated
(long component configs) the Entry's ``note`` says so. :data:`SOURCES` lists
where each shape comes from.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from . import keys

__all__ = ["Entry", "KindStateError", "fresh_cluster", "OMITTED", "SOURCES", "COVERED_KINDS",
           "CA_PLACEHOLDER"]


class KindStateError(ValueError):
    """Bad arguments to :func:`fresh_cluster` (e.g. an unparsable Kubernetes version)."""


@dataclass(frozen=True)
class Entry:
    """One etcd key of the constructed keyspace.

    Exactly one of ``obj`` (an API object, JSON-ready) and ``text`` (a plain
    value, only ``compact_rev_key``) is set. ``lease_ttl`` is the etcd lease
    TTL in seconds the apiserver attaches (Events, master leases), else None.
    """

    key: str
    obj: dict | None
    text: str | None
    lease_ttl: int | None
    note: str


COVERED_KINDS = frozenset({
    "ConfigMap", "Secret", "Namespace", "Service", "Endpoints", "EndpointSlice",
    "ServiceAccount", "Lease", "Event", "Role", "ClusterRole", "RoleBinding",
    "ClusterRoleBinding", "PriorityClass", "RangeAllocation",
})

CA_PLACEHOLDER = (
    "k8slearn constructed fixture: placeholder for the cluster CA certificate (PEM). "
    "No real certificate or key material is stored here.\n")

# kube-apiserver --event-ttl default 1h0m0s; the etcd lease it asks for is a little longer,
# TTL + the lease-reuse duration (60 s here), so that one lease can be shared by events
# written over a short while: staging/src/k8s.io/apiserver/pkg/storage/etcd3/lease_manager.go
_EVENT_TTL = 3600 + 60
_MASTERLEASE_TTL = 15  # DefaultEndpointReconcilerTTL = 15 * time.Second
_BASE_TIME = datetime(2026, 1, 15, 9, 0, 0, tzinfo=timezone.utc)
_NODE_IP = "172.18.0.2"  # first container on Kind's docker network "kind"
_RBAC = "rbac.authorization.k8s.io"

SOURCES: list[tuple[str, str]] = [
    ("etcd key layout (see k8slearn.keys)",
     "https://github.com/kubernetes/kubernetes/blob/master/pkg/kubeapiserver/default_storage_factory_builder.go"),
    ("system namespaces created by kube-apiserver",
     "https://github.com/kubernetes/kubernetes/blob/master/pkg/controlplane/apiserver/server.go"),
    ("bootstrap RBAC ClusterRoles (golden file)",
     "https://github.com/kubernetes/kubernetes/blob/master/plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/cluster-roles.yaml"),
    ("bootstrap RBAC ClusterRoleBindings (golden file)",
     "https://github.com/kubernetes/kubernetes/blob/master/plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/cluster-role-bindings.yaml"),
    ("bootstrap RBAC namespaced Roles/RoleBindings (golden files)",
     "https://github.com/kubernetes/kubernetes/blob/master/plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/namespace-roles.yaml"),
    ("system:discovery / system:basic-user bound to system:authenticated only (KEP-789)",
     "https://www.kubernetes.dev/resources/keps/789/"),
    ("system PriorityClasses",
     "https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/scheduling/types.go"),
    ("kubernetes Service / Endpoints / EndpointSlice reconciler",
     "https://github.com/kubernetes/kubernetes/blob/master/pkg/controlplane/reconcilers/endpointsadapter.go"),
    ("master leases (/masterleases/<ip>, Endpoints value, 15 s TTL)",
     "https://github.com/kubernetes/kubernetes/blob/master/pkg/controlplane/reconcilers/lease.go"),
    ("apiserver identity Lease (name = apiserver-<base32(sha256)>, labels)",
     "https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/apiserver/pkg/server/config.go"),
    ("range allocators (/ranges/serviceips, /ranges/servicenodeports)",
     "https://github.com/kubernetes/kubernetes/blob/master/pkg/registry/core/rest/storage_core.go"),
    ("MultiCIDRServiceAllocator / DisableAllocatorDualWrite defaults",
     "https://github.com/kubernetes/kubernetes/blob/master/pkg/features/kube_features.go"),
    ("kubeadm upload-config (kubeadm-config, kubelet-config, roles)",
     "https://github.com/kubernetes/kubernetes/blob/master/cmd/kubeadm/app/phases/uploadconfig/uploadconfig.go"),
    ("kubeadm cluster-info and its RBAC",
     "https://github.com/kubernetes/kubernetes/blob/master/cmd/kubeadm/app/phases/bootstraptoken/clusterinfo/clusterinfo.go"),
    ("kubeadm CoreDNS addon manifests (Service, ConfigMap, RBAC)",
     "https://github.com/kubernetes/kubernetes/blob/master/cmd/kubeadm/app/phases/addons/dns/manifests.go"),
    ("kubeadm kube-proxy addon manifests",
     "https://github.com/kubernetes/kubernetes/blob/master/cmd/kubeadm/app/phases/addons/proxy/manifests.go"),
    ("kube-root-ca.crt publisher (name, key, description annotation)",
     "https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/certificates/rootcacertpublisher/publisher.go"),
    ("compact_rev_key",
     "https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/apiserver/pkg/storage/etcd3/compact.go"),
    ("--event-ttl default 1h",
     "https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/"),
    ("stored kube-dns Service from a 2023 Kind cluster (shape of Service + managedFields)",
     "data/seed/kube-dns-service.json"),
]

OMITTED: list[tuple[str, str]] = [
    ("secrets", "not constructed: a real kubeadm/Kind cluster holds the bootstrap-token "
                "Secret (kube-system/bootstrap-token-<id>); the notebooks create their own "
                "demo Secret instead of shipping token-shaped data"),
    ("pods", "no built-in schema (control-plane static pods, coredns, kindnet, kube-proxy, "
             "local-path-provisioner)"),
    ("nodes (minions)", "no built-in schema"),
    ("deployments", "no built-in schema (coredns, local-path-provisioner)"),
    ("replicasets", "no built-in schema"),
    ("daemonsets", "no built-in schema (kindnet, kube-proxy)"),
    ("controllerrevisions", "no built-in schema"),
    ("csinodes", "no built-in schema"),
    ("storageclasses", "no built-in schema (kind's 'standard')"),
    ("flowschemas", "no built-in schema (API Priority and Fairness defaults)"),
    ("prioritylevelconfigurations", "no built-in schema"),
    ("apiservices", "no built-in schema (one per served group/version)"),
    ("servicecidrs, ipaddresses", "no built-in schema; since MultiCIDRServiceAllocator "
                                  "(on by default from 1.33) these hold the service IPs"),
    ("validatingadmissionpolicies and bindings", "no built-in schema"),
    ("clusterroles/clusterrolebindings beyond the subset",
     "the bootstrap policy has about 70 ClusterRoles and 50 ClusterRoleBindings "
     "(incl. system:controller:*); a representative subset is constructed"),
    ("serviceaccounts beyond the subset",
     "kube-controller-manager creates one ServiceAccount per controller in kube-system; "
     "a representative subset is constructed"),
    ("kindnet and local-path-provisioner RBAC", "constructed subset only (namespace, "
                                                "ServiceAccount, ConfigMap)"),
    ("events beyond a handful", "a real fresh cluster has dozens of Events"),
    ("ranges/serviceips (1.34+)", "not written by default from 1.34: "
                                  "DisableAllocatorDualWrite is GA and on"),
]


# ---------------------------------------------------------------- helpers

def _parse_version(v: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?", str(v).strip())
    if not m:
        raise KindStateError(
            f"kubernetes_version {v!r} is not like '1.35.0'; pass MAJOR.MINOR[.PATCH]")
    return int(m[1]), int(m[2]), int(m[3] or 0)


def _uid(key: str) -> str:
    """A uuid derived from the key, so the same call gives the same uid."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "k8slearn-constructed:" + key))


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _suffix(seed: str, n: int = 5) -> str:
    """Name suffix in the alphabet apimachinery's rand.String uses (bcdfghjklmnpqrstvwxz2456789)."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:n])


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Fields whose value is atomic for server-side apply (no children in fieldsV1).
_ATOMIC = {"spec.selector", "roleRef", "rules", "subjects", "subsets", "endpoints", "ports",
           "aggregationRule", "involvedObject", "source", "spec.finalizers"}
# Lists merged by key, with the key fields.
_KEYED = {"spec.ports": ("port", "protocol"), "metadata.ownerReferences": ("uid",)}
# Maps / pointer-structs that get a "." entry.
_DOTTED = {"metadata.labels", "metadata.annotations", "data", "binaryData"}


def _fv1(value, path: str):
    if path in _ATOMIC or not isinstance(value, (dict, list)):
        return {}
    if isinstance(value, dict):
        out = {".": {}} if path in _DOTTED else {}
        for k, v in value.items():
            out["f:" + k] = _fv1(v, f"{path}.{k}" if path else k)
        return out
    if path in _KEYED:
        out = {".": {}}
        for item in value:
            kv = {f: item[f] for f in _KEYED[path]}
            ident = "k:" + json.dumps(kv, sort_keys=True, separators=(",", ":"))
            out[ident] = {".": {}, **{"f:" + k: _fv1(v, f"{path}[].{k}") for k, v in item.items()}}
        return out
    return {}


def _sorted_tree(tree: dict) -> dict:
    return {k: _sorted_tree(tree[k]) for k in sorted(tree)}


def _managed(manager: str, api_version: str, t: datetime, owned: dict,
             operation: str = "Update", subresource: str | None = None) -> dict:
    """One managedFields entry owning the fields present in ``owned``."""
    entry = {"manager": manager, "operation": operation, "apiVersion": api_version,
             "time": _ts(t), "fieldsType": "FieldsV1",
             "fieldsV1": _sorted_tree(_fv1(owned, ""))}
    if subresource:
        entry["subresource"] = subresource
    return entry


def _checksum(data: dict) -> str:
    """kubeadm's ChecksumForConfigMap: sha256 over sorted keys then values.

    https://github.com/kubernetes/kubernetes/blob/master/cmd/kubeadm/app/componentconfigs/checksums.go
    """
    h = hashlib.sha256()
    for k in sorted(data):
        h.update(k.encode())
        h.update(data[k].encode())
    return "sha256:" + h.hexdigest()


class _Builder:
    """Accumulates entries with a clock that advances per write."""

    def __init__(self, version: tuple[int, int, int], cluster: str):
        self.version = version
        self.cluster = cluster
        self.node = f"{cluster}-control-plane"
        self.entries: list[Entry] = []
        self.clock = _BASE_TIME

    def tick(self, seconds: float = 0.0) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def add(self, key: str, obj: dict | None = None, text: str | None = None,
            lease_ttl: int | None = None, note: str = "") -> None:
        self.entries.append(Entry(key, obj, text, lease_ttl, note))

    def obj(self, resource: str, kind: str, api_version: str, name: str,
            namespace: str | None, body: dict, *, manager: str, owned_meta: dict | None = None,
            labels: dict | None = None, annotations: dict | None = None,
            extra_meta: dict | None = None, owned_body: dict | None = None,
            lease_ttl: int | None = None, note: str = "", status: dict | None = None,
            managed: bool = True, group: str | None = None) -> dict:
        """Build an object in the apiserver's field order and add it under its key."""
        grp = keys.RESOURCES[resource].group if group is None else group
        key = keys.compose(resource, name, namespace, group=grp)
        t = self.tick(0.25)
        meta: dict = {"name": name}
        if namespace is not None:
            meta["namespace"] = namespace
        meta["uid"] = _uid(key)
        meta["creationTimestamp"] = _ts(t)
        # Go encodes maps with sorted keys, so labels, annotations and data are sorted.
        if labels:
            meta["labels"] = dict(sorted(labels.items()))
        if annotations:
            meta["annotations"] = dict(sorted(annotations.items()))
        if isinstance(body.get("data"), dict):
            body = {**body, "data": dict(sorted(body["data"].items()))}
        if extra_meta:
            meta.update(extra_meta)
        owned: dict = {}
        own_meta = {k: meta[k] for k in ("labels", "annotations", "ownerReferences") if k in meta}
        if owned_meta is not None:
            own_meta = owned_meta
        if own_meta:
            owned["metadata"] = own_meta
        owned.update(body if owned_body is None else owned_body)
        if managed and owned:
            meta["managedFields"] = [_managed(manager, api_version, t, owned)]
        obj = {"kind": kind, "apiVersion": api_version, "metadata": meta, **body}
        if status is not None:
            obj["status"] = status
        self.add(key, obj, lease_ttl=lease_ttl, note=note)
        return obj


def _rule(groups, resources, verbs, names=None) -> dict:
    r = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        r["resourceNames"] = list(names)
    return r


def _nonres(urls, verbs=("get",)) -> dict:
    return {"verbs": list(verbs), "nonResourceURLs": list(urls)}


def _subj(kind: str, name: str, namespace: str | None = None) -> dict:
    if kind == "ServiceAccount":
        return {"kind": kind, "name": name, "namespace": namespace}
    return {"kind": kind, "apiGroup": _RBAC, "name": name}


_BOOTSTRAP_META = {"labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                   "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}


# ------------------------------------------------------------ the phases

def _apiserver(b: _Builder) -> None:
    """What kube-apiserver writes itself while starting."""
    v1 = "v1"
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        b.obj("namespaces", "Namespace", v1, ns, None, {"spec": {"finalizers": ["kubernetes"]}},
              manager="kube-apiserver", labels={"kubernetes.io/metadata.name": ns},
              owned_body={}, status={"phase": "Active"},
              note="system namespace; the kubernetes.io/metadata.name label is set by the "
                   "apiserver on every namespace")
    pcs = [("system-node-critical", 2000001000,
            "Used for system critical pods that must not be moved from their current node."),
           ("system-cluster-critical", 2000000000,
            "Used for system critical pods that must run in the cluster, but can be moved "
            "to another node if necessary.")]
    for name, value, desc in pcs:
        body = {"value": value, "description": desc, "preemptionPolicy": "PreemptLowerPriority"}
        b.obj("priorityclasses", "PriorityClass", "scheduling.k8s.io/v1", name, None, body,
              manager="kube-apiserver", owned_body={"value": value, "description": desc,
                                                   "preemptionPolicy": "PreemptLowerPriority"},
              note="system PriorityClass created by the scheduling REST storage post-start hook")

    rbac_v1 = f"{_RBAC}/v1"
    cluster_roles = {
        "cluster-admin": [_rule(["*"], ["*"], ["*"]), _nonres(["*"], ["*"])],
        "system:discovery": [_nonres(["/api", "/api/*", "/apis", "/apis/*", "/healthz",
                                      "/livez", "/openapi", "/openapi/*", "/readyz",
                                      "/version", "/version/"])],
        "system:basic-user": [
            _rule(["authorization.k8s.io"],
                  ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
            _rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"])],
        "system:public-info-viewer": [_nonres(["/healthz", "/livez", "/readyz", "/version",
                                               "/version/"])],
        "system:monitoring": [_nonres(["/healthz", "/healthz/*", "/livez", "/livez/*",
                                       "/metrics", "/metrics/slis", "/readyz", "/readyz/*"])],
        "system:auth-delegator": [
            _rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
            _rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"])],
        "system:kube-dns": [_rule([""], ["endpoints", "services"], ["list", "watch"])],
        "system:node-proxier": [
            _rule([""], ["endpoints", "services"], ["list", "watch"]),
            _rule([""], ["nodes"], ["get", "list", "watch"]),
            _rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
            _rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"])],
    }
    for name, rules in cluster_roles.items():
        b.obj("clusterroles", "ClusterRole", rbac_v1, name, None, {"rules": rules},
              manager="kube-apiserver", **_BOOTSTRAP_META,
              note="bootstrap policy ClusterRole (representative subset)")
    bindings = {
        "cluster-admin": ("cluster-admin", [_subj("Group", "system:masters")]),
        "system:discovery": ("system:discovery", [_subj("Group", "system:authenticated")]),
        "system:basic-user": ("system:basic-user", [_subj("Group", "system:authenticated")]),
        "system:public-info-viewer": ("system:public-info-viewer",
                                      [_subj("Group", "system:authenticated"),
                                       _subj("Group", "system:unauthenticated")]),
        "system:monitoring": ("system:monitoring", [_subj("Group", "system:monitoring")]),
        "system:node-proxier": ("system:node-proxier", [_subj("User", "system:kube-proxy")]),
    }
    for name, (role, subjects) in bindings.items():
        body = {"subjects": subjects,
                "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": role}}
        b.obj("clusterrolebindings", "ClusterRoleBinding", rbac_v1, name, None, body,
              manager="kube-apiserver", **_BOOTSTRAP_META,
              note="bootstrap policy ClusterRoleBinding (representative subset)")
    leases_rule = [_rule(["coordination.k8s.io"], ["leases"],
                         ["create", "get", "list", "update", "watch"]),
                   _rule(["coordination.k8s.io"], ["leasecandidates"],
                         ["create", "get", "list", "update", "watch"])]
    ns_roles = [
        ("kube-public", "system:controller:bootstrap-signer", [
            _rule([""], ["configmaps"], ["get", "list", "watch"]),
            _rule([""], ["configmaps"], ["update"], ["cluster-info"]),
            _rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"])]),
        ("kube-system", "extension-apiserver-authentication-reader", [
            _rule([""], ["configmaps"], ["get", "list", "watch"],
                  ["extension-apiserver-authentication"])]),
        ("kube-system", "system::leader-locking-kube-controller-manager", leases_rule),
        ("kube-system", "system::leader-locking-kube-scheduler", leases_rule),
        ("kube-system", "system:controller:bootstrap-signer", [
            _rule([""], ["secrets"], ["get", "list", "watch"])]),
        ("kube-system", "system:controller:cloud-provider", [
            _rule([""], ["configmaps"], ["create", "get", "list", "watch"])]),
        ("kube-system", "system:controller:token-cleaner", [
            _rule([""], ["secrets"], ["delete", "get", "list", "watch"]),
            _rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"])]),
    ]
    for ns, name, rules in ns_roles:
        b.obj("roles", "Role", rbac_v1, name, ns, {"rules": rules}, manager="kube-apiserver",
              **_BOOTSTRAP_META, note="bootstrap policy Role (the full namespaced set)")
    ns_bindings = [
        ("kube-public", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer",
         [_subj("ServiceAccount", "bootstrap-signer", "kube-system")]),
        ("kube-system", "system::extension-apiserver-authentication-reader",
         "extension-apiserver-authentication-reader",
         [_subj("User", "system:kube-controller-manager"),
          _subj("User", "system:kube-scheduler")]),
        ("kube-system", "system::leader-locking-kube-controller-manager",
         "system::leader-locking-kube-controller-manager",
         [_subj("User", "system:kube-controller-manager"),
          _subj("ServiceAccount", "kube-controller-manager", "kube-system"),
          _subj("ServiceAccount", "leader-election-controller", "kube-system")]),
        ("kube-system", "system::leader-locking-kube-scheduler",
         "system::leader-locking-kube-scheduler",
         [_subj("User", "system:kube-scheduler"),
          _subj("ServiceAccount", "kube-scheduler", "kube-system")]),
        ("kube-system", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer",
         [_subj("ServiceAccount", "bootstrap-signer", "kube-system")]),
        ("kube-system", "system:controller:cloud-provider", "system:controller:cloud-provider",
         [_subj("ServiceAccount", "cloud-provider", "kube-system")]),
        ("kube-system", "system:controller:token-cleaner", "system:controller:token-cleaner",
         [_subj("ServiceAccount", "token-cleaner", "kube-system")]),
    ]
    for ns, name, role, subjects in ns_bindings:
        body = {"subjects": subjects, "roleRef": {"apiGroup": _RBAC, "kind": "Role", "name": role}}
        b.obj("rolebindings", "RoleBinding", rbac_v1, name, ns, body, manager="kube-apiserver",
              **_BOOTSTRAP_META, note="bootstrap policy RoleBinding (the full namespaced set)")

    # extension-apiserver-authentication (ClusterAuthenticationTrustController)
    data = {
        "client-ca-file": CA_PLACEHOLDER,
        "requestheader-allowed-names": '["front-proxy-client"]',
        "requestheader-client-ca-file": CA_PLACEHOLDER,
        "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
        "requestheader-group-headers": '["X-Remote-Group"]',
        "requestheader-username-headers": '["X-Remote-User"]',
    }
    b.obj("configmaps", "ConfigMap", v1, "extension-apiserver-authentication", "kube-system",
          {"data": data}, manager="kube-apiserver",
          note="CA bundles replaced by a placeholder; kubeadm's front-proxy flags assumed")

    # the kubernetes Service and its endpoints
    svc_spec = {"ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}],
                "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "type": "ClusterIP",
                "sessionAffinity": "None", "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"}
    owned_spec = {k: svc_spec[k] for k in ("clusterIP", "internalTrafficPolicy", "ipFamilyPolicy",
                                           "ports", "sessionAffinity", "type")}
    b.obj("services", "Service", v1, "kubernetes", "default", {"spec": svc_spec},
          manager="kube-apiserver", labels={"component": "apiserver", "provider": "kubernetes"},
          owned_body={"spec": owned_spec}, status={"loadBalancer": {}},
          note="first address of the service CIDR 10.96.0.0/16")
    t = b.tick(0.1)
    b.add(f"{keys.DEFAULT_PREFIX}/masterleases/{_NODE_IP}",
          {"kind": "Endpoints", "apiVersion": v1, "metadata": {"generation": 1},
           "subsets": [{"addresses": [{"ip": _NODE_IP}]}]},
          lease_ttl=_MASTERLEASE_TTL,
          note="written straight to storage by the lease endpoint reconciler (no name, uid or "
               "managedFields); generation grows on each 10 s refresh")
    b.obj("endpoints", "Endpoints", v1, "kubernetes", "default",
          {"subsets": [{"addresses": [{"ip": _NODE_IP}],
                        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]},
          manager="kube-apiserver", labels={"endpointslice.kubernetes.io/skip-mirror": "true"})
    b.obj("endpointslices", "EndpointSlice", "discovery.k8s.io/v1", "kubernetes", "default",
          {"addressType": "IPv4",
           "endpoints": [{"addresses": [_NODE_IP], "conditions": {"ready": True}}],
           "ports": [{"name": "https", "protocol": "TCP", "port": 6443}]},
          manager="kube-apiserver", labels={"kubernetes.io/service-name": "kubernetes"})

    # apiserver identity lease
    host = b.node
    hashed = (len(host).to_bytes(2, "big") + host.encode()
              + len("kube-apiserver").to_bytes(2, "big") + b"kube-apiserver")
    digest = hashlib.sha256(hashed).digest()[:16]
    ident = "apiserver-" + base64.b32encode(digest).decode().rstrip("=").lower()
    t = b.clock
    lease_spec = {"holderIdentity": f"{ident}_{_uid('holder:' + ident)}",
                  "leaseDurationSeconds": 3600, "renewTime": _micro(t)}
    b.obj("leases", "Lease", "coordination.k8s.io/v1", ident, "kube-system", {"spec": lease_spec},
          manager="kube-apiserver",
          labels={"apiserver.kubernetes.io/identity": "kube-apiserver",
                  "kubernetes.io/hostname": host},
          note="name = 'apiserver-' + base32(sha256(len-prefixed hostname, 'kube-apiserver'))"
               "[:16]; holderIdentity suffix is a random uuid in a real cluster")

    # range allocators
    if b.version[:2] < (1, 34):
        # 10.96.0.1 -> offset 0, 10.96.0.10 -> offset 9: big-endian bytes of 2**0 + 2**9
        bitmap = ((1 << 0) | (1 << 9)).to_bytes(2, "big")
        b.add(f"{keys.DEFAULT_PREFIX}/ranges/serviceips",
              {"kind": "RangeAllocation", "apiVersion": v1,
               "metadata": {"creationTimestamp": None}, "range": "10.96.0.0/16",
               "data": base64.b64encode(bitmap).decode()},
              note="bitmap of allocated service IPs (bit i = base+1+i); 10.96.0.1 and "
                   "10.96.0.10 set")
    b.add(f"{keys.DEFAULT_PREFIX}/ranges/servicenodeports",
          {"kind": "RangeAllocation", "apiVersion": v1, "metadata": {"creationTimestamp": None},
           "range": "30000-32767", "data": ""},
          note="empty bitmap: a fresh cluster has no NodePort Service")


def _kubeadm(b: _Builder) -> None:
    """What kubeadm (run by kind) uploads."""
    v1, rbac_v1 = "v1", f"{_RBAC}/v1"
    major, minor, patch = b.version
    api = "v1beta4" if (major, minor) >= (1, 31) else "v1beta3"
    cluster_cfg = (
        "apiServer:\n  certSANs:\n  - localhost\n  - 127.0.0.1\n"
        f"apiVersion: kubeadm.k8s.io/{api}\n"
        "caCertificateValidityPeriod: 87600h0m0s\n"
        "certificateValidityPeriod: 8760h0m0s\n"
        "certificatesDir: /etc/kubernetes/pki\n"
        f"clusterName: {b.cluster}\n"
        f"controlPlaneEndpoint: {b.node}:6443\n"
        "controllerManager:\n  extraArgs:\n  - name: enable-hostpath-provisioner\n"
        "    value: \"true\"\n"
        "dns: {}\nencryptionAlgorithm: RSA-2048\n"
        "etcd:\n  local:\n    dataDir: /var/lib/etcd\n"
        "imageRepository: registry.k8s.io\nkind: ClusterConfiguration\n"
        f"kubernetesVersion: v{major}.{minor}.{patch}\n"
        "networking:\n  dnsDomain: cluster.local\n  podSubnet: 10.244.0.0/16\n"
        "  serviceSubnet: 10.96.0.0/16\nproxy: {}\nscheduler: {}\n")
    nodes_groups = [_subj("Group", "system:bootstrappers:kubeadm:default-node-token"),
                    _subj("Group", "system:nodes")]
    b.obj("configmaps", "ConfigMap", v1, "kubeadm-config", "kube-system",
          {"data": {"ClusterConfiguration": cluster_cfg}}, manager="kubeadm",
          note="representative of what kind passes to kubeadm; field set varies by version")
    b.obj("roles", "Role", rbac_v1, "kubeadm:nodes-kubeadm-config", "kube-system",
          {"rules": [_rule([""], ["configmaps"], ["get"], ["kubeadm-config"])]},
          manager="kubeadm")
    b.obj("rolebindings", "RoleBinding", rbac_v1, "kubeadm:nodes-kubeadm-config", "kube-system",
          {"subjects": nodes_groups, "roleRef": {"apiGroup": _RBAC, "kind": "Role",
                                                 "name": "kubeadm:nodes-kubeadm-config"}},
          manager="kubeadm")
    kubelet_cfg = (
        "apiVersion: kubelet.config.k8s.io/v1beta1\n"
        "authentication:\n  anonymous:\n    enabled: false\n  webhook:\n    cacheTTL: 0s\n"
        "    enabled: true\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n"
        "authorization:\n  mode: Webhook\n"
        "cgroupDriver: systemd\nclusterDNS:\n- 10.96.0.10\nclusterDomain: cluster.local\n"
        "failSwapOn: false\nimageGCHighThresholdPercent: 100\n"
        "kind: KubeletConfiguration\nrotateCertificates: true\n"
        "staticPodPath: /etc/kubernetes/manifests\n")
    kdata = {"kubelet": kubelet_cfg}
    b.obj("configmaps", "ConfigMap", v1, "kubelet-config", "kube-system", {"data": kdata},
          manager="kubeadm", annotations={"kubeadm.kubernetes.io/component-config.hash":
                                          _checksum(kdata)},
          note="KubeletConfiguration abbreviated: the real one lists every defaulted field")
    b.obj("roles", "Role", rbac_v1, "kubeadm:kubelet-config", "kube-system",
          {"rules": [_rule([""], ["configmaps"], ["get"], ["kubelet-config"])]}, manager="kubeadm")
    b.obj("rolebindings", "RoleBinding", rbac_v1, "kubeadm:kubelet-config", "kube-system",
          {"subjects": nodes_groups, "roleRef": {"apiGroup": _RBAC, "kind": "Role",
                                                 "name": "kubeadm:kubelet-config"}},
          manager="kubeadm")
    b.obj("clusterroles", "ClusterRole", rbac_v1, "kubeadm:get-nodes", None,
          {"rules": [_rule([""], ["nodes"], ["get"])]}, manager="kubeadm")
    b.obj("clusterrolebindings", "ClusterRoleBinding", rbac_v1, "kubeadm:get-nodes", None,
          {"subjects": [nodes_groups[0]],
           "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "kubeadm:get-nodes"}},
          manager="kubeadm")

    kubeconfig = (
        "apiVersion: v1\nclusters:\n- cluster:\n"
        "    certificate-authority-data: K8SLEARN-PLACEHOLDER-NO-CERTIFICATE\n"
        f"    server: https://{b.node}:6443\n  name: \"\"\n"
        "contexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {}\nusers: null\n")
    b.obj("configmaps", "ConfigMap", v1, "cluster-info", "kube-public",
          {"data": {"kubeconfig": kubeconfig}}, manager="kubeadm",
          note="CA data is a placeholder; the bootstrap-signer later adds jws-kubeconfig-<id>")
    b.obj("roles", "Role", rbac_v1, "kubeadm:bootstrap-signer-clusterinfo", "kube-public",
          {"rules": [_rule([""], ["configmaps"], ["get"], ["cluster-info"])]}, manager="kubeadm")
    b.obj("rolebindings", "RoleBinding", rbac_v1, "kubeadm:bootstrap-signer-clusterinfo",
          "kube-public",
          {"subjects": [_subj("User", "system:anonymous")],
           "roleRef": {"apiGroup": _RBAC, "kind": "Role",
                       "name": "kubeadm:bootstrap-signer-clusterinfo"}}, manager="kubeadm")

    # CoreDNS addon
    corefile = (
        ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n"
        "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n"
        "       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n"
        "    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n"
        "    }\n    cache 30 {\n       disable success cluster.local\n"
        "       disable denial cluster.local\n    }\n    loop\n    reload\n    loadbalance\n}\n")
    b.obj("configmaps", "ConfigMap", v1, "coredns", "kube-system", {"data": {"Corefile": corefile}},
          manager="kubeadm", note="Corefile rendered from kubeadm's current template")
    b.obj("clusterroles", "ClusterRole", rbac_v1, "system:coredns", None,
          {"rules": [_rule([""], ["endpoints", "services", "pods", "namespaces"],
                           ["list", "watch"]),
                     _rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"])]},
          manager="kubeadm")
    b.obj("clusterrolebindings", "ClusterRoleBinding", rbac_v1, "system:coredns", None,
          {"subjects": [_subj("ServiceAccount", "coredns", "kube-system")],
           "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "system:coredns"}},
          manager="kubeadm")
    b.obj("serviceaccounts", "ServiceAccount", v1, "coredns", "kube-system", {},
          manager="kubeadm", note="no managedFields: nothing but name/namespace was set")
    ports = [{"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 53},
             {"name": "dns-tcp", "protocol": "TCP", "port": 53, "targetPort": 53},
             {"name": "metrics", "protocol": "TCP", "port": 9153, "targetPort": 9153}]
    spec = {"ports": ports, "selector": {"k8s-app": "kube-dns"}, "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"], "type": "ClusterIP", "sessionAffinity": "None",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster"}
    owned_spec = {k: spec[k] for k in ("clusterIP", "internalTrafficPolicy", "ports", "selector",
                                       "sessionAffinity", "type")}
    b.obj("services", "Service", v1, "kube-dns", "kube-system", {"spec": spec},
          manager="kubeadm",
          labels={"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                  "kubernetes.io/name": "CoreDNS"},
          annotations={"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
          owned_body={"spec": owned_spec}, status={"loadBalancer": {}},
          note="same shape and managedFields as the stored object in data/seed/")

    # kube-proxy addon
    proxy_cfg = (
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nbindAddress: 0.0.0.0\n"
        "clientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n"
        "clusterCIDR: 10.244.0.0/16\nconntrack:\n  maxPerCore: 0\n"
        "kind: KubeProxyConfiguration\nmode: iptables\n")
    proxy_kubeconfig = (
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
        "    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n"
        f"    server: https://{b.node}:6443\n  name: default\ncontexts:\n- context:\n"
        "    cluster: default\n    namespace: default\n    user: default\n  name: default\n"
        "current-context: default\nusers:\n- name: default\n  user:\n"
        "    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token")
    pdata = {"config.conf": proxy_cfg, "kubeconfig.conf": proxy_kubeconfig}
    b.obj("configmaps", "ConfigMap", v1, "kube-proxy", "kube-system", {"data": pdata},
          manager="kubeadm", labels={"app": "kube-proxy"},
          annotations={"kubeadm.kubernetes.io/component-config.hash": _checksum(pdata)},
          note="KubeProxyConfiguration abbreviated: the real one lists every defaulted field")
    b.obj("serviceaccounts", "ServiceAccount", v1, "kube-proxy", "kube-system", {},
          manager="kubeadm")
    b.obj("clusterrolebindings", "ClusterRoleBinding", rbac_v1, "kubeadm:node-proxier", None,
          {"subjects": [_subj("ServiceAccount", "kube-proxy", "kube-system")],
           "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "system:node-proxier"}},
          manager="kubeadm")
    b.obj("roles", "Role", rbac_v1, "kube-proxy", "kube-system",
          {"rules": [_rule([""], ["configmaps"], ["get"], ["kube-proxy"])]}, manager="kubeadm")
    b.obj("rolebindings", "RoleBinding", rbac_v1, "kube-proxy", "kube-system",
          {"subjects": [nodes_groups[0]],
           "roleRef": {"apiGroup": _RBAC, "kind": "Role", "name": "kube-proxy"}},
          manager="kubeadm")


_CONTROLLER_SAS = ("attachdetach-controller", "bootstrap-signer", "certificate-controller",
                   "clusterrole-aggregation-controller", "cronjob-controller",
                   "daemon-set-controller", "deployment-controller", "endpoint-controller",
                   "endpointslice-controller", "generic-garbage-collector", "job-controller",
                   "namespace-controller", "node-controller", "replicaset-controller",
                   "root-ca-cert-publisher", "service-account-controller", "token-cleaner")


def _controllers(b: _Builder, namespaces: list[str]) -> None:
    """kube-controller-manager, kube-scheduler and kubelet writes."""
    v1 = "v1"
    for component in ("kube-controller-manager", "kube-scheduler"):
        t = b.clock
        spec = {"holderIdentity": f"{b.node}_{_uid('holder:' + component)}",
                "leaseDurationSeconds": 15, "acquireTime": _micro(t), "renewTime": _micro(t),
                "leaseTransitions": 0}
        b.obj("leases", "Lease", "coordination.k8s.io/v1", component, "kube-system",
              {"spec": spec}, manager=component,
              note="leader-election lease; holderIdentity = <hostname>_<random uuid>")
    for sa in _CONTROLLER_SAS:
        b.obj("serviceaccounts", "ServiceAccount", v1, sa, "kube-system", {},
              manager="kube-controller-manager",
              note="controller ServiceAccount (--use-service-account-credentials); subset")
    for ns in namespaces:
        _per_namespace_objects(b, ns)

    # node lease (kubelet)
    node_uid = _uid(keys.compose("nodes", b.node))
    owner = [{"apiVersion": "v1", "kind": "Node", "name": b.node, "uid": node_uid}]
    b.obj("leases", "Lease", "coordination.k8s.io/v1", b.node, "kube-node-lease",
          {"spec": {"holderIdentity": b.node, "leaseDurationSeconds": 40,
                    "renewTime": _micro(b.clock)}},
          manager="kubelet", extra_meta={"ownerReferences": owner})

    # kube-dns endpoints once CoreDNS is ready (two replicas on the one node)
    rs_hash = _suffix("coredns-rs", 10).replace("z", "7")
    pods = [(f"coredns-{rs_hash}-{_suffix('coredns-pod-' + str(i))}", f"10.244.0.{i + 2}")
            for i in range(2)]
    svc_labels = {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                  "kubernetes.io/name": "CoreDNS"}
    trig = _ts(b.tick(20))
    addresses = [{"ip": ip, "nodeName": b.node,
                  "targetRef": {"kind": "Pod", "namespace": "kube-system", "name": name,
                                "uid": _uid("pod:" + name)}} for name, ip in pods]
    b.obj("endpoints", "Endpoints", v1, "kube-dns", "kube-system",
          {"subsets": [{"addresses": addresses,
                        "ports": [{"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                                  {"name": "dns", "port": 53, "protocol": "UDP"},
                                  {"name": "metrics", "port": 9153, "protocol": "TCP"}]}]},
          manager="kube-controller-manager", labels=svc_labels,
          annotations={"endpoints.kubernetes.io/last-change-trigger-time": trig},
          note="pod names/uids constructed deterministically")
    svc_uid = _uid(keys.compose("services", "kube-dns", "kube-system"))
    slice_labels = {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    **svc_labels, "kubernetes.io/service-name": "kube-dns"}
    slice_owner = [{"apiVersion": "v1", "kind": "Service", "name": "kube-dns", "uid": svc_uid,
                    "controller": True, "blockOwnerDeletion": True}]
    endpoints = [{"addresses": [ip], "conditions": {"ready": True, "serving": True,
                                                    "terminating": False},
                  "targetRef": {"kind": "Pod", "namespace": "kube-system", "name": name,
                                "uid": _uid("pod:" + name)},
                  "nodeName": b.node} for name, ip in pods]
    b.obj("endpointslices", "EndpointSlice", "discovery.k8s.io/v1",
          f"kube-dns-{_suffix('kube-dns-slice')}", "kube-system",
          {"addressType": "IPv4", "endpoints": endpoints,
           "ports": [{"name": "dns-tcp", "protocol": "TCP", "port": 53},
                     {"name": "dns", "protocol": "UDP", "port": 53},
                     {"name": "metrics", "protocol": "TCP", "port": 9153}]},
          manager="kube-controller-manager", labels=slice_labels,
          annotations={"endpoints.kubernetes.io/last-change-trigger-time": trig},
          extra_meta={"generateName": "kube-dns-", "ownerReferences": slice_owner},
          note="name suffix constructed; pod names/uids constructed")

    # a handful of Events (stored with a 1 h lease)
    events = [("kubelet", "Starting", "Starting kubelet.", True),
              ("kubelet", "NodeHasSufficientMemory",
               f"Node {b.node} status is now: NodeHasSufficientMemory", True),
              ("kubelet", "NodeHasNoDiskPressure",
               f"Node {b.node} status is now: NodeHasNoDiskPressure", True),
              ("node-controller", "RegisteredNode",
               f"Node {b.node} event: Registered Node {b.node} in Controller", False),
              ("kubelet", "NodeReady", f"Node {b.node} status is now: NodeReady", True)]
    for component, reason, message, from_kubelet in events:
        t = b.tick(1)
        name = f"{b.node}.{_hex('event:' + reason, 16)}"
        involved = ({"kind": "Node", "name": b.node, "uid": b.node} if from_kubelet else
                    {"kind": "Node", "name": b.node, "uid": node_uid, "apiVersion": "v1"})
        source = {"component": component}
        if from_kubelet:
            source["host"] = b.node
        body = {"involvedObject": involved, "reason": reason, "message": message,
                "source": source, "firstTimestamp": _ts(t), "lastTimestamp": _ts(t),
                "count": 1, "type": "Normal", "eventTime": None,
                "reportingComponent": component,
                "reportingInstance": b.node if from_kubelet else ""}
        owned = {k: v for k, v in body.items() if v is not None and v != ""}
        b.obj("events", "Event", v1, name, "default", body, manager=component,
              owned_body=owned, lease_ttl=_EVENT_TTL,
              note="kubelet events use the node name as involvedObject.uid")


def _kind_storage(b: _Builder) -> None:
    """kind's local-path-storage, applied with kubectl apply."""
    v1 = "v1"
    ns = "local-path-storage"

    def applied(kind: str, name: str, namespace: str | None, body: dict) -> dict:
        last = {"apiVersion": "v1", "kind": kind, "metadata": {"annotations": {}, "name": name}}
        if namespace:
            last["metadata"]["namespace"] = namespace
        last.update(body)
        return {"kubectl.kubernetes.io/last-applied-configuration":
                json.dumps(last, sort_keys=True, separators=(",", ":")) + "\n"}

    b.obj("namespaces", "Namespace", v1, ns, None, {"spec": {"finalizers": ["kubernetes"]}},
          manager="kubectl-client-side-apply", labels={"kubernetes.io/metadata.name": ns},
          annotations=applied("Namespace", ns, None, {}), owned_body={},
          status={"phase": "Active"}, note="kind's default storage provisioner namespace")
    b.obj("serviceaccounts", "ServiceAccount", v1, "local-path-provisioner-service-account", ns,
          {}, manager="kubectl-client-side-apply",
          annotations=applied("ServiceAccount", "local-path-provisioner-service-account", ns, {}))
    cfg = {"config.json": '{\n  "nodePathMap":[\n  {\n    "node":"DEFAULT_PATH_FOR_NON_LISTED_'
                          'NODES",\n    "paths":["/var/local-path-provisioner"]\n  }\n  ]\n}'}
    b.obj("configmaps", "ConfigMap", v1, "local-path-config", ns, {"data": cfg},
          manager="kubectl-client-side-apply",
          annotations=applied("ConfigMap", "local-path-config", ns, {"data": cfg}),
          note="abbreviated: kind's manifest also has setup, teardown and helperPod.yaml keys")


def fresh_cluster(kubernetes_version: str = "1.35.0", cluster_name: str = "k8slearn") -> list[Entry]:
    """The keyspace of a just-created single-node Kind cluster, in write order.

    Deterministic: the same arguments give identical output. The version
    changes only what the sources say depends on it (the kubeadm config API
    version, and ``ranges/serviceips`` which is no longer written from 1.34).
    Raises :class:`KindStateError` for an unparsable version or cluster name.
    """
    version = _parse_version(kubernetes_version)
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", str(cluster_name or "")):
        raise KindStateError(
            f"cluster_name {cluster_name!r} is not a DNS label; use lower-case letters, "
            "digits and '-', e.g. 'k8slearn'")
    b = _Builder(version, cluster_name)
    _apiserver(b)
    _kubeadm(b)
    _controllers(b, ["default", "kube-system", "kube-public", "kube-node-lease"])
    _kind_storage(b)
    _per_namespace_objects(b, "local-path-storage")
    # The compactor's first pass stores the revision it saw. If every entry above
    # is one put into an empty etcd (revision 1), that revision is len(entries) + 1.
    b.add(keys.COMPACT_REV_KEY, text="0",
          note="the compactor's first round (compact.go): it writes \"0\" at version 1 and "
               "compacts nothing; later rounds write the revision of the previous round")
    return b.entries


def _per_namespace_objects(b: _Builder, ns: str) -> None:
    v1 = "v1"
    b.obj("serviceaccounts", "ServiceAccount", v1, "default", ns, {},
          manager="kube-controller-manager", note="created by the serviceaccount controller")
    b.obj("configmaps", "ConfigMap", v1, "kube-root-ca.crt", ns,
          {"data": {"ca.crt": CA_PLACEHOLDER}}, manager="kube-controller-manager",
          annotations={"kubernetes.io/description": (
              "Contains a CA bundle that can be used to verify the kube-apiserver when "
              "using internal endpoints such as the internal service IP or "
              "kubernetes.default.svc. No other usage is guaranteed across distributions "
              "of Kubernetes clusters.")},
          note="ca.crt is a constructed placeholder, not a certificate")
