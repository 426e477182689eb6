"""Evaluate CEL expressions locally with Kubernetes' libraries, on cel-expr-python (cel-cpp).

Why this engine: see docs/cel-engine.md. Value mapping (CEL -> Python):
int -> int, uint -> int (the CEL type is lost), double -> float, string -> str,
bytes -> bytes, bool -> bool, null -> None, list -> list, map -> dict,
timestamp -> timezone-aware datetime, duration -> timedelta, type -> its name (str),
Kubernetes opaque types (Quantity, URL, IP, CIDR, Semver, Format) -> :class:`KubeValue`.
An optional result cannot be returned (CELError): end with .hasValue()/.value()/.orValue().
Input variables may be the same plain values; a *top-level* datetime/timedelta variable is
declared as timestamp/duration (cel-expr-python refuses them inside dicts or lists).
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from k8slearn.cel import _rewrite
from k8slearn.cel.errors import CELError

# Extensions of the Kubernetes base environment that cel-cpp provides natively
# (base.go: ext.Strings, ext.Sets, cel.OptionalTypes, ext.TwoVarComprehensions).
_EXTENSIONS_YAML = """extensions:
  - name: optional
  - name: sets
  - name: two-var-comprehensions
"""

_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*")
_STATUS = re.compile(r"^[A-Z_]+:\s*")


@dataclass(frozen=True)
class KubeValue:
    """A Kubernetes opaque CEL value (kubernetes.Quantity, net.IP, ...) returned to Python."""

    type: str
    value: str

    def __str__(self):
        return self.value


def _cel():
    from k8slearn.cel._decl import cel

    return cel()


@functools.lru_cache(maxsize=1)
def _function_decls():
    from k8slearn.cel import (
        lib_comprehensions,
        lib_format,
        lib_lists_regex,
        lib_lists_v3,
        lib_net,
        lib_quantity,
        lib_semver,
        lib_string_format,
        lib_url,
    )
    from k8slearn.cel._decl import build

    decls = []
    libs = [lib_lists_regex, lib_lists_v3, lib_url, lib_quantity, lib_net, lib_semver, lib_format, lib_comprehensions]
    libs.append(lib_string_format)
    for lib in libs:
        decls.extend(lib.functions())
    return build(decls)


def _var_type(value: Any):
    c = _cel()
    if isinstance(value, datetime.datetime):
        return c.Type.TIMESTAMP
    if isinstance(value, datetime.timedelta):
        return c.Type.DURATION
    return c.Type.DYN


@functools.lru_cache(maxsize=64)
def _env(var_types: tuple[tuple[str, str], ...]):
    from cel_expr_python.ext import ext_strings

    from k8slearn.cel._decl import PROTOS
    from k8slearn.cel._protos import pool_and_classes

    c = _cel()
    pool, _ = pool_and_classes(*PROTOS)
    types = {"dyn": c.Type.DYN, "timestamp": c.Type.TIMESTAMP, "duration": c.Type.DURATION}
    types.update(int=c.Type.INT, uint=c.Type.UINT, double=c.Type.DOUBLE, string=c.Type.STRING, bool=c.Type.BOOL)
    try:
        return c.NewEnv(
            pool,
            config=c.NewEnvConfigFromYaml(_EXTENSIONS_YAML),
            variables={name: types[t] for name, t in var_types},
            # strings must come before our extension: it owns string.indexOf, ours adds list.indexOf
            extensions=[ext_strings.ExtStrings(), c.CelExtension("kubernetes", _function_decls())],
        )
    except RuntimeError as exc:  # a bug in this package, not in the user's expression
        raise CELError(f"could not build the CEL environment: {exc}") from exc


def _type_key(name: str, value: Any = None, declared: str | None = None) -> tuple[str, str]:
    if declared:
        return name, declared
    t = _var_type(value)
    c = _cel()
    return name, "timestamp" if t == c.Type.TIMESTAMP else "duration" if t == c.Type.DURATION else "dyn"


def _error_from(exc_or_msg, expression: str, phase: str) -> CELError:
    text = str(exc_or_msg)
    m = _POSITION.search(text)
    line = column = None
    if m:
        line, column = int(m.group(1)), int(m.group(2))
    # keep the first error's text and its caret picture, drop status-code noise
    clean = _STATUS.sub("", text).replace("ERROR: ", "", 1)
    clean = re.sub(r"\s*\[[A-Z_]+\]\s*$", "", clean).strip()
    clean = _POSITION.sub("", clean, count=1) if m else re.sub(r"^<input>:-1:-1:\s*", "", clean)
    # cel-go's parser words its depth limit without a number (parser/parser.go)
    clean = clean.replace("Exceeded max recursion depth of 32 when parsing.", "max recursion depth exceeded")
    if m:
        clean = _member_form(clean, expression, _offset(expression, int(m.group(1)), int(m.group(2))))
    where = f" (line {line}, column {column})" if m else ""
    return CELError(f"{phase} error{where}: {clean}", expression=expression, line=line, column=column, phase=phase)


_CMP_ERROR = re.compile(
    r"found no matching overload for '_(?:<|<=|>|>=)_' applied to '\((int|uint|double), (int|uint|double)\)'"
)


_NET_STRING = re.compile(r"found no matching overload for 'string' applied to '\((?:net\.IP|net\.CIDR)\)'")


def _tolerated_errors(text: str) -> list[tuple[int, int]] | None:
    """None unless every checker error in ``text`` is a cross-type numeric comparison or a
    string() of an IP/CIDR; then the (line, column) of the string() calls."""
    errors = re.findall(r"ERROR: <input>:(\d+):(\d+): ([^\n]*)", text)
    if not errors:
        return None
    calls = []
    for line, col, e in errors:
        m = _CMP_ERROR.search(e)
        if m and m.group(1) != m.group(2):
            continue
        if _NET_STRING.search(e):
            calls.append((int(line), int(col)))
            continue
        return None
    return calls


def _offset(expression: str, line: int, column: int) -> int:
    """The 0-based code point offset of a 1-based (line, column)."""
    starts = [0] + [i + 1 for i, ch in enumerate(expression) if ch == "\n"]
    return starts[line - 1] + column - 1


_UNDECLARED = re.compile(r"^compile error \(line (\d+), column (\d+)\): undeclared reference to '(\w+)'")
_GLOBAL_ONLY = {"sign", "quantity", "isQuantity", "ip", "isIP", "cidr", "isCIDR", "url", "isURL", "semver", "isSemver"}


def _global_as_member(err: CELError, env: Any, expression: str) -> CELError:
    """cel-cpp calls ``q.sign()`` an undeclared reference when ``sign`` only has a global
    overload; cel-go says ``found no matching overload for 'sign' applied to
    'kubernetes.Quantity.()'``. For a call without arguments on a target whose text can be
    found (balanced brackets back from the dot), give cel-go's message."""
    m = _UNDECLARED.match(err.message)
    if not m or m.group(3) not in _GLOBAL_ONLY:
        return err
    fn = m.group(3)
    at = _offset(expression, int(m.group(1)), int(m.group(2)))
    dot = at - len(fn) - 1
    if expression[dot : at + 2] != f".{fn}()":
        return err
    i, pairs = dot, {")": "(", "]": "["}
    while i > 0:
        ch = expression[i - 1]
        if ch in pairs:
            depth, j = 0, i - 1
            while j >= 0:
                depth += expression[j] == ch
                depth -= expression[j] == pairs[ch]
                if depth == 0:
                    break
                j -= 1
            i = j
        elif ch.isalnum() or ch in "_.":
            i -= 1
        else:
            break
    try:
        target = env.compile(expression[i:dot]).return_type()
    except RuntimeError:
        return err
    name = str(to_python(target)).replace("<", "(").replace(">", ")")
    text = f"found no matching overload for '{fn}' applied to '{name}.()'"
    where = f" (line {m.group(1)}, column {m.group(2)})"
    return CELError(
        f"compile error{where}: {text}", expression=expression, line=err.line, column=err.column, phase="compile"
    )


