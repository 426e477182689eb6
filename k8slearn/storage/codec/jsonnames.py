"""JSON facts that a .proto file does not carry: names, omitempty, pointers, inlining.

Kubernetes' JSON comes from Go's encoding/json over the Go structs, while its protobuf comes
from go-to-protobuf over the same structs. So to turn a decoded protobuf message into the
JSON Kubernetes writes we need, per field, what the Go struct tag says:

* the JSON name (``json:"apiGroup"``), which may differ from the proto field name;
* ``omitempty`` (zero values are left out) or not (zero values are written, nil
  slices/maps/pointers as ``null``);
* whether the Go field is a pointer (``*int32``): then presence matters, a zero value is
  still written, and the protobuf encoder writes the field only when it is set, while a
  non-pointer field is always written (gogo-protobuf marshalling, see any
  ``generated.pb.go`` in https://github.com/kubernetes/api);
* ``json:",inline"``: an embedded struct whose fields are flattened into the parent in
  JSON while protobuf keeps it as a nested message;
* the Go field order, which is the JSON key order (proto numbers are historic).

Go slice types such as ``type ExtraValue []string`` become wrapper messages with one
``items`` field in protobuf but plain lists in JSON; :class:`MessageFacts.list_wrapper` marks them.

Two sources fill these facts:

* :data:`BUILTIN_FACTS`, written for the built-in .proto files in ``proto/k8slearn``, in a
  compact form, one string per message (see :func:`parse_compact`), checked against
  the ``types.go`` files of https://github.com/kubernetes/api and
  https://github.com/kubernetes/apimachinery (pkg/apis/meta/v1/types.go);
* :func:`parse_types_go`, which reads the struct tags of a fetched ``types.go``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class GoField:
    """One Go struct field as far as JSON and protobuf care."""

    proto_name: str
    json_name: str
    omitempty: bool = False
    pointer: bool = False
    inline: bool = False


@dataclass
class MessageFacts:
    """The Go view of one protobuf message: fields in Go (= JSON) order."""

    fields: list[GoField] = field(default_factory=list)
    list_wrapper: bool = False

    def by_proto_name(self) -> dict[str, GoField]:
        """The fields by their protobuf field name."""
        return {f.proto_name: f for f in self.fields}


_TOKEN = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:=(?P<json>[A-Za-z0-9_$-]*))?(?P<flags>[*?^]*)$")


def parse_compact(spec: str) -> MessageFacts:
    """Parse the compact notation used in :data:`BUILTIN_FACTS`.

    Tokens are separated by white space, in Go struct order; each is
    ``protoName[=jsonName][flags]`` where the flags are ``*`` (Go pointer), ``?``
    (``omitempty``) and ``^`` (``json:",inline"``). ``[list]`` alone marks a slice wrapper.
    """
    facts = MessageFacts()
    for token in spec.split():
        if token == "[list]":
            facts.list_wrapper = True
            continue
        m = _TOKEN.match(token)
        if not m:
            raise ValueError(f"bad field token {token!r} in {spec!r}")
        flags = m.group("flags")
        name = m.group("name")
        inline = "^" in flags
        json_name = "" if inline else (m.group("json") or name)
        facts.fields.append(GoField(name, json_name, "?" in flags, "*" in flags, inline))
    return facts


_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
_CORE = "k8s.io.api.core.v1."

# Go struct facts of the built-in messages (see the module docstring for the notation).
# Sources: https://github.com/kubernetes/apimachinery/blob/master/pkg/apis/meta/v1/types.go,
# https://github.com/kubernetes/api/blob/master/{core,coordination,events,discovery,rbac,scheduling}/v1/types.go
# Time, MicroTime, Duration, FieldsV1, IntOrString, Quantity and RawExtension have
# custom JSON and are handled by name in pb.py, not here.
_BUILTIN_SPECS = {
    _META + "ObjectMeta": "name? generateName? namespace? selfLink? uid? resourceVersion? generation? "
    "creationTimestamp? deletionTimestamp*? deletionGracePeriodSeconds*? labels? annotations? "
    "ownerReferences? finalizers? managedFields?",
    _META + "OwnerReference": "apiVersion kind name uid controller*? blockOwnerDeletion*?",
    _META + "ManagedFieldsEntry": "manager? operation? apiVersion? time*? fieldsType? fieldsV1*? subresource?",
    _META + "LabelSelector": "matchLabels? matchExpressions?",
    _META + "LabelSelectorRequirement": "key operator values?",
    _META + "Condition": "type status observedGeneration? lastTransitionTime reason message",
    _META + "ListMeta": "selfLink? resourceVersion? continue? remainingItemCount*?",
    "k8s.io.apimachinery.pkg.runtime.TypeMeta": "apiVersion? kind?",
    _CORE + "ConfigMap": "metadata? immutable*? data? binaryData?",
    _CORE + "Secret": "metadata? immutable*? data? stringData? type?",
    _CORE + "Namespace": "metadata? spec? status?",
    _CORE + "NamespaceSpec": "finalizers?",
    _CORE + "NamespaceStatus": "phase? conditions?",
    _CORE + "NamespaceCondition": "type status lastTransitionTime? reason? message?",
    _CORE + "Service": "metadata? spec? status?",
    _CORE + "ServiceSpec": "ports? selector? clusterIP? clusterIPs? type? externalIPs? sessionAffinity? "
    "loadBalancerIP? loadBalancerSourceRanges? externalName? externalTrafficPolicy? healthCheckNodePort? "
    "publishNotReadyAddresses? sessionAffinityConfig*? ipFamilies? ipFamilyPolicy*? "
    "allocateLoadBalancerNodePorts*? loadBalancerClass*? internalTrafficPolicy*? trafficDistribution*?",
    _CORE + "ServicePort": "name? protocol? appProtocol*? port targetPort? nodePort?",
    _CORE + "SessionAffinityConfig": "clientIP*?",
    _CORE + "ClientIPConfig": "timeoutSeconds*?",
    _CORE + "ServiceStatus": "loadBalancer? conditions?",
    _CORE + "LoadBalancerStatus": "ingress?",
    _CORE + "LoadBalancerIngress": "ip? hostname? ipMode*? ports?",
    _CORE + "PortStatus": "port protocol error*?",
    _CORE + "Endpoints": "metadata? subsets?",
    _CORE + "EndpointSubset": "addresses? notReadyAddresses? ports?",
    _CORE + "EndpointAddress": "ip hostname? nodeName*? targetRef*?",
    _CORE + "EndpointPort": "name? port protocol? appProtocol*?",
    _CORE + "ObjectReference": "kind? namespace? name? uid? apiVersion? resourceVersion? fieldPath?",
    _CORE + "LocalObjectReference": "name?",
    _CORE + "ServiceAccount": "metadata? secrets? imagePullSecrets? automountServiceAccountToken*?",
    _CORE + "Event": "metadata involvedObject reason? message? source? firstTimestamp? lastTimestamp? "
    "count? type? eventTime? series*? action? related*? reportingComponent reportingInstance",
    _CORE + "EventSource": "component? host?",
    _CORE + "EventSeries": "count? lastObservedTime?",
    _CORE + "RangeAllocation": "metadata? range data",
    "k8s.io.api.coordination.v1.Lease": "metadata? spec?",
    "k8s.io.api.coordination.v1.LeaseSpec": "holderIdentity*? leaseDurationSeconds*? acquireTime*? renewTime*? "
    "leaseTransitions*? strategy*? preferredHolder*?",
    "k8s.io.api.events.v1.Event": "metadata? eventTime series*? reportingController? reportingInstance? action? "
    "reason? regarding? related*? note? type? deprecatedSource? deprecatedFirstTimestamp? "
    "deprecatedLastTimestamp? deprecatedCount?",
    "k8s.io.api.events.v1.EventSeries": "count lastObservedTime",
    "k8s.io.api.discovery.v1.EndpointSlice": "metadata? addressType endpoints ports",
    "k8s.io.api.discovery.v1.Endpoint": "addresses conditions? hostname*? targetRef*? deprecatedTopology? "
    "nodeName*? zone*? hints*?",
    "k8s.io.api.discovery.v1.EndpointConditions": "ready*? serving*? terminating*?",
    "k8s.io.api.discovery.v1.EndpointHints": "forZones? forNodes?",
    "k8s.io.api.discovery.v1.ForZone": "name",
    "k8s.io.api.discovery.v1.ForNode": "name",
    "k8s.io.api.discovery.v1.EndpointPort": "name*? protocol*? port*? appProtocol*?",
    "k8s.io.api.rbac.v1.PolicyRule": "verbs apiGroups? resources? resourceNames? nonResourceURLs?",
    "k8s.io.api.rbac.v1.Subject": "kind apiGroup? name namespace?",
    "k8s.io.api.rbac.v1.RoleRef": "apiGroup kind name",
    "k8s.io.api.rbac.v1.Role": "metadata? rules",
    "k8s.io.api.rbac.v1.RoleBinding": "metadata? subjects? roleRef",
    "k8s.io.api.rbac.v1.ClusterRole": "metadata? rules aggregationRule*?",
    "k8s.io.api.rbac.v1.AggregationRule": "clusterRoleSelectors?",
    "k8s.io.api.rbac.v1.ClusterRoleBinding": "metadata? subjects? roleRef",
    "k8s.io.api.scheduling.v1.PriorityClass": "metadata? value globalDefault? description? preemptionPolicy*?",
}

BUILTIN_FACTS: dict[str, MessageFacts] = {name: parse_compact(spec) for name, spec in _BUILTIN_SPECS.items()}


# ---------------------------------------------------------------------------------------
# types.go reader (for fetched schemas)

_STRUCT_RE = re.compile(r"^type\s+([A-Z]\w*)\s+struct\s*\{\s*$")
_SLICE_RE = re.compile(r"^type\s+([A-Z]\w*)\s+\[\]\s*([\w.*]+)\s*$")
_FIELD_RE = re.compile(
    r"^\s*(?:(?P<name>[A-Z]\w*)\s+)?(?P<type>[\w.*\[\]]+(?:\[[\w.*]+\][\w.*\[\]]+)?)\s*`(?P<tag>[^`]*)`"
)
_TAG_RE = re.compile(r'(\w+):"([^"]*)"')


def _tag_map(tag: str) -> dict[str, str]:
    return dict(_TAG_RE.findall(tag))


def parse_types_go(source: str, proto_package: str) -> dict[str, MessageFacts]:
    """Read Go struct tags from a ``types.go`` file.

    Returns facts keyed by full proto message name (``proto_package + "." + Go type name``).
    Only fields with a ``protobuf:"..."`` tag are proto fields; the proto field name is the
    tag's ``name=`` part. ``json:",inline"`` marks inlining; fields without a json tag use the
    Go name (Go's default). ``type X []T`` declarations are recorded as list wrappers.
    Comments are skipped; struct bodies are read line by line, which is how gofmt lays out
    the Kubernetes API types.
    """
    out: dict[str, MessageFacts] = {}
    current: MessageFacts | None = None
    depth = 0
    for raw_line in source.splitlines():
        line = raw_line.split("//", 1)[0] if "`" not in raw_line else raw_line
        stripped = line.strip()
        if current is None:
            m = _STRUCT_RE.match(stripped)
            if m:
                current = MessageFacts()
                out[f"{proto_package}.{m.group(1)}"] = current
                depth = 1
                continue
            m = _SLICE_RE.match(stripped)
            if m:
                out[f"{proto_package}.{m.group(1)}"] = MessageFacts(list_wrapper=True)
            continue
        if stripped.startswith("//") or not stripped:
            continue
        if "{" in stripped and "`" not in stripped:
            depth += stripped.count("{")
        if stripped.startswith("}"):
            depth -= 1
            if depth <= 0:
                current = None
            continue
        if depth > 1:
            continue
        m = _FIELD_RE.match(line)
        if not m:
            continue
        tags = _tag_map(m.group("tag"))
        pb = tags.get("protobuf")
        if not pb:
            continue
        proto_name = None
        for part in pb.split(","):
            if part.startswith("name="):
                proto_name = part[5:]
        go_name = m.group("name")
        go_type = m.group("type")
        if not proto_name:
            # go-to-protobuf names a field without name= after its Go name, first letter
            # lower-cased (an embedded field's Go name is its type's name), e.g.
            # EphemeralContainerCommon in k8s.io/api/core/v1/types.go
            go_ident = go_name or go_type.lstrip("*").rsplit(".", 1)[-1]
            proto_name = go_ident[:1].lower() + go_ident[1:]
        json_tag = tags.get("json")
        parts = json_tag.split(",") if json_tag is not None else [go_name or ""]
        opts = set(parts[1:])
        inline = "inline" in opts or (go_name is None and not parts[0])
        json_name = "" if inline else (parts[0] or go_name or proto_name)
        current.fields.append(
            GoField(
                proto_name=proto_name,
                json_name=json_name,
                omitempty="omitempty" in opts or "omitzero" in opts,
                pointer=go_type.startswith("*"),
                inline=inline,
            )
        )
    return out
