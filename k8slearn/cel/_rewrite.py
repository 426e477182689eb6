"""Rewrite a parsed CEL AST where cel-expr-python 0.1.3 cannot run Kubernetes' functions.

The expression is parsed by the engine itself (``Env.compile(..., disable_check=True)``
serialises a ``cel.expr.ParsedExpr``); this module edits that AST, never the source text,
and the engine turns the result back into a program with ``Env.deserialize``. Type checking
is done beforehand on the *unchanged* expression with Kubernetes' real signatures, so the
rewrite only changes how a call is evaluated, not what the expression means.

Rewrites (see docs/cel-engine.md):
* ``f.validate(s)`` (format library) -> bind ``errs = @k8s.formatErrors(f, s)`` (a list from
  Python), then ``size(errs) == 0 ? optional.none() : optional.of(errs)``.
* ``format.named(n)`` -> bind ``l = @k8s.formatNamed(n)`` (zero or one Format), then
  ``size(l) == 0 ? optional.none() : optional.of(l[0])``.
* ``format.dns1123Label()`` etc. -> a global call of the same qualified name.
* ``cel.@mapInsert(...)`` (emitted by the transformMap/transformMapEntry macros, not bound
  at runtime by cel-expr-python 0.1.3) -> ``@k8s.mapInsert(...)`` implemented in Python.
* ``list.sum()`` on a list of durations (ids found in the checked AST) -> a comprehension
  adding them from ``duration('0s')`` (a Python function cannot return a duration as dyn).
* ``s.charAt(i)``, ``s.substring(...)`` -> Python with cel-go's errors (``index out of range: 6``).
* ``s.format(args)`` -> ``@k8s.stringFormat`` (Python, the formatter cel-go uses for the
  strings extension version Kubernetes enables; lib_string_format.py).
* ``s.indexOf(sub, offset)`` -> ``@k8s.indexOfOffset`` (Python, cel-go's semantics: an offset
  past the end gives -1, not an error; cel-go v0.29.2 ext/strings.go indexOfOffset).
* ``Object{f: v}`` and ``Object.a.b{f: v}`` (the typed object literals of a
  MutatingAdmissionPolicy's ApplyConfiguration, whose types only the apiserver declares) ->
  the map literal ``{'f': v}``; such expressions are evaluated without type checking.
The "bind" is the comprehension that cel.bind expands to: empty iteration range, the value
as accumulator initialiser, ``result`` using the accumulator (cel-spec syntax.proto).
"""

from __future__ import annotations

from k8slearn.cel._protos import pool_and_classes

FORMAT_CONSTANTS = (
    "dns1123Label",
    "dns1123Subdomain",
    "dns1035Label",
    "qualifiedName",
    "dns1123LabelPrefix",
    "dns1123SubdomainPrefix",
    "dns1035LabelPrefix",
    "labelValue",
    "uri",
    "uuid",
    "byte",
    "date",
    "datetime",
)
VALIDATE_IMPL = "@k8s.formatErrors"
NAMED_IMPL = "@k8s.formatNamed"
MAP_INSERT_IMPL = "@k8s.mapInsert"
INDEX_OF_IMPL = "@k8s.indexOfOffset"
NET_TO_STRING_IMPL = "@k8s.netToString"
SORT_BY_IMPL = "@k8s.sortByKeys"
STRING_FORMAT_IMPL = "@k8s.stringFormat"
# string functions whose errors cel-go words differently from cel-cpp: run cel-go's semantics
STRING_IMPLS = {("charAt", 1): "@k8s.charAt", ("substring", 1): "@k8s.substring", ("substring", 2): "@k8s.substring"}
# words whose presence in the source means the AST may need a rewrite (a cheap pre-filter)
TRIGGERS = ("validate", "format", "transformMap", "Object", "indexOf", "charAt", "substring")


def children(e) -> list:
    """The sub-expressions of a cel.expr.Expr node (call target and arguments, select operand,
    list elements, map keys and values, the parts of a comprehension): what every walk visits."""
    kind = e.WhichOneof("expr_kind")
    if kind == "call_expr":
        c = e.call_expr
        return ([c.target] if c.HasField("target") else []) + list(c.args)
    if kind == "select_expr":
        return [e.select_expr.operand]
    if kind == "list_expr":
        return list(e.list_expr.elements)
    if kind == "struct_expr":
        out = []
        for entry in e.struct_expr.entries:
            if entry.HasField("map_key"):
                out.append(entry.map_key)
            out.append(entry.value)
        return out
    if kind == "comprehension_expr":
        x = e.comprehension_expr
        return [x.iter_range, x.accu_init, x.loop_condition, x.loop_step, x.result]
    return []


def _classes():
    return pool_and_classes("celsyntax.proto")[1]