_OVERLOAD = re.compile(r"^found no matching overload for '([\w.]+)' applied to '\((.*)\)'")


def _member_form(text: str, expression: str, offset: int) -> str:
    """cel-go prints a member call's argument types as ``target.(args)``; cel-cpp as ``(target, args)``."""
    m = _OVERLOAD.match(text)
    if not m or expression[max(0, offset - len(m.group(1)) - 1) : offset] != "." + m.group(1):
        return text
    types, depth, cut = m.group(2), 0, None
    for i, ch in enumerate(types):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            cut = i
            break
    target, args = (types[:cut], types[cut + 1 :].strip()) if cut is not None else (types, "")
    return text[: m.start(2) - 1] + f"{target}.({args})'" + text[m.end() :]


def to_python(value: Any) -> Any:
    """Convert a cel-expr-python plain value into the plain Python value documented above."""
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, list):
        return [to_python(v) for v in value]
    if isinstance(value, dict):
        return {to_python(k): to_python(v) for k, v in value.items()}
    if hasattr(value, "DESCRIPTOR"):  # one of our opaque Kubernetes types
        name = value.DESCRIPTOR.full_name
        if name == "kubernetes.Format":
            return KubeValue(name, value.name)
        text = value.value
        if name == "kubernetes.Quantity":
            from fractions import Fraction

            from k8slearn.cel.lib_quantity import format_quantity

            text = format_quantity(Fraction(text.split(";")[0]))
        return KubeValue(name, text)
    c = _cel()
    if isinstance(value, c.Type):
        name = value.name()
        return name.lower() if name.isupper() else name
    return value


