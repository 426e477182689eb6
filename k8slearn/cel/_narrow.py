"""Refuse at compile time the calls Kubernetes' declarations refuse, where k8slearn declares dyn.

cel-cpp dispatches custom functions by value *kind*, so overloads that differ only in which
message they take (compareTo on Quantity and on Semver) are declared once with ``dyn``
parameters (see _decl._fold), and the list functions (sum, min, max, isSorted) take
``list(dyn)``. The checker then lets through calls that cel-go refuses, and some of them
(an optional value reaching Python) crashed cel-expr-python. This module reads the *checked*
AST (``cel.expr.CheckedExpr``: each call's chosen overload ids and each node's type) and
refuses such a call with cel-go's own message, ``found no matching overload for 'compareTo'
applied to 'optional_type(int).(kubernetes.Semver)'``. A ``dyn`` argument passes (the runtime
decides, as in cel-go). It also runs cel-go's compile-time check of ``'...'.format([...])``
with a constant format string and a list literal (lib_string_format.validation_error).

Signatures: k8s.io/apiserver@v0.37.2 pkg/cel/library/quantity.go, semverlib.go
(compareTo, isLessThan, isGreaterThan take two Quantities or two Semvers) and lists.go
(summableTypes int, uint, double, duration; comparableTypes adds bool, timestamp, string, bytes).
"""

from __future__ import annotations

from k8slearn.cel._protos import pool_and_classes
from k8slearn.cel._rewrite import children

_PRIMITIVES = {1: "bool", 2: "int", 3: "uint", 4: "double", 5: "string", 6: "bytes"}
_WELL_KNOWN = {1: "any", 2: "google.protobuf.Timestamp", 3: "google.protobuf.Duration"}
_SUMMABLE = {"int", "uint", "double", "google.protobuf.Duration"}
_COMPARABLE = _SUMMABLE | {"bool", "google.protobuf.Timestamp", "string", "bytes"}
_PAIRS = {"kubernetes.Quantity", "kubernetes.Semver"}
# function -> what its (target, args) types must be
_PAIR_FUNCTIONS = ("compareTo", "isLessThan", "isGreaterThan")
_OPTIONAL_RESULTS = {"validate": "optional_type(list(string))", "format.named": "optional_type(kubernetes.Format)"}
_LIST_FUNCTIONS = {"sum": _SUMMABLE, "min": _COMPARABLE, "max": _COMPARABLE, "isSorted": _COMPARABLE}


def type_name(t) -> str:
    """cel-go's spelling of a checked type (as in its 'found no matching overload' errors)."""
    kind = t.WhichOneof("type_kind")
    if kind == "primitive":
        return _PRIMITIVES.get(t.primitive, "dyn")
    if kind == "wrapper":
        return f"wrapper({_PRIMITIVES.get(t.wrapper, 'dyn')})"
    if kind == "well_known":
        return _WELL_KNOWN.get(t.well_known, "dyn")
    if kind == "null":
        return "null_type"
    if kind == "list_type":
        return f"list({type_name(t.list_type.elem_type)})"
    if kind == "map_type":
        return f"map({type_name(t.map_type.key_type)}, {type_name(t.map_type.value_type)})"
    if kind == "message_type":
        return t.message_type
    if kind == "type_param":
        return t.type_param
    if kind == "type":
        return f"type({type_name(t.type)})"
    if kind == "abstract_type":
        params = ", ".join(type_name(p) for p in t.abstract_type.parameter_types)
        return f"{t.abstract_type.name}({params})" if params else t.abstract_type.name
    return "dyn"


def _ok_pair(a: str, b: str) -> bool:
    if "dyn" in (a, b):
        return (a == "dyn" or a in _PAIRS) and (b == "dyn" or b in _PAIRS)
    return a == b and a in _PAIRS


def _ok_list(t: str, allowed: set[str]) -> bool:
    if t == "dyn" or t == "list(dyn)":
        return True
    return t.startswith("list(") and t[5:-1] in allowed


def _mixed(types: list[str]) -> str | None:
    """cel.HomogeneousAggregateLiterals (base.go L63): the elements of a list or map literal
    must all have the type of the first; dyn passes. cel-go's message, or None."""
    known = [t for t in types if t != "dyn"]
    for t in known[1:]:
        if t != known[0]:
            return f"expected type '{known[0]}' but found '{t}'"
    return None


def _base_kind(t: str) -> str:
    """cel-go's Type.Kind() as a name: list(int) -> list, type(int) -> type, ..."""
    for base in ("list", "map", "type", "optional_type"):
        if t.startswith(base + "("):
            return base
    if t.startswith("wrapper("):
        return t[8:-1]
    return t


def _format_refusal(call, name_of) -> str | None:
    """cel-go's check of ``'<constant>'.format([<list literal>])`` at compile time
    (ext/formatting.go, stringFormatValidator), with the checked types of the elements."""
    target, arg = call.target, call.args[0]
    if target.WhichOneof("expr_kind") != "const_expr" or target.const_expr.WhichOneof("constant_kind") != (
        "string_value"
    ):
        return None
    if arg.WhichOneof("expr_kind") != "list_expr":
        return None

    def nested(e) -> list[str]:
        """Kinds of the literals inside a list or map literal, which %s checks too."""
        kind = e.WhichOneof("expr_kind")
        parts = []
        if kind == "list_expr":
            parts = list(e.list_expr.elements)
        elif kind == "struct_expr" and not e.struct_expr.message_name:
            for entry in e.struct_expr.entries:
                parts += [entry.map_key, entry.value]
        out = []
        for p in parts:
            out += [_base_kind(name_of(p)), *nested(p)]
        return out

    from k8slearn.cel.lib_string_format import validation_error

    kinds = [(_base_kind(name_of(x)), nested(x)) for x in arg.list_expr.elements]
    return validation_error(target.const_expr.string_value, kinds)