class _Rewriter:
    def __init__(self, parsed, duration_sums=frozenset()):
        self.parsed = parsed
        self.duration_sums = duration_sums
        # parser ids are small consecutive integers; new nodes get ids far above them
        self.next_id = 1 << 40
        self.changed = False
        self.Expr = type(parsed.expr)

    def new(self, **kind):
        e = self.Expr(id=self.next_id)
        self.next_id += 1
        for k, v in kind.items():
            getattr(e, k).CopyFrom(v)
        return e

    def call(self, function, *args, target=None):
        e = self.Expr(id=self.next_id)
        self.next_id += 1
        e.call_expr.function = function
        if target is not None:
            e.call_expr.target.CopyFrom(target)
        for a in args:
            e.call_expr.args.add().CopyFrom(a)
        return e

    def ident(self, name):
        e = self.Expr(id=self.next_id)
        self.next_id += 1
        e.ident_expr.name = name
        return e

    def const(self, **value):
        e = self.Expr(id=self.next_id)
        self.next_id += 1
        for k, v in value.items():
            setattr(e.const_expr, k, v)
        return e

    def bind_optional(self, init, present):
        """Comprehension: accu = init; result = size(accu) == 0 ? none : of(present(accu))."""
        acc = "@k8s_accu"
        e = self.Expr(id=self.next_id)
        self.next_id += 1
        c = e.comprehension_expr
        c.iter_var = "#unused"
        c.iter_range.CopyFrom(self.new())
        c.iter_range.list_expr.SetInParent()
        c.accu_var = acc
        c.accu_init.CopyFrom(init)
        c.loop_condition.CopyFrom(self.const(bool_value=False))
        c.loop_step.CopyFrom(self.ident(acc))
        empty = self.call("_==_", self.call("size", self.ident(acc)), self.const(int64_value=0))
        c.result.CopyFrom(
            self.call("_?_:_", empty, self.call("optional.none"), self.call("optional.of", present(self.ident(acc))))
        )
        return e

    def sum_durations(self, target):
        """Comprehension: accu = duration('0s'); for x in target: accu = accu + x."""
        e = self.Expr(id=self.next_id)
        self.next_id += 1
        c = e.comprehension_expr
        c.iter_var = "@k8s_x"
        c.iter_range.CopyFrom(target)
        c.accu_var = "@k8s_accu"
        c.accu_init.CopyFrom(self.call("duration", self.const(string_value="0s")))
        c.loop_condition.CopyFrom(self.const(bool_value=True))
        c.loop_step.CopyFrom(self.call("_+_", self.ident("@k8s_accu"), self.ident("@k8s_x")))
        c.result.CopyFrom(self.ident("@k8s_accu"))
        return e

    def visit(self, e):
        kind = e.WhichOneof("expr_kind")
        if kind == "call_expr":
            for a in e.call_expr.args:
                self.visit(a)
            if e.call_expr.HasField("target"):
                self.visit(e.call_expr.target)
            self._call(e)
        elif kind == "select_expr":
            self.visit(e.select_expr.operand)
        elif kind == "list_expr":
            for x in e.list_expr.elements:
                self.visit(x)
        elif kind == "struct_expr":
            name = e.struct_expr.message_name
            if name == "Object" or name.startswith("Object."):
                e.struct_expr.message_name = ""  # an empty message name makes it a map literal
                for entry in e.struct_expr.entries:
                    key = entry.field_key
                    entry.map_key.CopyFrom(self.const(string_value=key))
                self.changed = True
            for entry in e.struct_expr.entries:
                if entry.HasField("map_key"):
                    self.visit(entry.map_key)
                self.visit(entry.value)
        elif kind == "comprehension_expr":
            c = e.comprehension_expr
            for x in (c.iter_range, c.accu_init, c.loop_condition, c.loop_step, c.result):
                self.visit(x)

    def _call(self, e):
        call = e.call_expr
        fn, has_target, nargs = call.function, call.HasField("target"), len(call.args)
        on_format = (
            has_target
            and call.target.WhichOneof("expr_kind") == "ident_expr"
            and call.target.ident_expr.name == "format"
        )
        if fn == "cel.@mapInsert":
            call.function = MAP_INSERT_IMPL
        elif fn == "sum" and has_target and e.id in self.duration_sums:
            e.CopyFrom(self._keep_id(e, self.sum_durations(call.target)))
        elif has_target and (fn, nargs) in STRING_IMPLS:
            call.function = STRING_IMPLS[(fn, nargs)]
        elif fn == "indexOf" and has_target and nargs == 2:
            # s.indexOf(sub, offset): cel-go answers -1 for an offset past the end, cel-cpp errors
            call.function = INDEX_OF_IMPL
        elif fn == "format" and has_target and nargs == 1 and not on_format:
            # s.format(list): cel-go's formatter of strings v2 (en_US), not cel-cpp's (lib_string_format.py)
            call.function = STRING_FORMAT_IMPL
        elif fn == "validate" and has_target and nargs == 1:
            init = self.call(VALIDATE_IMPL, call.target, call.args[0])
            e.CopyFrom(self._keep_id(e, self.bind_optional(init, lambda acc: acc)))
        elif fn == "named" and on_format and nargs == 1:
            init = self.call(NAMED_IMPL, call.args[0])
            e.CopyFrom(
                self._keep_id(
                    e, self.bind_optional(init, lambda acc: self.call("_[_]", acc, self.const(int64_value=0)))
                )
            )
        elif fn in FORMAT_CONSTANTS and on_format and nargs == 0:
            call.ClearField("target")
            call.function = "format." + fn
        else:
            return
        self.changed = True

    @staticmethod
    def _keep_id(old, new):
        new.id = old.id  # keep the parser's id so error positions still point at the call
        return new