class LocalProgram:
    """A compiled expression evaluated in *this* process (the guard worker uses it; see _guard.py)."""

    def __init__(
        self, expression: str, var_types: tuple[tuple[str, str], ...], check: bool = True, homogeneous: bool = True
    ):
        self.expression = expression
        self.variables = tuple(n for n, _ in var_types)
        env = self._env = _env(var_types)
        try:
            self._compiled = env.compile(expression, disable_check=not check)
        except RuntimeError as exc:
            tolerated = _tolerated_errors(str(exc)) if check else None
            if tolerated is None and ".sortBy(" in expression:
                # cel-go's sortBy macro (lists v3), which cel-cpp does not parse as a macro: the
                # expression runs unchecked with the macro expanded (_rewrite.expand_sort_by)
                try:
                    expanded = _rewrite.expand_sort_by(env.compile(expression, disable_check=True).serialize())
                except RuntimeError:
                    expanded = None
                if expanded is not None:
                    self._compiled = env.deserialize(expanded)
                    return
            if tolerated is None:
                err = _error_from(exc, expression, "compile")
                raise _global_as_member(err, env, expression) from None
            # Two things Kubernetes' environment has and cel-cpp's checker lacks, which cel-cpp's
            # runtime can still do: cel.CrossTypeNumericComparisons (base.go L102; the runtime
            # compares int, uint and double across types) and string() of an IP or CIDR
            # (ip.go / cidr.go declare it; those calls are renamed to a Python function, see
            # below). When they are the only type errors, the expression runs unchecked.
            try:
                self._compiled = env.compile(expression, disable_check=True)
                if tolerated:
                    offsets = {_offset(expression, line, col) for line, col in tolerated}
                    renamed = _rewrite.rename_calls(
                        self._compiled.serialize(), "string", _rewrite.NET_TO_STRING_IMPL, offsets
                    )
                    if renamed is not None:
                        self._compiled = env.deserialize(renamed)
            except RuntimeError as exc2:
                raise _error_from(exc2, expression, "compile") from None
        if check:
            from k8slearn.cel import _narrow

            try:
                refused = _narrow.refusal(self._compiled.serialize(), homogeneous)
            except Exception:  # noqa: BLE001 - an AST this reader does not know: the guard still protects
                refused = None
            if refused is not None:
                text, offset = refused
                line = expression.count("\n", 0, offset) + 1
                column = offset - (expression.rfind("\n", 0, offset) + 1) + 1
                raise CELError(
                    f"compile error (line {line}, column {column}): {text}",
                    expression=expression,
                    line=line,
                    column=column,
                    phase="compile",
                )
        sums: set[int] = set()
        if check and "sum" in expression:
            from k8slearn.cel import _narrow

            try:
                sums = _narrow.duration_sums(self._compiled.serialize())
            except Exception:  # noqa: BLE001 - not a checked AST this reader knows
                sums = set()
        if sums or any(word in expression for word in _rewrite.TRIGGERS):
            # evaluate the format library and transformMap/transformMapEntry through an AST
            # rewrite (see _rewrite.py); type checking above used the unchanged expression
            try:
                rewritten = _rewrite.rewrite(env.compile(expression, disable_check=True).serialize(), sums)
                if rewritten is not None:
                    self._compiled = env.deserialize(rewritten)
            except RuntimeError as exc:
                raise _error_from(exc, expression, "compile") from None

    def evaluate(self, variables: Mapping[str, Any] | None = None) -> Any:
        """Evaluate with ``variables`` bound (each declared variable needs a value); CELError on failure."""
        data = _bound(self.expression, self.variables, variables)
        try:
            result = self._compiled.eval(data=data)
        except TypeError as exc:  # pybind could not convert an input (a lone surrogate in a string, ...)
            raise CELError(
                f"eval error: an input value cannot be given to the CEL engine: {exc}".splitlines()[0],
                expression=self.expression,
                phase="eval",
            ) from None
        except RuntimeError as exc:
            raise _error_from(exc, self.expression, "eval") from None
        c = _cel()
        try:
            if result.type() == c.Type.ERROR:
                raise _error_from(result.value(), self.expression, "eval")
            plain = result.plain_value()
        except TypeError:  # cel-expr-python 0.1.3 cannot hand an optional value to Python
            raise CELError(
                "eval error: the expression's result is an optional value, which "
                "cel-expr-python cannot return to Python; end it with .hasValue(), "
                ".value() or .orValue(default)",
                expression=self.expression,
                phase="eval",
            ) from None
        return to_python(plain)

    def planning_error(self) -> tuple[str, str] | None:
        """What cel-go would refuse while planning this program (see _plan.py), or None."""
        from k8slearn.cel._plan import planning_error

        try:
            return planning_error(self._env, self._env.compile(self.expression, disable_check=True).serialize())
        except RuntimeError:
            return None

    def result_type(self) -> str:
        """The checked result type's name ("bool", "string", "dyn", ...)."""
        return str(to_python(self._compiled.return_type()))

    def __repr__(self):
        return f"LocalProgram({self.expression!r}, variables={list(self.variables)})"


