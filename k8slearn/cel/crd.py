"""Evaluate a CustomResourceDefinition's ``x-kubernetes-validations`` rules locally.

Behaviour follows the CRD docs (validation rules, transition rules, optionalOldSelf,
ratcheting):
https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation-rules
and the apiserver's cel validator
(staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go):
* ``self`` is the node the rule is attached to; ``oldSelf`` the correlated old value.
* A transition rule (uses ``oldSelf``) runs only on update when the old value exists,
  unless ``optionalOldSelf: true``, in which case ``oldSelf`` is an optional (``optional.none()``
  when there is no old value).
* Failure message: ``message`` trimmed, else ``failed rule: <rule>``
  (ruleMessageOrDefault); ``messageExpression`` wins when it evaluates to a non-empty
  single-line string.
* Error format is Go's field.Error: ``<path>: Invalid value: "<schema type>": <message>``
  for the default reason FieldValueInvalid; ``Forbidden: <msg>``, ``Required value: <msg>``,
  ``Duplicate value: ...`` for the other reasons.
* Ratcheting (CRDValidationRatcheting, GA in 1.30): on update, errors of rules that do not
  use ``oldSelf`` are dropped when the node's value is unchanged from the correlated old value;
  transition rules are never ratcheted. Correlation goes through object properties,
  additionalProperties keys and ``x-kubernetes-list-type: map`` items (by key), not through
  other lists.
Not implemented: schema-type conversions for nested date-time/duration/byte strings (they stay
strings), list-type set/map equality semantics, cost limits, the embedded-resource implicit
fields, non-CEL OpenAPI validation (minimum, pattern, ...).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .engine import compile as cel_compile
from .errors import CELError

_REASON_TEXT = {
    "FieldValueInvalid": "Invalid value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueRequired": "Required value",
    "FieldValueDuplicate": "Duplicate value",
}
_OLDSELF = re.compile(r"\boldSelf\b")


@dataclass(frozen=True)
class Violation:
    """One failed rule, as the apiserver would report it."""

    field: str  # e.g. "spec" or "spec.replicas"
    reason: str  # FieldValueInvalid (default), FieldValueForbidden, ...
    message: str  # the rule's message (or "failed rule: <rule>")
    rule: str
    schema_type: str

    def __str__(self) -> str:
        label = _REASON_TEXT.get(self.reason, "Invalid value")
        if self.reason == "FieldValueForbidden" or self.reason == "FieldValueRequired":
            return f"{self.field}: {label}: {self.message}"
        return f"{self.field}: {label}: {json.dumps(self.schema_type)}: {self.message}"


def _pick_version(crd: dict, version: str | None) -> dict:
    versions = crd.get("spec", {}).get("versions") or []
    if not versions:
        raise CELError("the CRD has no spec.versions; pass a CustomResourceDefinition object")
    if version is None:
        served = [v for v in versions if v.get("storage")] or versions
        return served[0]
    for v in versions:
        if v.get("name") == version:
            return v
    raise CELError(f"the CRD has no version {version!r}; it has "
                   f"{', '.join(v.get('name', '?') for v in versions)}")


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


_MISSING = object()


def _correlate_items(schema: dict, items: list, old_items: Any):
    """Yield (index, item, old_item) pairs; old_item only for map-type lists (by keys)."""
    keys = schema.get("x-kubernetes-map-keys") or []
    old_by_key = {}
    if schema.get("x-kubernetes-list-type") == "map" and keys and isinstance(old_items, list):
        for o in old_items:
            if isinstance(o, dict):
                old_by_key[tuple(json.dumps(o.get(k)) for k in keys)] = o
    for i, item in enumerate(items):
        old = _MISSING
        if old_by_key and isinstance(item, dict):
            old = old_by_key.get(tuple(json.dumps(item.get(k)) for k in keys), _MISSING)
        yield i, item, old


def _run_rule(rule: dict, value: Any, old: Any, schema: dict, path: str, out: list, is_update: bool):
    text = rule.get("rule", "")
    transition = bool(_OLDSELF.search(text))
    optional_old = bool(rule.get("optionalOldSelf"))
    if transition and old is _MISSING and not optional_old:
        return  # transition rules only run on update with an existing old value
    ratchet = is_update and not transition and old is not _MISSING and old == value
    variables = {"self": value}
    if transition:
        if optional_old:
            # optionalOldSelf: oldSelf is an optional value. Bind the raw value under a hidden
            # name and wrap it in CEL, since Python cannot build optionals for cel-expr-python.
            variables["__old"] = [] if old is _MISSING else [old]
            expr = _optional_old_expr(text)
        else:
            variables["oldSelf"] = old
            expr = text
    else:
        expr = text
    field_path = _join(path, rule["fieldPath"].lstrip(".")) if rule.get("fieldPath") else path
    try:
        ok = cel_compile(expr, variables).evaluate(variables)
    except CELError as exc:
        out.append(Violation(field_path or "<root>", "FieldValueInvalid",
                             f"rule evaluation error: {exc.message}", text, schema.get("type", "object")))
        return
    if ok is True or ratchet:
        return
    if ok is not False:
        raise CELError(f"rule {text!r} at {path or '<root>'} returned {ok!r}; a validation rule "
                       "must evaluate to a bool")
    message = rule.get("message", "").strip() or f"failed rule: {text.strip()}"
    if rule.get("messageExpression"):
        try:
            m = cel_compile(rule["messageExpression"], variables).evaluate(variables)
            if isinstance(m, str) and m.strip() and "\n" not in m:
                message = m.strip()
        except CELError:
            pass  # the apiserver falls back to message / the default, and logs the error
    out.append(Violation(field_path or "<root>", rule.get("reason") or "FieldValueInvalid",
                         message, text, schema.get("type", "object")))


def _optional_old_expr(text: str) -> str:
    # `oldSelf` becomes an optional built from the hidden one-element list __old.
    return ("[__old].map(o, o.size() == 0 ? optional.none() : optional.of(o[0]))"
            f".all(oldSelf, {text})")


def _walk(schema: dict, value: Any, old: Any, path: str, out: list, is_update: bool):
    for rule in schema.get("x-kubernetes-validations") or []:
        _run_rule(rule, value, old, schema, path, out, is_update)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        for key, child in value.items():
            sub = props.get(key) or (addl if isinstance(addl, dict) else None)
            if sub is None:
                continue
            child_old = old.get(key, _MISSING) if isinstance(old, dict) else _MISSING
            _walk(sub, child, child_old, _join(path, key) if key in props else f"{path}[{key}]",
                  out, is_update)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item, item_old in _correlate_items(schema, value, old):
            _walk(schema["items"], item, item_old, f"{path}[{i}]", out, is_update)


def validate_crd(crd: dict, obj: dict, old_obj: dict | None = None,
                 version: str | None = None) -> list[Violation]:
    """Evaluate every ``x-kubernetes-validations`` rule of ``crd``'s schema against ``obj``.

    ``old_obj`` makes it an update (transition rules and ratcheting apply). ``version``
    picks a version of the CRD (default: the storage version). Returns the violations
    (empty list = valid); ``str(v)`` gives the apiserver's wording.
    """
    v = _pick_version(crd, version)
    schema = (v.get("schema") or {}).get("openAPIV3Schema")
    if not isinstance(schema, dict):
        raise CELError(f"version {v.get('name')!r} of the CRD has no schema.openAPIV3Schema")
    out: list[Violation] = []
    _walk(schema, obj, _MISSING if old_obj is None else old_obj, "", out, old_obj is not None)
    return out