def refusal(serialized: bytes, homogeneous: bool = True) -> tuple[str, int] | None:
    """(cel-go's message, source offset) for the first call Kubernetes would refuse, or None.
    ``homogeneous`` adds Kubernetes' homogeneous literal check (not part of plain CEL), whose
    exemption for lists under a ``format`` call is cel-go's (ext/formatting.go)."""
    from google.protobuf import any_pb2

    wrapper = any_pb2.Any()
    wrapper.ParseFromString(serialized)
    if not wrapper.type_url.endswith("cel.expr.CheckedExpr"):
        return None
    checked = pool_and_classes("celsyntax.proto")[1]["cel.expr.CheckedExpr"]()
    checked.ParseFromString(wrapper.value)
    types, positions = checked.type_map, checked.source_info.positions

    def name_of(e) -> str:
        t = type_name(types[e.id]) if e.id in types else "dyn"
        if t == "dyn" and e.WhichOneof("expr_kind") == "call_expr":
            # cel-cpp records our optional-returning declarations as dyn; format.go declares these
            t = _OPTIONAL_RESULTS.get(e.call_expr.function, t)
        return t

    stack = [(checked.expr, False)]
    while stack:
        e, in_format = stack.pop()
        kind = e.WhichOneof("expr_kind")
        if kind == "call_expr":
            c = e.call_expr
            member = c.HasField("target")
            args = [name_of(a) for a in c.args]
            target = name_of(c.target) if member else None
            bad = False
            if member and c.function in _PAIR_FUNCTIONS and len(args) == 1:
                bad = not _ok_pair(target or "dyn", args[0])
            elif member and c.function in _LIST_FUNCTIONS and not args:
                bad = not _ok_list(target or "dyn", _LIST_FUNCTIONS[c.function])
            elif member and c.function == "reverse" and not args and target == "string":
                bad = True  # Kubernetes enables strings version 2; string reverse() came in version 3
            elif member and c.function == "format" and len(c.args) == 1:
                refused = _format_refusal(c, name_of)
                if refused:
                    return refused, positions.get(e.id, 0)
            if bad:
                shown = f"{target}.({', '.join(args)})" if member else f"({', '.join(args)})"
                return f"found no matching overload for '{c.function}' applied to '{shown}'", positions.get(e.id, 0)
            inner = in_format or c.function == "format"
            if member:
                stack.append((c.target, inner))
            stack.extend((a, inner) for a in c.args)
        elif kind == "select_expr":
            stack.append((e.select_expr.operand, in_format))
        elif kind == "list_expr":
            mixed = None if in_format or not homogeneous else _mixed([name_of(x) for x in e.list_expr.elements])
            if mixed:
                return mixed, positions.get(e.id, 0)
            stack.extend((x, in_format) for x in e.list_expr.elements)
        elif kind == "struct_expr":
            entries = [x for x in e.struct_expr.entries if x.HasField("map_key")]
            if entries and not e.struct_expr.message_name and homogeneous and not in_format:
                mixed = _mixed([name_of(x.map_key) for x in entries]) or _mixed([name_of(x.value) for x in entries])
                if mixed:
                    return mixed, positions.get(e.id, 0)
            for entry in e.struct_expr.entries:
                if entry.HasField("map_key"):
                    stack.append((entry.map_key, in_format))
                stack.append((entry.value, in_format))
        elif kind == "comprehension_expr":
            x = e.comprehension_expr
            stack.extend((p, in_format) for p in (x.iter_range, x.accu_init, x.loop_condition, x.loop_step, x.result))
    return None


def duration_sums(serialized: bytes) -> set[int]:
    """Ids of ``sum()`` calls on a list of durations (cel-expr-python cannot return a duration
    from the Python sum, so _rewrite turns these into a CEL comprehension)."""
    from google.protobuf import any_pb2

    wrapper = any_pb2.Any()
    wrapper.ParseFromString(serialized)
    if not wrapper.type_url.endswith("cel.expr.CheckedExpr"):
        return set()
    checked = pool_and_classes("celsyntax.proto")[1]["cel.expr.CheckedExpr"]()
    checked.ParseFromString(wrapper.value)
    out = set()
    for eid, ref in checked.reference_map.items():
        if ref.name == "sum" or any(o.startswith("list_sum") for o in ref.overload_id):
            out.add(eid)
    found = set()
    stack = [checked.expr]
    while stack:
        e = stack.pop()
        kind = e.WhichOneof("expr_kind")
        if kind == "call_expr":
            c = e.call_expr
            if e.id in out and c.HasField("target") and c.target.id in checked.type_map:
                if type_name(checked.type_map[c.target.id]) == "list(google.protobuf.Duration)":
                    found.add(e.id)
        stack.extend(children(e))
    return found