class Program:
    """A compiled expression; evaluate it many times with different variable values.

    Compilation and evaluation run in k8slearn's CEL worker process (k8slearn/cel/_guard.py), so
    an expression that crashes the engine, runs too long or grows too large costs a
    :class:`CELError` naming the limit, never the caller's process (a Jupyter kernel).
    """

    def __init__(
        self, expression: str, var_types: tuple[tuple[str, str], ...], check: bool = True, homogeneous: bool = True
    ):
        from k8slearn.cel import _guard

        self.expression = expression
        self.variables = tuple(n for n, _ in var_types)
        self._key = (expression, var_types, check, homogeneous)
        _guard.call("compile", self._key, None)

    def evaluate(self, variables: Mapping[str, Any] | None = None) -> Any:
        """Evaluate with ``variables`` bound (each declared variable needs a value); CELError on failure."""
        from k8slearn.cel import _guard

        data = _bound(self.expression, self.variables, variables)
        return _guard.call("eval", self._key, data)

    def planning_error(self) -> tuple[str, str] | None:
        """("compile" or "instantiation", cel-go's message) when the apiserver would refuse this
        expression while building its program (constant conversions and regexes), else None."""
        from k8slearn.cel import _guard

        return _guard.call("plan", self._key, None)

    def result_type(self) -> str:
        """The type the checker gives the expression's result ("bool", "string", "dyn", ...)."""
        from k8slearn.cel import _guard

        return _guard.call("type", self._key, None)

    def __repr__(self):
        return f"Program({self.expression!r}, variables={list(self.variables)})"


def compile(
    expression: str,
    variables: Iterable[str] | Mapping[str, Any] | None = None,
    *,
    types: Mapping[str, str] | None = None,
    check: bool = True,
    homogeneous: bool = True,
) -> Program:  # noqa: A001
    """Compile ``expression`` once; ``variables`` names the variables it may use.

    ``variables`` may be a mapping of example values (a top-level datetime/timedelta
    makes that variable a timestamp/duration) or just names (dynamically typed).
    ``types`` may force "dyn", "timestamp", "duration", "int", "uint", "double", "string" or
    "bool" for a name (validate_crd declares ``self`` with its schema's scalar type, as the
    apiserver does, so ``self == 1`` on a string is a compile error there too). ``check=False`` skips
    the type checker (parse only; type errors then surface at evaluation, as with the
    conformance suite's ``disable_check``). Kubernetes always type-checks.
    ``homogeneous=False`` drops Kubernetes' cel.HomogeneousAggregateLiterals check (base.go
    L63: ``[1, 'a']`` is a compile error there), for plain CEL such as cel-spec's conformance tests.
    Raises :class:`CELError` (with ``line``/``column``) when the expression does not compile.
    """
    if not isinstance(expression, str):
        raise CELError(f"a CEL expression must be a string, got {type(expression).__name__}")
    try:
        expression.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CELError(
            f"compile error: the expression is not valid UTF-8 text ({exc.reason} at character {exc.start}); "
            "a lone surrogate such as '\\ud800' cannot be part of a CEL expression",
            expression=expression,
            phase="compile",
        ) from None
    types = dict(types or {})
    if isinstance(variables, Mapping):
        keys = tuple(sorted(_type_key(n, v, types.get(n)) for n, v in variables.items()))
    else:
        keys = tuple(sorted(_type_key(n, None, types.get(n)) for n in (variables or ())))
    return Program(expression, keys, check, homogeneous)


def evaluate(
    expression: str, variables: Mapping[str, Any] | None = None, *, check: bool = True, homogeneous: bool = True
) -> Any:
    """Compile and evaluate ``expression`` with ``variables``; return a plain Python value.

    Raises :class:`CELError` for compile errors (syntax, undeclared names, type errors with
    line/column) and evaluation errors (division by zero, no such key, ...).
    """
    return compile(expression, variables or {}, check=check, homogeneous=homogeneous).evaluate(variables or {})


def _bound(expression: str, declared: tuple[str, ...], variables: Mapping[str, Any] | None) -> dict:
    """The variables of an evaluation as a dict; CELError naming any declared one not given."""
    data = dict(variables or {})
    missing = [n for n in declared if n not in data]
    if missing:
        raise CELError(
            f"no value given for declared variable(s) {', '.join(missing)}; pass them in `variables`",
            expression=expression,
            phase="eval",
        )
    return data
