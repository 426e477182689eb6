"""Evaluate a CustomResourceDefinition's ``x-kubernetes-validations`` rules locally.

Behaviour follows kube-apiserver v1.37.2 (apiextensions-apiserver v0.37.2,
pkg/apiserver/schema/cel/validation.go, ``validateExpressions``) and the CRD docs
(https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation-rules):

* ``self`` is the node the rule is attached to; ``oldSelf`` the correlated old value. Rules
  run only on non-null values.
* A transition rule (uses ``oldSelf``) runs only on update when the old value exists,
  unless ``optionalOldSelf: true``, in which case ``oldSelf`` is an optional (``optional.none()``
  when there is no old value). A ``messageExpression`` sees the plain ``oldSelf``.
* Failure message: ``messageExpression`` when it evaluates to a non-empty single-line string
  of at most 5 KiB, else ``message`` trimmed, else ``failed rule: <rule>``.
* Error format is Go's ``field.Error`` (apimachinery v0.37.2 pkg/util/validation/field/errors.go):
  for the default reason ``<path>: Invalid value: <value>: <message>``, where the value is left
  out for object and array nodes (since Kubernetes 1.35) and printed for scalars
  (``"text"``, ``9``, ``1.5``, ``true``); ``Forbidden: <msg>``, ``Required value: <msg>``;
  ``Duplicate value: <value>`` (no message at all).
* A rule that fails to evaluate reports ``<path>: Invalid value: "<schema type>": <cel-go error>
  evaluating rule: <message or rule>`` (cel-go wording, see _gomsg.py).
* Ratcheting (CRDValidationRatcheting, GA in 1.30): on update, a failure of a rule that does not
  use ``oldSelf`` on a node whose value is unchanged is **not** an error: the apiserver sends it
  back as a ``Warning`` header and accepts the object. Such failures are in the ``warnings``
  attribute of the returned list. A node correlates with its old value through object
  properties, additionalProperties keys and ``x-kubernetes-list-type: map`` items (by key);
  below a node that does not correlate (an item of another list), the nearest correlated
  ancestor decides. ``apiVersion`` and ``kind`` are never ratcheted.
* A rule on the root schema reports the field ``<nil>`` (the validator starts from a nil
  field.Path, apiextensions-apiserver pkg/registry/customresource/strategy.go).
* Order: rules of a node in order, then its children. The apiserver walks an object's
  properties in Go map order, which is random, so sibling fields' errors can come back in any
  order; compare them as sets.
Not implemented: schema-type conversions for nested date-time/duration/byte strings (they stay
strings), list-type set/map equality semantics in CEL, cost estimation and cost limits (the
apiserver refuses a CRD whose rules' estimated cost is too high; see notebook 04), the
embedded-resource implicit fields, non-CEL OpenAPI validation (minimum, pattern, ...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from k8slearn.cel._gomsg import bad_value, cel_go_error
from k8slearn.cel.engine import compile as cel_compile
from k8slearn.cel.errors import CELError

_REASON_TEXT = {
    "FieldValueInvalid": "Invalid value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueRequired": "Required value",
    "FieldValueDuplicate": "Duplicate value",
}
_OLDSELF = re.compile(r"\boldSelf\b")
_MAX_MESSAGE_BYTES = 5 * 1024  # MaxEvaluatedMessageExpressionSizeBytes, apiserver pkg/apis/cel/config.go


class _Omit:
    def __repr__(self):
        return "OMITTED"


OMITTED = _Omit()  # field.OmitValueType: the bad value is not printed


@dataclass(frozen=True)
class Violation:
    """One failed rule, as the apiserver would report it."""

    field: str  # e.g. "spec" or "spec.replicas"
    reason: str  # FieldValueInvalid (default), FieldValueForbidden, ...
    message: str  # the rule's message (or "failed rule: <rule>")
    rule: str
    schema_type: str
    value: Any = OMITTED  # the bad value printed after the reason (OMITTED for objects/arrays)

    def body(self) -> str:
        """What the apiserver puts in a Status cause's ``message`` (field.Error.ErrorBody)."""
        label = _REASON_TEXT.get(self.reason, "Invalid value")
        if self.reason in ("FieldValueForbidden", "FieldValueRequired"):
            return f"{label}: {self.message}"
        text = label if self.value is OMITTED else f"{label}: {bad_value(self.value)}"
        if self.reason == "FieldValueDuplicate":
            return text  # field.Duplicate carries no detail: the message is dropped
        return f"{text}: {self.message}"

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


