"""Facts about kube-apiserver's built-in resources and API groups, in one place.

* :data:`RESOURCES`: each built-in resource's API group, scope and etcd key path
  (read by keys.py);
* :data:`API_GROUPS`: each API group's folder in k8s.io/api and the version whose
  ``generated.proto`` ``k8slearn schema fetch`` downloads by default (read by codec/schema.py).

Checked against Kubernetes v1.37.2:

* key path: the lower-case plural, unless ``SpecialDefaultResourcePrefixes`` in
  https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/kubeapiserver/default_storage_factory_builder.go
  gives another; resources served by the apiextensions and aggregator servers keep their
  group in the path (``<group>/<plural>``);
* scope: ``NamespaceScoped()`` of each strategy under
  https://github.com/kubernetes/kubernetes/tree/v1.37.2/pkg/registry;
* cohabitation (one storage for a resource served by two groups): the
  ``AddCohabitatingResources`` calls in the same default_storage_factory_builder.go;
* folders: the ``GroupName`` of each ``register.go`` in https://github.com/kubernetes/api
  (v0.37.2).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "API_GROUPS",
    "ApiGroup",
    "COHABITING",
    "HISTORIC",
    "RESOURCES",
    "ResourceInfo",
    "SPECIAL_KEY_PATHS",
    "info",
]


@dataclass(frozen=True)
class ResourceInfo:
    """Where a built-in resource is stored: API group, scope, key path under the prefix."""

    group: str
    namespaced: bool
    key_path: str


def _r(group: str, namespaced: bool, key_path: str) -> ResourceInfo:
    return ResourceInfo(group, namespaced, key_path)


# resource plural -> storage facts. For a resource two groups serve (events, ingresses, ...)
# the group is the one kube-apiserver stores it under.
RESOURCES: dict[str, ResourceInfo] = {
    # core ("" group)
    "pods": _r("", True, "pods"),
    "podtemplates": _r("", True, "podtemplates"),
    "services": _r("", True, "services/specs"),
    "endpoints": _r("", True, "services/endpoints"),
    "nodes": _r("", False, "minions"),
    "namespaces": _r("", False, "namespaces"),
    "configmaps": _r("", True, "configmaps"),
    "secrets": _r("", True, "secrets"),
    "serviceaccounts": _r("", True, "serviceaccounts"),
    "persistentvolumes": _r("", False, "persistentvolumes"),
    "persistentvolumeclaims": _r("", True, "persistentvolumeclaims"),
    "events": _r("", True, "events"),
    "limitranges": _r("", True, "limitranges"),
    "resourcequotas": _r("", True, "resourcequotas"),
    "replicationcontrollers": _r("", True, "controllers"),
    # apps, batch, autoscaling, policy
    "deployments": _r("apps", True, "deployments"),
    "replicasets": _r("apps", True, "replicasets"),
    "statefulsets": _r("apps", True, "statefulsets"),
    "daemonsets": _r("apps", True, "daemonsets"),
    "controllerrevisions": _r("apps", True, "controllerrevisions"),
    "jobs": _r("batch", True, "jobs"),
    "cronjobs": _r("batch", True, "cronjobs"),
    "horizontalpodautoscalers": _r("autoscaling", True, "horizontalpodautoscalers"),
    "poddisruptionbudgets": _r("policy", True, "poddisruptionbudgets"),
    # networking, discovery, coordination
    "ingresses": _r("networking.k8s.io", True, "ingress"),
    "ingressclasses": _r("networking.k8s.io", False, "ingressclasses"),
    "networkpolicies": _r("networking.k8s.io", True, "networkpolicies"),
    "ipaddresses": _r("networking.k8s.io", False, "ipaddresses"),
    "servicecidrs": _r("networking.k8s.io", False, "servicecidrs"),
    "endpointslices": _r("discovery.k8s.io", True, "endpointslices"),
    "leases": _r("coordination.k8s.io", True, "leases"),
    # rbac
    "roles": _r("rbac.authorization.k8s.io", True, "roles"),
    "rolebindings": _r("rbac.authorization.k8s.io", True, "rolebindings"),
    "clusterroles": _r("rbac.authorization.k8s.io", False, "clusterroles"),
    "clusterrolebindings": _r("rbac.authorization.k8s.io", False, "clusterrolebindings"),
    # scheduling, node, storage, storage migration
    "priorityclasses": _r("scheduling.k8s.io", False, "priorityclasses"),
    "runtimeclasses": _r("node.k8s.io", False, "runtimeclasses"),
    "storageclasses": _r("storage.k8s.io", False, "storageclasses"),
    "csinodes": _r("storage.k8s.io", False, "csinodes"),
    "csidrivers": _r("storage.k8s.io", False, "csidrivers"),
    "volumeattachments": _r("storage.k8s.io", False, "volumeattachments"),
    "csistoragecapacities": _r("storage.k8s.io", True, "csistoragecapacities"),
    "volumeattributesclasses": _r("storage.k8s.io", False, "volumeattributesclasses"),
    "storageversionmigrations": _r("storagemigration.k8s.io", False, "storageversionmigrations"),
    # admission, certificates, flow control
    "validatingwebhookconfigurations": _r("admissionregistration.k8s.io", False, "validatingwebhookconfigurations"),
    "mutatingwebhookconfigurations": _r("admissionregistration.k8s.io", False, "mutatingwebhookconfigurations"),
    "validatingadmissionpolicies": _r("admissionregistration.k8s.io", False, "validatingadmissionpolicies"),
    "validatingadmissionpolicybindings": _r("admissionregistration.k8s.io", False, "validatingadmissionpolicybindings"),
    "mutatingadmissionpolicies": _r("admissionregistration.k8s.io", False, "mutatingadmissionpolicies"),
    "mutatingadmissionpolicybindings": _r("admissionregistration.k8s.io", False, "mutatingadmissionpolicybindings"),
    "certificatesigningrequests": _r("certificates.k8s.io", False, "certificatesigningrequests"),
    "clustertrustbundles": _r("certificates.k8s.io", False, "clustertrustbundles"),
    "podcertificaterequests": _r("certificates.k8s.io", True, "podcertificaterequests"),
    "flowschemas": _r("flowcontrol.apiserver.k8s.io", False, "flowschemas"),
    "prioritylevelconfigurations": _r("flowcontrol.apiserver.k8s.io", False, "prioritylevelconfigurations"),
    # dynamic resource allocation (resource.k8s.io)
    "deviceclasses": _r("resource.k8s.io", False, "deviceclasses"),
    "devicetaintrules": _r("resource.k8s.io", False, "devicetaintrules"),
    "resourceclaims": _r("resource.k8s.io", True, "resourceclaims"),
    "resourceclaimtemplates": _r("resource.k8s.io", True, "resourceclaimtemplates"),
    "resourceslices": _r("resource.k8s.io", False, "resourceslices"),
    # served by the apiextensions / aggregator servers: group kept in the key
    "customresourcedefinitions": _r("apiextensions.k8s.io", False, "apiextensions.k8s.io/customresourcedefinitions"),
    "apiservices": _r("apiregistration.k8s.io", False, "apiregistration.k8s.io/apiservices"),
}

# Resources no longer served whose key paths may still be met in old data
# (PodSecurityPolicy was removed in 1.25).
HISTORIC: dict[str, ResourceInfo] = {
    "podsecuritypolicies": _r("policy", False, "podsecuritypolicy"),
}

# resource -> the other groups whose copy of it shares its storage (and so its key path).
COHABITING: dict[str, tuple[str, ...]] = {
    "deployments": ("extensions",),
    "daemonsets": ("extensions",),
    "replicasets": ("extensions",),
    "networkpolicies": ("extensions",),
    "ingresses": ("extensions",),
    "replicationcontrollers": ("extensions",),
    "podsecuritypolicies": ("extensions",),
    "events": ("events.k8s.io",),
}

# Key paths that differ from the resource name -> resource.
SPECIAL_KEY_PATHS: dict[str, str] = {
    i.key_path: res for res, i in {**RESOURCES, **HISTORIC}.items() if i.key_path != res
}


def info(resource: str, group: str | None = None) -> ResourceInfo | None:
    """The facts of a built-in (or historic) resource; with ``group``, only if that group's
    copy is the stored one (its own group or a cohabiting one)."""
    found = RESOURCES.get(resource) or HISTORIC.get(resource)
    if found is None or group is None or group == found.group or group in COHABITING.get(resource, ()):
        return found
    return None


@dataclass(frozen=True)
class ApiGroup:
    """An API group's folder in k8s.io/api, and the version ``schema fetch`` takes (None: none)."""

    folder: str
    fetched_version: str | None = None


