"""Tiny helpers to declare custom CEL functions on cel-expr-python."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from k8slearn.cel._protos import pool_and_classes

PROTOS = ("k8stypes.proto", "nettypes.proto")

# (overload_id, return type, [param types], is_member, impl); the types are cel.Type objects
Overload = tuple[str, Any, list[Any], bool, Callable[..., Any]]
# a function name and its overloads, as decl() returns them
Decl = tuple[str, list[Overload]]


@functools.cache
def cel() -> Any:
    """The ``cel`` module of cel-expr-python, imported on first use."""
    from cel_expr_python import cel as _cel

    return _cel


def msg_class(full_name: str) -> Any:
    """The generated message class of ``full_name`` in the CEL libraries' own .proto files."""
    return pool_and_classes(*PROTOS)[1][full_name]


class T:
    """CEL types used by the Kubernetes libraries (resolved lazily)."""

    def __getattr__(self, name):
        c = cel()
        simple = {"BOOL", "INT", "UINT", "DOUBLE", "STRING", "BYTES", "DYN", "DURATION", "TIMESTAMP", "NULL"}
        if name in simple:
            return getattr(c.Type, name)
        if name == "LIST":
            return c.Type.List(c.Type.DYN)
        if name == "MAP":
            return c.Type.Map(c.Type.DYN, c.Type.DYN)
        if name == "List_INT":
            return c.Type.List(c.Type.INT)
        if name == "LIST_STRING":
            return c.Type.List(c.Type.STRING)
        if name == "MAP_STRING_LIST":
            return c.Type.Map(c.Type.STRING, c.Type.List(c.Type.STRING))
        full = {
            "URL": "kubernetes.URL",
            "QUANTITY": "kubernetes.Quantity",
            "SEMVER": "kubernetes.Semver",
            "FORMAT": "kubernetes.Format",
            "IP": "net.IP",
            "CIDR": "net.CIDR",
        }[name]
        return c.Type(full)


TYPES = T()


def decl(name: str, *overloads: Overload) -> Decl:
    """overloads: (overload_id, return_type, [param types], is_member, impl).

    Returns (name, overloads); :func:`build` merges declarations that share a name
    (quantity and semver both define compareTo, for instance)."""
    return name, list(overloads)


def build(decls: Iterable[Decl]) -> list[Any]:
    """Turn (name, overloads) pairs into cel.FunctionDecl objects, merging by name."""
    c = cel()
    merged: dict[str, list] = {}
    for name, overloads in decls:
        merged.setdefault(name, []).extend(overloads)
    return [
        c.FunctionDecl(
            name,
            [
                c.Overload(oid, ret, params, is_member=member, impl=_memory_guarded(impl))
                for oid, ret, params, member, impl in _fold(ovs)
            ],
        )
        for name, ovs in merged.items()
    ]


MEMORY_MESSAGE = "out of memory: k8slearn's memory limit for CEL was reached (K8SLEARN_CEL_MEMORY_LIMIT)"


def _memory_guarded(impl: Callable[..., Any]) -> Callable[..., Any]:
    """A MemoryError in a Python implementation would reach CEL as an error without text."""

    @functools.wraps(impl)
    def call(*args):
        try:
            return impl(*args)
        except MemoryError:
            raise ValueError(MEMORY_MESSAGE) from None

    return call


def _fold(overloads):
    """cel-cpp dispatches custom functions by value *kind* at runtime, and every protobuf
    message has the same kind. Overloads that differ only in which message type they take
    (compareTo on Quantity and on Semver) are folded into one overload taking dyn, whose
    Python implementation dispatches on the message's full name."""

    def kinds(params):
        return tuple("message" if p.is_message() else p.name() for p in params)

    groups: dict[tuple, list] = {}
    for ov in overloads:
        groups.setdefault((ov[3], kinds(ov[2])), []).append(ov)
    out = []
    for (member, _), ovs in groups.items():
        if len(ovs) == 1:
            out.append(ovs[0])
            continue
        table = {ov[2][0].name(): ov[4] for ov in ovs}

        def impl(*args, _table=table):
            name = args[0].DESCRIPTOR.full_name if hasattr(args[0], "DESCRIPTOR") else None
            others = {a.DESCRIPTOR.full_name for a in args[1:] if hasattr(a, "DESCRIPTOR")}
            if name not in _table or others - {name}:
                raise ValueError(f"no such overload for {name or type(args[0]).__name__}")
            return _table[name](*args)

        params = [cel().Type.DYN if p.is_message() else p for p in ovs[0][2]]
        rets = {ov[1].name() for ov in ovs}
        ret = ovs[0][1] if len(rets) == 1 else cel().Type.DYN
        out.append(("_".join(ov[0] for ov in ovs), ret, params, member, impl))
    return out
