"""Read the CEL conformance suite's text-format test files (SimpleTestFile).

The message definitions live next to this module in ``conformance.proto`` (a subset of
cel-spec's ``simple.proto``/``eval.proto``/``value.proto``, names and numbers as upstream).
It is compiled once per process with grpcio-tools into a descriptor set, then
``google.protobuf.text_format`` parses the files strictly: an unknown field is an error,
not a silently ignored line.

Pure functions apart from :func:`load_file` (reads a file) and the one-off compile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from k8slearn.cel.errors import CELError


@dataclass(frozen=True)
class ConformanceCase:
    """One conformance test, flattened to plain Python values."""

    file: str
    section: str
    name: str
    expr: str
    bindings: dict[str, Any] = field(default_factory=dict)
    declared: dict[str, str] = field(default_factory=dict)  # name -> primitive type name
    expected: Any = None  # plain value when expect_error is False
    expect_error: str | None = None  # the suite's error message when an error is expected
    disable_check: bool = False
    disable_macros: bool = False
    check_only: bool = False
    container: str = ""

    @property
    def id(self) -> str:
        """The test id: file/section/name."""
        return f"{self.file}/{self.section}/{self.name}"


def _message_classes() -> dict[str, type]:
    from k8slearn.cel._protos import pool_and_classes

    _, classes = pool_and_classes("conformance.proto")
    return {n: classes[f"k8slearn.celconf.{n}"] for n in ("SimpleTestFile", "Value")}


def value_to_python(v: Any) -> Any:
    """Convert a conformance ``Value`` message to the plain Python value evaluate() returns."""
    kind = v.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind in ("list_value",):
        return [value_to_python(x) for x in v.list_value.values]
    if kind == "map_value":
        return {value_to_python(e.key): value_to_python(e.value) for e in v.map_value.entries}
    if kind == "bytes_value":
        return bytes(v.bytes_value)
    if kind == "type_value":
        raise CELError("type values are not supported by this reader")
    return getattr(v, kind)


def parse_text(text: str, file_name: str = "<text>") -> list[ConformanceCase]:
    """Parse one SimpleTestFile in protobuf text format into a list of cases."""
    from google.protobuf import text_format

    cls = _message_classes()["SimpleTestFile"]
    try:
        msg = text_format.Parse(text, cls())
    except text_format.ParseError as exc:
        raise CELError(f"{file_name}: not a SimpleTestFile this reader understands: {exc}") from exc
    cases = []
    for section in msg.section:
        for t in section.test:
            bindings = {}
            for key, ev in t.bindings.items():
                if ev.WhichOneof("kind") != "value":
                    raise CELError(f"{file_name}/{t.name}: only value bindings are supported")
                bindings[key] = value_to_python(ev.value)
            declared = {d.name: d.ident.type.PrimitiveType.Name(d.ident.type.primitive) for d in t.type_env}
            result = t.WhichOneof("result_matcher")
            expect_error = None
            expected: Any = True  # upstream: an unspecified result means `true`
            if result == "value":
                expected = value_to_python(t.value)
            elif result == "eval_error":
                expect_error = "; ".join(e.message for e in t.eval_error.errors) or "error"
                expected = None
            cases.append(
                ConformanceCase(
                    file=msg.name or file_name,
                    section=section.name,
                    name=t.name,
                    expr=t.expr,
                    bindings=bindings,
                    declared=declared,
                    expected=expected,
                    expect_error=expect_error,
                    disable_check=t.disable_check,
                    disable_macros=t.disable_macros,
                    check_only=t.check_only,
                    container=t.container,
                )
            )
    return cases


def load_file(path: str | Path) -> list[ConformanceCase]:
    """Read and parse one ``.textproto`` conformance file."""
    p = Path(path)
    return parse_text(p.read_text(encoding="utf-8"), p.stem)


def values_equal(a: Any, b: Any) -> bool:
    """CEL value equality for results: NaN matches NaN, bool is not an int, bytes==bytearray."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (bytes, bytearray)) and isinstance(b, (bytes, bytearray)):
        return bytes(a) == bytes(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return False
    return type(a) is type(b) and a == b