# API group -> folder in k8s.io/api (the proto package is k8s.io.api.<folder>.<version>).
# The groups with a fetched version come first, in the order `schema fetch` downloads them.
API_GROUPS: dict[str, ApiGroup] = {
    "": ApiGroup("core", "v1"),
    "apps": ApiGroup("apps", "v1"),
    "batch": ApiGroup("batch", "v1"),
    "coordination.k8s.io": ApiGroup("coordination", "v1"),
    "discovery.k8s.io": ApiGroup("discovery", "v1"),
    "events.k8s.io": ApiGroup("events", "v1"),
    "networking.k8s.io": ApiGroup("networking", "v1"),
    "policy": ApiGroup("policy", "v1"),
    "rbac.authorization.k8s.io": ApiGroup("rbac", "v1"),
    "scheduling.k8s.io": ApiGroup("scheduling", "v1"),
    "storage.k8s.io": ApiGroup("storage", "v1"),
    "autoscaling": ApiGroup("autoscaling", "v2"),
    "admissionregistration.k8s.io": ApiGroup("admissionregistration", "v1"),
    "certificates.k8s.io": ApiGroup("certificates", "v1"),
    "flowcontrol.apiserver.k8s.io": ApiGroup("flowcontrol", "v1"),
    "node.k8s.io": ApiGroup("node", "v1"),
    "resource.k8s.io": ApiGroup("resource", "v1"),
    "admission.k8s.io": ApiGroup("admission"),
    "apidiscovery.k8s.io": ApiGroup("apidiscovery"),
    "authentication.k8s.io": ApiGroup("authentication"),
    "authorization.k8s.io": ApiGroup("authorization"),
    "extensions": ApiGroup("extensions"),
    "imagepolicy.k8s.io": ApiGroup("imagepolicy"),
    "internal.apiserver.k8s.io": ApiGroup("apiserverinternal"),
    "lifecycle.k8s.io": ApiGroup("lifecycle"),
    "storagemigration.k8s.io": ApiGroup("storagemigration"),
}