def rewrite(serialized: bytes, duration_sums: frozenset[int] | set[int] = frozenset()) -> bytes | None:
    """Rewrite a serialised ``Any(cel.expr.ParsedExpr)``; None when nothing needed changing."""
    from google.protobuf import any_pb2

    wrapper = any_pb2.Any.FromString(serialized)
    if not wrapper.type_url.endswith("/cel.expr.ParsedExpr"):
        return None
    parsed = _classes()["cel.expr.ParsedExpr"].FromString(wrapper.value)
    r = _Rewriter(parsed, duration_sums)
    r.visit(parsed.expr)
    if not r.changed:
        return None
    wrapper.value = parsed.SerializeToString()
    return wrapper.SerializeToString()


def rename_calls(serialized: bytes, function: str, new_name: str, offsets: set[int]) -> bytes | None:
    """Rename the global calls of ``function`` that start at one of the source ``offsets`` (where
    the checker reported them) to ``new_name``; None when none was found."""
    from google.protobuf import any_pb2

    wrapper = any_pb2.Any.FromString(serialized)
    if not wrapper.type_url.endswith("/cel.expr.ParsedExpr"):
        return None
    parsed = _classes()["cel.expr.ParsedExpr"].FromString(wrapper.value)
    positions = parsed.source_info.positions
    changed = False
    stack = [parsed.expr]
    while stack:
        e = stack.pop()
        kind = e.WhichOneof("expr_kind")
        if kind == "call_expr":
            c = e.call_expr
            if c.function == function and not c.HasField("target") and positions.get(e.id) in offsets:
                c.function = new_name
                changed = True
            stack.extend(children(e))
        else:
            stack.extend(children(e))
    if not changed:
        return None
    wrapper.value = parsed.SerializeToString()
    return wrapper.SerializeToString()


def expand_sort_by(serialized: bytes) -> bytes | None:
    """The ``sortBy`` macro of cel-go's lists extension (v3): ``l.sortBy(e, key)`` becomes
    ``@k8s.sortByKeys(l, l.map(e, key))`` (cel-go expands it to ``@sortByAssociatedKeys`` the
    same way, ext/lists.go); cel-cpp's parser has no such macro. None when there is none."""
    from google.protobuf import any_pb2

    wrapper = any_pb2.Any.FromString(serialized)
    if not wrapper.type_url.endswith("/cel.expr.ParsedExpr"):
        return None
    parsed = _classes()["cel.expr.ParsedExpr"].FromString(wrapper.value)
    r = _Rewriter(parsed)
    stack = [parsed.expr]
    while stack:
        e = stack.pop()
        kind = e.WhichOneof("expr_kind")
        if kind == "call_expr":
            c = e.call_expr
            if (
                c.function == "sortBy"
                and c.HasField("target")
                and len(c.args) == 2
                and c.args[0].WhichOneof("expr_kind") == "ident_expr"
            ):
                m = r.Expr(id=r.next_id)
                r.next_id += 1
                x = m.comprehension_expr
                x.iter_var = c.args[0].ident_expr.name
                x.iter_range.CopyFrom(c.target)
                x.accu_var = "@result"
                x.accu_init.CopyFrom(r.new())
                x.accu_init.list_expr.SetInParent()
                x.loop_condition.CopyFrom(r.const(bool_value=True))
                item = r.new()
                item.list_expr.elements.add().CopyFrom(c.args[1])
                x.loop_step.CopyFrom(r.call("_+_", r.ident("@result"), item))
                x.result.CopyFrom(r.ident("@result"))
                e.CopyFrom(r._keep_id(e, r.call(SORT_BY_IMPL, c.target, m)))
                r.changed = True
                c = e.call_expr
            stack.extend(children(e))
        else:
            stack.extend(children(e))
    if not r.changed:
        return None
    wrapper.value = parsed.SerializeToString()
    return wrapper.SerializeToString()
