"""The stand-in apiserver with validation and admission: CRD rules and ValidatingAdmissionPolicies.

Used ONLY by `k8slearn record --construct` (see `k8slearn.standin`). `AdmissionStandIn`
extends `StandIn` with what notebook 04 ("Does the apiserver agree?") asks of an apiserver:

* custom resources are validated against their CRD's `x-kubernetes-validations` on create
  and update; a failure is the apiserver's 422 Invalid Status.
* ValidatingAdmissionPolicies and their bindings (admissionregistration.k8s.io/v1) can be
  created, read, listed and deleted, and every create/update (POST/PUT) of another object
  passes through them: Deny refuses the request, Warn adds a `Warning` response header,
  Audit is invisible to the client (kept in `audit_annotations` for tests).
* Namespaces get the `kubernetes.io/metadata.name` label, CRD deletion follows the CRD
  finalizer (its custom resources are deleted, then the CRD).

IMPORTANT: the CEL evaluation here IS `k8slearn.cel` (`validate_crd`, `admit`). When a notebook
compares the answers of a *constructed* recording with `k8slearn.cel`, agreement shows that the
wire format (status codes, Status messages, Warning headers) is modelled; it is not an
independent check of the evaluator. Only a live (or live-recorded) cluster is that.

Every rule below cites the kube-apiserver source or documentation it follows. Deviations,
all deliberate and documented here:
* policies and bindings are kept in memory, not in etcd: the project has no protobuf schema
  for admissionregistration.k8s.io, and writing them with another encoding would teach a
  wrong storage format. Their resourceVersion is etcd's revision when they were created.
  Their `status` (type checking, set by a controller) is not modelled.
* admission runs on POST and PUT only (not on PATCH or server-side apply), not on the status
  subresource, and not on policies/bindings themselves; the admitted object is the request
  body (system fields such as uid and creationTimestamp are not yet set); paramRef is not
  resolved (a policy with paramKind sees no params, so its parameterNotFoundAction applies);
  a policy with a namespaceSelector does not match objects whose namespace does not exist.
* the CRD finalizer's work happens at once, inside the DELETE request (a real apiserver
  does it moments later, in a controller).
"""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs, urlsplit

from . import etcd as etcdmod
from .standin import _BY_PATH, ApiError, Resource, StandIn, canonical, managed_fields_for, success_status

GROUP = "admissionregistration.k8s.io"
POLICIES = Resource(GROUP, "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", False)
BINDINGS = Resource(GROUP, "v1", "validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding", False)
_POLICY_TYPES = {r.resource: r for r in (POLICIES, BINDINGS)}

# The label the apiserver sets on every namespace (its value is the namespace's name):
# https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

# apiextensions.CustomResourceCleanupFinalizer and the condition the CRD registry sets on the
# first DELETE (staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresourcedefinition/etcd.go,
# REST.Delete)
CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
CRD_TERMINATING = {"type": "Terminating", "status": "True", "reason": "InstanceDeletionPending",
                   "message": "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon"}

# Go's encoding/json writes struct fields in declaration order (k8s.io/api/admissionregistration/v1/types.go)
_ORDER = {
    "policy_spec": ["paramKind", "matchConstraints", "validations", "failurePolicy", "auditAnnotations",
                    "matchConditions", "variables"],
    "binding_spec": ["policyName", "paramRef", "matchResources", "validationActions"],
    "match": ["namespaceSelector", "objectSelector", "resourceRules", "excludeResourceRules", "matchPolicy"],
    "rule": ["resourceNames", "operations", "apiGroups", "apiVersions", "resources", "scope"],
}


def _ordered(d: dict, order: list[str]) -> dict:
    out = {k: d[k] for k in order if k in d}
    out.update({k: v for k, v in d.items() if k not in out})
    return out


