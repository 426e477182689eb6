"""Evaluate a ValidatingAdmissionPolicy and its binding against an admission request, locally.

Semantics of kube-apiserver v1.37.2 (apiserver v0.37.2,
pkg/admission/plugin/policy/validating/dispatcher.go and validator.go) and
https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/:
* denial message: ``ValidatingAdmissionPolicy '<policy>' with binding '<binding>' denied
  request: <message>``; wrapped by admission.NewForbidden as ``<resource> "<name>" is
  forbidden: ...`` (name: the request's, else the object's name or generateName, else
  ``Unknown``; the apiserver generates a generateName'd name before admission, so there the
  real message holds the generated name); status reason = the validation's reason (default
  Invalid -> 422; Forbidden -> 403).
* message: ``messageExpression`` if it yields a non-empty single-line string of at most 5 KiB,
  else ``message``, else ``failed expression: <expr>``.
* an expression that fails to evaluate: ``expression '<expr>' resulted in error: <cel-go
  error>``; with failurePolicy Fail it denies (reason Invalid), with Ignore it is skipped.
* matchConditions: all are evaluated; any ``false`` skips the policy; otherwise errors deny
  (Fail, message = the errors, several as ``[a, b]``) or skip it (Ignore).
* Warn: ``Validation failed for ValidatingAdmissionPolicy '<p>' with binding '<b>': <message>``,
  sent as a Warning header, also on a request that another policy denies.
* Audit: annotation ``validation.policy.admission.k8s.io/validation_failure`` holding a JSON
  list ``[{"message", "policy", "binding", "expressionIndex", "validationActions"}]``.
* auditAnnotations publish ``<policy name>/<key>``.
* a missing param with parameterNotFoundAction Deny: ``failed to configure binding: no params
  found for policy binding with `Deny` parameterNotFoundAction`` (skipped under Ignore).
Live-only, not evaluated here: ``authorizer``/``authorizer.requestResource`` (an expression
using them raises CELError), paramRef lookup (pass ``params=`` yourself), objectSelector /
namespaceSelector matchExpressions beyond In/NotIn/Exists/DoesNotExist, cost limits.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from k8slearn.cel._gomsg import cel_go_error
from k8slearn.cel.engine import compile as cel_compile
from k8slearn.cel.errors import CELError

_MAX_MESSAGE_BYTES = 5 * 1024  # MaxEvaluatedMessageExpressionSizeBytes, apiserver pkg/apis/cel/config.go
_REASON_CODE = {"Unauthorized": 401, "Forbidden": 403, "Invalid": 422, "RequestEntityTooLarge": 413}


@dataclass
class AdmissionResult:
    allowed: bool
    matched: bool  # did the policy+binding apply to this request at all
    message: str | None = None  # the Status message the client sees when denied
    reason: str | None = None
    code: int | None = None
    warnings: list[str] = field(default_factory=list)
    audit_annotations: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # evaluation errors (ignored or not)


def _labels_match(selector: dict | None, labels: dict) -> bool:
    """Label selector semantics (matchLabels AND matchExpressions); empty selector matches all."""
    if not selector:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and key in labels and labels[key] in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise CELError(f"unknown label selector operator {op!r}")
    return True


def _rule_matches(rule: dict, request: dict) -> bool:
    res = request.get("resource") or {}
    ops = rule.get("operations") or ["*"]

    def ok(allowed, v):
        return "*" in allowed or v in allowed

    resource = res.get("resource", "")
    sub = request.get("subResource") or ""
    full = f"{resource}/{sub}" if sub else resource
    resources = rule.get("resources") or ["*"]
    res_ok = (
        full in resources
        or "*" in resources
        and not sub
        or "*/*" in resources
        or (sub and f"{resource}/*" in resources)
        or (sub and f"*/{sub}" in resources)
    )
    return (
        ok(ops, request.get("operation"))
        and ok(rule.get("apiGroups") or ["*"], res.get("group", ""))
        and ok(rule.get("apiVersions") or ["*"], res.get("version", ""))
        and bool(res_ok)
    )


def _match(constraints: dict | None, request: dict, namespace_object: dict | None) -> bool:
    if not constraints:
        return True
    rules = constraints.get("resourceRules") or []
    if rules and not any(_rule_matches(r, request) for r in rules):
        return False
    if any(_rule_matches(r, request) for r in constraints.get("excludeResourceRules") or []):
        return False
    obj = request.get("object") or request.get("oldObject") or {}
    if not _labels_match(constraints.get("objectSelector"), (obj.get("metadata") or {}).get("labels") or {}):
        return False
    ns_sel = constraints.get("namespaceSelector")
    if ns_sel and request.get("namespace"):
        if namespace_object is None:
            raise CELError(
                "the policy has a namespaceSelector: pass namespace_object= (the "
                "request's Namespace) so it can be evaluated"
            )
        if not _labels_match(ns_sel, (namespace_object.get("metadata") or {}).get("labels") or {}):
            return False
    return True


class _Vars:
    """Lazily evaluated `variables.*` (each composited variable at most once)."""

    def __init__(self, defs, base):
        self.defs = {d["name"]: d["expression"] for d in defs or []}
        self.base = base
        self.values: dict[str, Any] = {}

    def resolve_for(self, expression: str) -> dict:
        used = set(re.findall(r"\bvariables\.([A-Za-z_][A-Za-z0-9_]*)", expression))
        for name in list(used):
            self._eval(name)
        return {n: self.values[n] for n in used if n in self.values}

    def _eval(self, name):
        if name in self.values or name not in self.defs:
            return
        expr = self.defs[name]
        deps = self.resolve_for(expr)
        env = dict(self.base, variables=deps)
        self.values[name] = cel_compile(expr, env).evaluate(env)


def admit(
    policy: dict, binding: dict, request: dict, *, params: Any = None, namespace_object: dict | None = None
) -> AdmissionResult:
    """Evaluate ``policy`` bound by ``binding`` against an AdmissionRequest-shaped ``request``.

    ``request`` holds at least ``operation``, ``resource`` ({group, version, resource}),
    ``name``, ``namespace``, ``object`` and/or ``oldObject`` (as in admission/v1
    AdmissionRequest). Returns an :class:`AdmissionResult`.
    """
    pspec, bspec = policy.get("spec") or {}, binding.get("spec") or {}
    for v in pspec.get("validations") or []:
        # refused when the policy is created (admissionregistration validation, supported reasons)
        allowed = ("Forbidden", "Invalid", "RequestEntityTooLarge")
        if v.get("reason") and v["reason"] not in allowed:
            choices = ", ".join(f'"{r}"' for r in allowed)
            raise CELError(
                f'compile error: Unsupported value: "{v["reason"]}": supported values: {choices}', phase="compile"
            )
    pname = (policy.get("metadata") or {}).get("name", "")
    bname = (binding.get("metadata") or {}).get("name", "")
    if bspec.get("policyName") not in (None, pname):
        raise CELError(f"binding {bname!r} is for policy {bspec.get('policyName')!r}, not {pname!r}")
    result = AdmissionResult(allowed=True, matched=False)
    if not (
        _match(pspec.get("matchConstraints"), request, namespace_object)
        and _match(bspec.get("matchResources"), request, namespace_object)
    ):
        return result
    fail_closed = pspec.get("failurePolicy", "Fail") == "Fail"
    if pspec.get("paramKind") and params is None:
        # the apiserver denies when the param is missing and parameterNotFoundAction is Deny
        action = (bspec.get("paramRef") or {}).get("parameterNotFoundAction", "Deny")
        if action == "Deny":
            if not fail_closed:
                return result
            return _deny(
                result,
                pname,
                bname,
                request,
                "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction",
                None,
            )
    base = {
        "object": request.get("object"),
        "oldObject": request.get("oldObject"),
        "request": {k: v for k, v in request.items() if k not in ("object", "oldObject")},
        "params": params,
        "namespaceObject": namespace_object,
    }
    lazy = _Vars(pspec.get("variables"), base)

    def run(expr):
        if re.search(r"\bauthorizer\b", expr):
            raise CELError(
                "`authorizer` is live-only: it needs the apiserver's authorizer and "
                "cannot be evaluated by k8slearn; try the expression against a cluster"
            )
        env = dict(base, variables=lazy.resolve_for(expr))
        return cel_compile(expr, env).evaluate(env)

    def resulted_in_error(expr, exc):
        return f"expression '{expr}' resulted in error: {cel_go_error(exc.message)}"

    match_errors = []
    for mc in pspec.get("matchConditions") or []:
        try:
            if run(mc["expression"]) is False:
                return result  # a false match condition skips the policy, even after errors
        except CELError as exc:
            result.errors.append(f"matchCondition {mc.get('name')!r}: {exc}")
            match_errors.append(resulted_in_error(mc["expression"], exc))
    if match_errors:
        if not fail_closed:
            return result
        text = match_errors[0] if len(match_errors) == 1 else "[" + ", ".join(match_errors) + "]"
        return _deny(result, pname, bname, request, text, None)
    result.matched = True
    actions = bspec.get("validationActions") or []
    for i, v in enumerate(pspec.get("validations") or []):
        expr = v["expression"]
        try:
            ok = run(expr)
            if not isinstance(ok, bool):
                raise CELError(f"validation expression must evaluate to bool, got {ok!r}")
        except CELError as exc:
            result.errors.append(f"expression {expr!r}: {exc}")
            if not fail_closed:
                continue
            message, reason = resulted_in_error(expr, exc), None
        else:
            if ok:
                continue
            message = (v.get("message") or "").strip() or f"failed expression: {expr.strip()}"
            reason = v.get("reason")
            if v.get("messageExpression"):
                try:
                    m = run(v["messageExpression"])
                    if (
                        isinstance(m, str)
                        and m.strip()
                        and "\n" not in m
                        and len(m.strip().encode()) <= _MAX_MESSAGE_BYTES
                    ):
                        message = m.strip()
                except CELError as exc:
                    result.errors.append(f"messageExpression: {exc}")
        if "Warn" in actions:
            result.warnings.append(
                f"Validation failed for ValidatingAdmissionPolicy '{pname}' with binding '{bname}': {message}"
            )
        if "Audit" in actions:
            result.audit_annotations["validation.policy.admission.k8s.io/validation_failure"] = json.dumps(
                [
                    {
                        "message": message,
                        "policy": pname,
                        "binding": bname,
                        "expressionIndex": i,
                        "validationActions": actions,
                    }
                ],
                separators=(",", ":"),
            )
        if "Deny" in actions and result.allowed:
            _deny(result, pname, bname, request, message, reason)
    for a in pspec.get("auditAnnotations") or []:
        try:
            value = run(a["valueExpression"])
        except CELError as exc:
            result.errors.append(f"auditAnnotation {a.get('key')!r}: {exc}")
            continue
        if value is not None:
            result.audit_annotations[f"{pname}/{a['key']}"] = str(value)
    return result


def _deny(result, pname, bname, request, message, reason):
    text = f"ValidatingAdmissionPolicy '{pname}' with binding '{bname}' denied request: {message}"
    res = request.get("resource") or {}
    resource = res.get("resource", "")
    if res.get("group"):
        resource = f"{resource}.{res['group']}"
    meta = (request.get("object") or request.get("oldObject") or {}).get("metadata") or {}
    name = request.get("name") or meta.get("name") or meta.get("generateName") or "Unknown"
    result.allowed = False
    result.reason = reason or "Invalid"
    result.code = _REASON_CODE.get(result.reason, 422)
    result.message = f'{resource} "{name}" is forbidden: {text}'
    return result


@dataclass
class MutationResult:
    matched: bool  # did the policy+binding apply to this request at all
    patches: list[dict] = field(default_factory=list)  # each ApplyConfiguration expression's value
    object: dict | None = None  # the request's object with the patches merged in


def mutate(
    policy: dict, binding: dict, request: dict, *, params: Any = None, namespace_object: dict | None = None
) -> MutationResult:
    """Evaluate a MutatingAdmissionPolicy's ``ApplyConfiguration`` mutations on ``request``, locally.

    A deliberately small subset of apiserver v0.37.2 pkg/admission/plugin/policy/mutating:
    matchConstraints, the binding's matchResources, matchConditions (an error counts as no
    match) and variables are honoured; each ``applyConfiguration.expression`` is evaluated
    (without type checking: the ``Object{...}`` types are declared only by the apiserver, so
    the typed literals become maps, see _rewrite.py) and merged into the object by
    :func:`merge_apply_configuration`. Not covered: JSONPatch mutations, reinvocation,
    failurePolicy, and server-side apply's list merge keys.
    """
    pspec = policy.get("spec") or {}
    result = MutationResult(matched=False, object=request.get("object"))
    if not (
        _match(pspec.get("matchConstraints"), request, namespace_object)
        and _match((binding.get("spec") or {}).get("matchResources"), request, namespace_object)
    ):
        return result
    obj = json.loads(json.dumps(request.get("object")))
    base = {
        "object": obj,
        "oldObject": request.get("oldObject"),
        "request": {k: v for k, v in request.items() if k not in ("object", "oldObject")},
        "params": params,
        "namespaceObject": namespace_object,
    }
    lazy = _Vars(pspec.get("variables"), base)

    def run(expr, check=True):
        env = dict(base, object=obj, variables=lazy.resolve_for(expr))
        return cel_compile(expr, env, check=check).evaluate(env)

    for mc in pspec.get("matchConditions") or []:
        try:
            if run(mc["expression"]) is not True:
                return result
        except CELError:
            return result
    result.matched = True
    for m in pspec.get("mutations") or []:
        if m.get("patchType") != "ApplyConfiguration":
            raise CELError(f"k8slearn evaluates ApplyConfiguration mutations only, not {m.get('patchType')!r}")
        patch = run(m["applyConfiguration"]["expression"], check=False)
        result.patches.append(patch)
        obj = merge_apply_configuration(obj, patch)
    result.object = obj
    return result


def merge_apply_configuration(obj: Any, patch: Any) -> Any:
    """Merge an apply configuration into ``obj``: maps merge key by key, anything else replaces.

    That is server-side apply for maps (labels, annotations, nested structs) and atomic values;
    lists with merge keys (containers by name, ...) are merged by the apiserver, not here.
    """
    if isinstance(obj, dict) and isinstance(patch, dict):
        merged = dict(obj)
        for k, v in patch.items():
            merged[k] = merge_apply_configuration(obj.get(k), v)
        return merged
    return patch
