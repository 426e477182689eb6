"""What cel-go refuses when it *plans* a program (before any object is seen), emulated.

The apiserver builds CRD rule programs with cel-go's optimiser (OptOptimize), and that
evaluates some calls whose arguments are constants while it plans: a type conversion with one
constant argument (cel-go v0.29.2 interpreter/decorators.go, decOptimize and
maybeOptimizeConstUnary) and the regex of Kubernetes' find/findAll (regex.go,
FindRegexOptimization). When that evaluation fails the CRD is refused with ``program
instantiation failed: <error>``. Its literal validators (base.go: ValidateDurationLiterals,
ValidateTimestampLiterals, ValidateRegexLiterals) refuse bad constant arguments when the rule
is compiled (the strings extension's format check is done on the checked AST, _narrow.py). cel-cpp does none of this, so
:func:`planning_error` walks the parsed AST and evaluates those constant calls itself.
"""

from __future__ import annotations

from typing import Any

from k8slearn.cel._protos import pool_and_classes

_CONVERSIONS = {"bool", "bytes", "double", "duration", "dyn", "int", "string", "timestamp", "type", "uint"}
_LITERAL_VALIDATORS = {"timestamp": "invalid timestamp argument", "duration": "invalid duration argument"}


def planning_error(env: Any, serialized: bytes) -> tuple[str, str] | None:
    """("compile" | "instantiation", cel-go's message) for the first refused constant call, or None."""
    from google.protobuf import any_pb2

    wrapper = any_pb2.Any.FromString(serialized)
    classes = pool_and_classes("celsyntax.proto")[1]
    parsed = classes["cel.expr.ParsedExpr"].FromString(wrapper.value)
    found: list[tuple[str, str]] = []

    def run(node) -> str | None:
        """Evaluate a constant subexpression; its error text, or None when it has a value."""
        sub = classes["cel.expr.ParsedExpr"](expr=node, source_info=parsed.source_info)
        out = any_pb2.Any(type_url="type.googleapis.com/cel.expr.ParsedExpr", value=sub.SerializeToString())
        try:
            value = env.deserialize(out.SerializeToString()).eval(data={})
            from k8slearn.cel._decl import cel

            if value.type() == cel().Type.ERROR:
                return str(value.value())
        except RuntimeError as exc:
            return str(exc)
        return None

    def const(node) -> bool:
        """Is the node a constant for cel-go's planner (a literal, a constant list or map, a folded call)?"""
        kind = node.WhichOneof("expr_kind")
        if kind == "const_expr":
            return True
        if kind == "list_expr":
            return all(const(e) for e in node.list_expr.elements)
        if kind == "struct_expr" and not node.struct_expr.message_name:
            return all(e.HasField("map_key") and const(e.map_key) and const(e.value) for e in node.struct_expr.entries)
        if kind == "call_expr":
            c = node.call_expr
            return c.function in _CONVERSIONS and not c.HasField("target") and len(c.args) == 1 and const(c.args[0])
        return False

    def visit(node) -> None:
        if found:
            return
        kind = node.WhichOneof("expr_kind")
        if kind == "call_expr":
            c = node.call_expr
            for a in c.args:
                visit(a)
            if c.HasField("target"):
                visit(c.target)
            if found:
                return
            args = ([c.target] if c.HasField("target") else []) + list(c.args)
            if c.function in _LITERAL_VALIDATORS and len(args) == 1 and args[0].HasField("const_expr"):
                if args[0].const_expr.WhichOneof("constant_kind") == "string_value" and run(node):
                    found.append(("compile", _LITERAL_VALIDATORS[c.function]))
            elif c.function in _CONVERSIONS and not c.HasField("target") and len(args) == 1 and const(args[0]):
                err = run(node)
                if err:
                    from k8slearn.cel._gomsg import cel_go_error

                    found.append(("instantiation", cel_go_error(_first_line(err))))
            elif c.function == "matches" and len(args) == 2 and args[1].HasField("const_expr"):
                if run(node) and "regular expression" in (run(node) or ""):
                    found.append(("compile", "invalid matches argument"))
            elif c.function in ("find", "findAll") and len(args) >= 2 and args[1].HasField("const_expr"):
                err = run(node)
                if err and "error parsing regexp" in err:
                    found.append(("instantiation", _first_line(err)[_first_line(err).index("error parsing regexp") :]))
        elif kind == "select_expr":
            visit(node.select_expr.operand)
        elif kind == "list_expr":
            for e in node.list_expr.elements:
                visit(e)
        elif kind == "struct_expr":
            for e in node.struct_expr.entries:
                if e.HasField("map_key"):
                    visit(e.map_key)
                visit(e.value)
        elif kind == "comprehension_expr":
            x = node.comprehension_expr
            for part in (x.iter_range, x.accu_init, x.loop_condition, x.loop_step, x.result):
                visit(part)

    visit(parsed.expr)
    return found[0] if found else None


def _first_line(text: str) -> str:
    import re

    text = re.sub(r"^[A-Z_]+:\s*", "", text.strip())
    return text.split("\n")[0].strip()