def warning_header(text: str, agent: str = "-") -> str:
    """A Warning header value as the apiserver writes it: `299 - "<text>"` with `"` and `\\`
    escaped (NewWarningHeader / makeQuotedString in
    staging/src/k8s.io/apimachinery/pkg/util/net/http.go; code 299 from
    staging/src/k8s.io/apiserver/pkg/endpoints/filters/warning.go). An empty agent is "-"."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 {agent or "-"} "{quoted}"'


def _match_defaults(match: dict) -> dict:
    """SetDefaults_MatchResources and SetDefaults_Rule: matchPolicy Equivalent, empty
    namespace/object selectors, rule scope "*"
    (pkg/apis/admissionregistration/v1/defaults.go; the same in v1beta1)."""
    match = dict(match)
    match.setdefault("namespaceSelector", {})
    match.setdefault("objectSelector", {})
    match.setdefault("matchPolicy", "Equivalent")
    for field in ("resourceRules", "excludeResourceRules"):
        if field in match:
            match[field] = [_ordered(dict({"scope": "*"}, **r), _ORDER["rule"]) for r in match[field]]
    return _ordered(match, _ORDER["match"])


def default_policy(obj: dict) -> dict:
    """A ValidatingAdmissionPolicy with the apiserver's defaults: failurePolicy Fail
    (SetDefaults_ValidatingAdmissionPolicySpec) and the MatchResources defaults."""
    spec = dict(obj.get("spec") or {})
    spec.setdefault("failurePolicy", "Fail")
    if "matchConstraints" in spec:
        spec["matchConstraints"] = _match_defaults(spec["matchConstraints"])
    obj["spec"] = _ordered(spec, _ORDER["policy_spec"])
    return obj


def default_binding(obj: dict) -> dict:
    """A ValidatingAdmissionPolicyBinding with the MatchResources defaults (when it has one)."""
    spec = dict(obj.get("spec") or {})
    if "matchResources" in spec:
        spec["matchResources"] = _match_defaults(spec["matchResources"])
    obj["spec"] = _ordered(spec, _ORDER["binding_spec"])
    return obj


def invalid_status(qualified_kind: str, group: str, kind: str, name: str, violations) -> ApiError:
    """errors.NewInvalid (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go): 422 Invalid,
    message `<Kind>.<group> "<name>" is invalid: <errors>`, one cause per field error with
    reason = the error type, message = ErrorBody(), field. Several errors print as
    `[e1, e2]` with duplicates dropped (field.ErrorList.ToAggregate, util/errors aggregate)."""
    texts: list[str] = []
    for v in violations:
        if str(v) not in texts:
            texts.append(str(v))
    agg = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    causes = [{"reason": v.reason, "message": str(v)[len(v.field) + 2:], "field": v.field} for v in violations]
    details = {"name": name, "group": group, "kind": kind, "causes": causes}
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {agg}',
                    {k: v for k, v in details.items() if v not in ("", None)})


class AdmissionStandIn(StandIn):
    """`StandIn` plus CRD validation rules, ValidatingAdmissionPolicies and Warning headers."""

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        self.policies: dict[str, dict] = {}
        self.bindings: dict[str, dict] = {}
        self.audit_annotations: list[dict] = []  # what an audit log would get; never sent to clients
        self._tls = threading.local()

    # ------------------------------------------------------------ warnings
    def _warn(self, text: str):
        # the warning recorder drops empty texts and repeats within one request (filters/warning.go)
        pending = self._tls.__dict__.setdefault("warnings", [])
        if text and text not in pending:
            pending.append(text)

    def take_warnings(self) -> list[str]:
        """The warnings of the request being answered on this thread (and forget them)."""
        pending = self._tls.__dict__.get("warnings", [])
        self._tls.warnings = []
        return pending

    def start(self) -> str:
        url = super().start()
        standin = self
        plain = self.server.RequestHandlerClass

        class WarningHandler(plain):
            def end_headers(self):
                # one `Warning` header per warning, on success and error responses alike: the
                # recorder adds them to the response writer before the handler writes the body
                for text in standin.take_warnings():
                    self.send_header("Warning", warning_header(text))
                super().end_headers()

        # set before any request arrives; the server reads it per request
        self.server.RequestHandlerClass = WarningHandler
        return url

    # ------------------------------------------------------------ requests
    def handle(self, method: str, target: str, body: bytes, user_agent: str, content_type: str = ""):
        self._tls.warnings = []
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        policy_route = self._policy_route(url.path)
        if policy_route is not None:
            self._maybe_compact()
            return self._policy_request(method, *policy_route, body, user_agent, query)
        routed = self.route(url.path)
        if routed is not None and method in ("POST", "PUT", "DELETE"):
            res, ns, name = routed
            status_sub = method == "PUT" and name is not None and url.path.endswith(f"/{name}/status")
            if method == "DELETE" and res.resource == "customresourcedefinitions" and name:
                self._maybe_compact()
                return 200, self._delete_crd(res, name)
            if method in ("POST", "PUT") and body and not status_sub:
                doc = json.loads(body)
                if res.resource == "namespaces" and isinstance(doc, dict):
                    ns_name = (doc.get("metadata") or {}).get("name") or name
                    if ns_name:
                        doc.setdefault("metadata", {}).setdefault("labels", {})
                        doc["metadata"]["labels"] = dict(doc["metadata"]["labels"] or {}, **{NAMESPACE_NAME_LABEL: ns_name})
                        body = json.dumps(doc).encode()
                self._maybe_compact()
                self._validate_and_admit(method, res, ns, name, doc)
        return super().handle(method, target, body, user_agent, content_type)

    # ------------------------------------------------------------ CRD rules + admission
    def _crd_for(self, res: Resource) -> dict:
        return self.get(_BY_PATH[("apiextensions.k8s.io", "v1", "customresourcedefinitions")], None,
                        f"{res.resource}.{res.group}")

    def _validate_and_admit(self, method: str, res: Resource, ns: str | None, name: str | None, doc: dict):
        """Run, in the apiserver's order, the type's validation and then validating admission.

        genericregistry Store.Create calls rest.BeforeCreate (the strategy's Validate, which for
        a custom resource includes its CEL rules) and only then the admission validators
        (createValidation); Store.Update checks the resourceVersion precondition, then
        BeforeUpdate, then updateValidation
        (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go)."""
        if not isinstance(doc, dict):
            return
        meta = doc.get("metadata") or {}
        obj_name = name or meta.get("name") or meta.get("generateName") or ""
        old = None
        if method == "PUT":
            cur = self._current(res, ns, name)
            if cur is None:
                return  # the base answers 404
            if res.custom and not meta.get("resourceVersion"):
                return  # the base answers 422 "must be specified for an update" first
            old = self.decode(cur.value, cur.mod_revision)
        if res.custom:
            self._validate_custom(res, doc, old, obj_name)
        self._admit(res, ns, obj_name, doc, old, "UPDATE" if old is not None else "CREATE")

    def _validate_custom(self, res: Resource, doc: dict, old: dict | None, name: str):
        """A custom resource's CEL rules (k8slearn.cel.validate_crd) with the 422 the CR strategy
        returns through rest.BeforeCreate/BeforeUpdate: errors.NewInvalid(kind.GroupKind(), name, errs)
        (staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go;
        rule failures are field.Invalid(path, <schema type>, message):
        staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go)."""
        from .cel import CELError, validate_crd

        crd = self._crd_for(res)
        try:
            violations = validate_crd(crd, doc, old, version=res.version)
        except CELError as e:
            raise ApiError(500, "InternalError", f"stand-in error: the CRD's rules could not be evaluated "
                           f"by k8slearn.cel: {e}") from None
        if violations:
            raise invalid_status(f"{res.kind}.{res.group}", res.group, res.kind, name, violations)

    def _namespace_object(self, ns: str | None) -> dict | None:
        if not ns:
            return None
        kv = self._current(_BY_PATH[("", "v1", "namespaces")], None, ns)
        return self.decode(kv.value, kv.mod_revision) if kv is not None else None

    def _admit(self, res: Resource, ns: str | None, name: str, obj: dict, old: dict | None, operation: str):
        """Every policy + binding on one request, as the validating dispatcher does
        (staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/validating/dispatcher.go):
        Deny collects a denial (the first one is returned), Warn calls warning.AddWarning,
        Audit publishes the validation_failure annotation. The denial is
        admission.NewForbidden(...) (`<resource>[.<group>] "<name>" is forbidden: <message>`)
        with its reason replaced by the validation's reason (default Invalid), its code by the
        reason's code (Invalid: 422), and the message appended as a cause."""
        if not self.bindings:
            return
        from .cel import CELError, admit

        # the dispatcher treats a Namespace as cluster-scoped (its own namespace is unset)
        namespace = "" if res.resource == "namespaces" and not res.group else (ns or "")
        ns_obj = self._namespace_object(namespace)
        request = {"operation": operation, "name": name, "namespace": namespace,
                   "resource": {"group": res.group, "version": res.version, "resource": res.resource},
                   "kind": {"group": res.group, "version": res.version, "kind": res.kind},
                   "subResource": "", "object": obj, "oldObject": old, "dryRun": False}
        denied = None
        for pname in sorted(self.policies):
            policy = self.policies[pname]
            needs_ns = any((c or {}).get("namespaceSelector") for c in
                           [policy["spec"].get("matchConstraints")])
            for bname in sorted(self.bindings):
                binding = self.bindings[bname]
                if binding["spec"].get("policyName") != pname:
                    continue
                binding_needs_ns = bool((binding["spec"].get("matchResources") or {}).get("namespaceSelector"))
                if namespace and ns_obj is None and (needs_ns or binding_needs_ns):
                    continue  # see the module docstring: no Namespace object to select on
                try:
                    result = admit(policy, binding, request, namespace_object=ns_obj)
                except CELError as e:
                    raise ApiError(500, "InternalError", f"stand-in error: k8slearn.cel cannot evaluate "
                                   f"ValidatingAdmissionPolicy '{pname}' here: {e}") from None
                for w in result.warnings:
                    self._warn(w)
                if result.audit_annotations:
                    self.audit_annotations.append({"policy": pname, "binding": bname, "request": name,
                                                   "annotations": dict(result.audit_annotations)})
                if not result.allowed and denied is None:
                    denied = result
        if denied is not None:
            inner = denied.message.split(" is forbidden: ", 1)[1]
            details = {"name": name, "group": res.group, "kind": res.resource, "causes": [{"message": inner}]}
            raise ApiError(denied.code, denied.reason, denied.message,
                           {k: v for k, v in details.items() if v not in ("", None)})

    # ------------------------------------------------------------ CRD deletion
    def _delete_crd(self, res: Resource, name: str) -> dict:
        """DELETE of a CRD: the registry sets deletionTimestamp, adds the cleanup finalizer and the
        Terminating condition, and answers with the CRD (200); the finalizer controller then
        deletes every custom resource and removes the finalizer, and the CRD goes
        (customresourcedefinition/etcd.go REST.Delete;
        staging/src/k8s.io/apiextensions-apiserver/pkg/controller/finalizer/crd_finalizer.go)."""
        with self._lock:
            cur = self._current(res, None, name)
            if cur is None:
                raise self._not_found(res, name)
            crd = self.decode(cur.value, cur.mod_revision)
            meta = crd["metadata"]
            meta.pop("resourceVersion", None)
            meta.setdefault("deletionTimestamp", self.clock.stamp())
            meta["deletionGracePeriodSeconds"] = 0  # metav1.NewDeleteOptions(0) in REST.Delete
            if CRD_FINALIZER not in (meta.get("finalizers") or []):
                meta["finalizers"] = list(meta.get("finalizers") or []) + [CRD_FINALIZER]
            conds = [c for c in (crd.get("status") or {}).get("conditions", []) if c.get("type") != "Terminating"]
            conds.append(dict(CRD_TERMINATING, lastTransitionTime=self.clock.stamp()))
            crd.setdefault("status", {})["conditions"] = conds
            key = self.key(res, None, name).encode()
            t = self.client.transactions
            ok, _r, rev = etcdmod.txn(self.client, [t.mod(key) == cur.mod_revision], [t.put(key, self.encode(crd))])
            if not ok:
                raise self._conflict(res, name)
            answer = canonical(json.loads(json.dumps(crd)))
            answer["metadata"]["resourceVersion"] = str(rev)
            # the finalizer controller, at once: delete the custom resources, stop serving, delete the CRD
            spec = crd.get("spec") or {}
            group, plural = spec.get("group", ""), (spec.get("names") or {}).get("plural", "")
            prefix = f"{self.prefix}/{group}/{plural}/".encode()
            self.client.delete_prefix(prefix)
            for k in [k for k in self._custom if k[0] == group and k[2] == plural]:
                del self._custom[k]
            if not any(k[0] == group for k in self._custom):
                self._custom_groups.discard(group)
            self.client.delete(key)
        return answer

    # ------------------------------------------------------------ policies and bindings
    @staticmethod
    def _policy_route(path: str):
        parts = path.strip("/").split("/")
        if len(parts) in (4, 5) and parts[:3] == ["apis", GROUP, "v1"] and parts[3] in _POLICY_TYPES:
            return _POLICY_TYPES[parts[3]], (parts[4] if len(parts) == 5 else None)
        return None

    def _policy_request(self, method, res: Resource, name, body: bytes, user_agent: str, query: dict):
        store = self.policies if res is POLICIES else self.bindings
        manager = query.get("fieldManager") or (user_agent or "unknown").split("/")[0]
        if method == "GET" and name:
            if name not in store:
                raise self._not_found(res, name)
            return 200, json.loads(json.dumps(store[name]))
        if method == "GET":
            items = []
            for n in sorted(store):
                item = json.loads(json.dumps(store[n]))
                item.pop("apiVersion", None)
                item.pop("kind", None)
                items.append(item)
            return 200, {"kind": f"{res.kind}List", "apiVersion": res.api_version,
                         "metadata": {"resourceVersion": str(etcdmod.current_revision(self.client))}, "items": items}
        if method == "POST" and name is None:
            return 201, self._create_policy_object(res, store, json.loads(body or b"{}"), manager)
        if method == "DELETE" and name:
            with self._lock:
                if name not in store:
                    raise self._not_found(res, name)
                gone = store.pop(name)
            # generic registry: a Status naming the deleted object (registry/store.go finalizeDelete)
            return 200, success_status(res, name, gone["metadata"]["uid"])
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource "
                       "(the stand-in models create, get, list and delete of policies and bindings)")

    def _create_policy_object(self, res: Resource, store: dict, body: dict, manager: str) -> dict:
        meta = body.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            raise ApiError(422, "Invalid", f'{res.kind}.{res.group} "" is invalid: metadata.name: Required value: '
                           "name or generateName is required",
                           {"group": res.group, "kind": res.kind, "causes": [
                               {"reason": "FieldValueRequired", "message": "Required value: name or generateName is required",
                                "field": "metadata.name"}]})
        body["apiVersion"], body["kind"] = res.api_version, res.kind
        body = default_policy(body) if res is POLICIES else default_binding(body)
        with self._lock:
            if name in store:
                raise ApiError(409, "AlreadyExists", f'{res.resource}.{res.group} "{name}" already exists',
                               {"name": name, "group": res.group, "kind": res.resource})
            when = self.clock.stamp()
            meta = body["metadata"]
            meta["uid"] = self.clock.uid()
            # not written to etcd (see the module docstring): the revision the cluster was at
            meta["resourceVersion"] = str(etcdmod.current_revision(self.client))
            meta["generation"] = 1
            meta["creationTimestamp"] = when
            meta["managedFields"] = [managed_fields_for(body, manager, "Update", res.api_version, when)]
            if res is POLICIES:
                # ValidatingAdmissionPolicy.Status is a struct: Go's encoding/json writes it even
                # when empty; a controller fills it in later (not modelled)
                body["status"] = {}
            stored = canonical(body)
            store[name] = stored
        return json.loads(json.dumps(stored))