class Violations(list):
    """The errors (a list of :class:`Violation`); ``.warnings`` holds the ratcheted failures,
    which the apiserver returns as ``Warning`` headers (``str(v)`` is the header's text)."""

    def __init__(self, errors=(), warnings=()):
        super().__init__(errors)
        self.warnings: list[Violation] = list(warnings)


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
    raise CELError(f"the CRD has no version {version!r}; it has {', '.join(v.get('name', '?') for v in versions)}")


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    """Go's reflect.DeepEqual on JSON values: an int is not equal to a float."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _map_keys(schema: dict) -> list:
    if schema.get("x-kubernetes-list-type") == "map":
        return schema.get("x-kubernetes-map-keys") or []
    return []


def _old_item(schema: dict, item: Any, old_items: Any) -> Any:
    """The old item a new list item correlates with: only in map-type lists, by its keys."""
    keys = _map_keys(schema)
    if not keys or not isinstance(old_items, list) or not isinstance(item, dict):
        return _MISSING
    want = tuple(json.dumps(item.get(k)) for k in keys)
    for o in old_items:
        if isinstance(o, dict) and tuple(json.dumps(o.get(k)) for k in keys) == want:
            return o
    return _MISSING


def _child_schema(schema: dict, key: str) -> dict | None:
    props = schema.get("properties") or {}
    if key in props:
        return props[key]
    addl = schema.get("additionalProperties")
    return addl if isinstance(addl, dict) else None


def _unchanged(schema: dict | None, value: Any, old: Any) -> bool:
    """CorrelatedObject.CachedDeepEqual (apiserver pkg/cel/common/equality.go)."""
    if value is None and old is None:
        return True
    if value is None or old is None or schema is None:
        return False
    if isinstance(value, dict) and isinstance(old, dict):
        if len(value) != len(old):
            return False
        for k, v in value.items():
            sub = _child_schema(schema, k)
            if k not in old or sub is None or not _unchanged(sub, v, old[k]):
                return False
        return True
    if isinstance(value, list) and isinstance(old, list):
        if len(value) != len(old):
            return False
        items = schema.get("items") if isinstance(schema.get("items"), dict) else None
        if not _map_keys(schema) or items is None:
            return _same(value, old)  # not correlatable item by item: compared as a unit
        for item in value:
            o = _old_item(schema, item, old)
            if o is _MISSING or not _unchanged(items, item, o):
                return False
        return True
    return _same(value, old)


class _Ratchet:
    """ratchetingOptions: the node's correlation (if any) and the nearest correlated ancestor's."""

    def __init__(self, current=None, parent=None):
        self.current, self.parent = current, parent  # (schema, value, old) triples or None

    def should_ratchet(self) -> bool:
        node = self.current if self.current is not None else self.parent
        return node is not None and _unchanged(*node)

    def key(self, key: str, at_root: bool) -> _Ratchet:
        if self.current is None:
            return self
        if at_root and key in ("apiVersion", "kind"):
            return _Ratchet()
        schema, value, old = self.current
        sub = _child_schema(schema, key) if schema is not None else None
        child = None
        if isinstance(value, dict) and isinstance(old, dict) and key in value and key in old and sub is not None:
            child = (sub, value[key], old[key])
        return _Ratchet(child, self.current)

    def index(self, i: int) -> _Ratchet:
        if self.current is None:
            return self
        schema, value, old = self.current
        items = schema.get("items") if isinstance(schema.get("items"), dict) else None
        child = None
        if items is not None and isinstance(value, list) and i < len(value):
            o = _old_item(schema, value[i], old)
            if o is not _MISSING and o is not None:
                child = (items, value[i], o)
        return _Ratchet(child, self.current)


_SCALAR_TYPES = {"integer": "int", "number": "double", "string": "string", "boolean": "bool"}


def _self_types(schema: dict, variables: dict) -> dict[str, str]:
    """CEL types of self/oldSelf for a scalar schema (string formats stay dynamic: k8slearn does
    not convert date-time, duration or byte strings). A JSON integer in a ``number`` field is
    handed over as a double, as the apiserver does."""
    t = _SCALAR_TYPES.get(schema.get("type", ""))
    if t is None or (t == "string" and schema.get("format")):
        return {}
    out = {}
    for name in ("self", "oldSelf"):
        if name in variables:
            if t == "double" and isinstance(variables[name], int) and not isinstance(variables[name], bool):
                variables[name] = float(variables[name])
            out[name] = t
    return out


def _message(rule: dict, value: Any, old: Any, schema: dict) -> str:
    if rule.get("messageExpression"):
        # the message expression sees the plain activation: oldSelf is not an optional
        variables = {"self": value} if old is _MISSING else {"self": value, "oldSelf": old}
        try:
            m = cel_compile(rule["messageExpression"], variables, types=_self_types(schema, variables)).evaluate(
                variables
            )
        except CELError:
            m = None  # the apiserver falls back to message / the default, and logs the error
        if isinstance(m, str):
            m = m.strip()
            if m and "\n" not in m and len(m.encode()) <= _MAX_MESSAGE_BYTES:
                return m
    if rule.get("message"):
        return rule["message"].strip()
    return f"failed rule: {rule.get('rule', '').strip()}"


def _run_rule(rule: dict, value: Any, old: Any, schema: dict, path: str, out: Violations, ratchet: _Ratchet):
    text = rule.get("rule", "")
    if not text:
        return
    transition = bool(_OLDSELF.search(text))
    optional_old = bool(rule.get("optionalOldSelf"))
    if transition and old is _MISSING and not optional_old:
        return  # transition rules only run on update with an existing old value
    variables = {"self": value}
    expr = text
    if optional_old:
        # optionalOldSelf: oldSelf is an optional value. Bind the raw value under a hidden
        # name and wrap it in CEL, since Python cannot build optionals for cel-expr-python.
        variables["__old"] = [] if old is _MISSING else [old]
        expr = _optional_old_expr(text)
    elif old is not _MISSING:
        variables["oldSelf"] = old
    schema_type = schema.get("type", "")
    try:
        ok = cel_compile(expr, variables, types=_self_types(schema, variables)).evaluate(variables)
    except CELError as exc:
        if exc.phase == "compile":
            raise
        # not ratcheted: evaluation errors are always errors
        detail = rule.get("message", "").strip() or text.strip()
        out.append(
            Violation(
                path or "<nil>",
                "FieldValueInvalid",
                f"{cel_go_error(exc.message)} evaluating rule: {detail}",
                text,
                schema_type,
                schema_type,
            )
        )
        return
    if ok is True:
        return
    if ok is not False:
        raise CELError(
            f"rule {text!r} at {path or '<root>'} returned {ok!r}; a validation rule must evaluate to a bool"
        )
    field_path = _join(path, rule["fieldPath"].lstrip(".")) if rule.get("fieldPath") else path
    shown = OMITTED if schema_type in ("object", "array") else value
    v = Violation(
        field_path or "<nil>",
        rule.get("reason") or "FieldValueInvalid",
        _message(rule, value, old, schema),
        text,
        schema_type,
        shown,
    )
    if not transition and ratchet.should_ratchet():
        out.warnings.append(v)
    else:
        out.append(v)


def _optional_old_expr(text: str) -> str:
    # `oldSelf` becomes an optional built from the hidden one-element list __old.
    return f"[__old].map(o, o.size() == 0 ? optional.none() : optional.of(o[0])).all(oldSelf, {text})"


def _walk(schema: dict, value: Any, old: Any, path: str, out: Violations, ratchet: _Ratchet, at_root: bool = False):
    if value is None:
        return  # rules only validate non-null values
    if old is None:
        old = _MISSING
    for rule in schema.get("x-kubernetes-validations") or []:
        _run_rule(rule, value, old, schema, path, out, ratchet)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        for key, child in value.items():
            sub = props.get(key) or (addl if isinstance(addl, dict) else None)
            if sub is None:
                continue
            child_old = old.get(key, _MISSING) if isinstance(old, dict) else _MISSING
            _walk(
                sub,
                child,
                child_old,
                _join(path, key) if key in props else f"{path}[{key}]",
                out,
                ratchet.key(key, at_root),
            )
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _walk(schema["items"], item, _old_item(schema, item, old), f"{path}[{i}]", out, ratchet.index(i))


_REASONS = ("FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired")


def _go_json(rule: dict) -> str:
    """A rule as the apiserver prints it in creation errors: Go's encoding/json of
    apiextensions.ValidationRule (unset pointers are null; <, > and & escaped)."""
    reason = rule.get("reason")
    old = rule.get("optionalOldSelf")
    fields = {
        "Rule": rule.get("rule", ""),
        "Message": rule.get("message", ""),
        "MessageExpression": rule.get("messageExpression", ""),
        "Reason": reason if reason else None,
        "FieldPath": rule.get("fieldPath", ""),
        "OptionalOldSelf": old if old is not None else None,
    }
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _valid_field_path(schema: dict, path: str) -> bool:
    node: dict | None = schema
    for part in path.lstrip(".").split("."):
        if not part or node is None:
            return False
        node = _child_schema(node, part)
    return node is not None


def _refuse(text: str) -> CELError:
    return CELError(f"compile error: {text}", phase="compile")


def check_rules(schema: dict) -> None:
    """What the apiserver checks when the CRD is created (apiextensions validation.go): the
    reason is one of four, fieldPath names a field of the schema, rule and messageExpression
    compile and have the types bool and string. CELError (phase "compile") otherwise."""
    stack = [schema]
    while stack:
        node = stack.pop()
        for rule in node.get("x-kubernetes-validations") or []:
            reason = rule.get("reason")
            if reason and reason not in _REASONS:
                choices = ", ".join(f'"{r}"' for r in _REASONS)
                raise _refuse(f'Unsupported value: "{reason}": supported values: {choices}')
            if rule.get("fieldPath") and not _valid_field_path(node, rule["fieldPath"]):
                raise _refuse(f'Invalid value: "{rule["fieldPath"]}": must be a valid path')
            variables = {"self": None}
            if _OLDSELF.search(rule.get("rule", "")) and not rule.get("optionalOldSelf"):
                variables["oldSelf"] = None
            types = _self_types(node, dict(variables))
            if rule.get("rule"):
                if rule.get("optionalOldSelf"):
                    prog = cel_compile(_optional_old_expr(rule["rule"]), {"self": None, "__old": None}, types=types)
                else:
                    prog = cel_compile(rule["rule"], variables, types=types)
                if not rule.get("optionalOldSelf") and prog.result_type() not in ("bool", "dyn"):
                    raise _refuse(f"Invalid value: {_go_json(rule)}: cel expression must evaluate to a bool")
                planned = prog.planning_error()
                if planned is not None:
                    when, text = planned
                    if when == "instantiation":
                        text = f"Invalid value: {_go_json(rule)}: program instantiation failed: {text}"
                    raise _refuse(text)
            if rule.get("messageExpression"):
                mvars = (
                    {"self": None, "oldSelf": None} if _OLDSELF.search(rule["messageExpression"]) else {"self": None}
                )
                mtypes = _self_types(node, dict(mvars))
                if cel_compile(rule["messageExpression"], mvars, types=mtypes).result_type() not in ("string", "dyn"):
                    raise _refuse(f"Invalid value: {_go_json(rule)}: messageExpression must evaluate to a string")
        for sub in (node.get("properties") or {}).values():
            stack.append(sub)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                stack.append(node[key])


def validate_crd(crd: dict, obj: dict, old_obj: dict | None = None, version: str | None = None) -> Violations:
    """Evaluate every ``x-kubernetes-validations`` rule of ``crd``'s schema against ``obj``.

    ``old_obj`` makes it an update (transition rules and ratcheting apply). ``version``
    picks a version of the CRD (default: the storage version). Returns the violations
    (empty list = valid; ``str(v)`` gives the apiserver's wording) with the ratcheted
    failures, which the apiserver only warns about, in ``.warnings``.
    """
    v = _pick_version(crd, version)
    schema = (v.get("schema") or {}).get("openAPIV3Schema")
    if not isinstance(schema, dict):
        raise CELError(f"version {v.get('name')!r} of the CRD has no schema.openAPIV3Schema")
    check_rules(schema)
    out = Violations()
    ratchet = _Ratchet((schema, obj, old_obj)) if old_obj is not None else _Ratchet()
    _walk(schema, obj, _MISSING if old_obj is None else old_obj, "", out, ratchet, at_root=True)
    return out
