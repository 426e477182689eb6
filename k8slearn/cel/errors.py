"""Errors raised by :mod:`k8slearn.cel`."""

from __future__ import annotations

from k8slearn.errors import K8sLearnError


class CELError(K8sLearnError):
    """A CEL expression failed to compile or to evaluate.

    ``message`` is the engine's message; ``line``/``column`` (1-based) are set when the
    engine reports where in the expression the problem is; ``phase`` is "compile" or "eval";
    ``limit`` names the local bound that stopped it ("time", "memory" or "crash"; see
    k8slearn/cel/_guard.py), None for an ordinary CEL error.
    """

    def __init__(
        self,
        message: str,
        *,
        expression: str | None = None,
        line: int | None = None,
        column: int | None = None,
        phase: str | None = None,
        limit: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.line = line
        self.column = column
        self.phase = phase
        self.limit = limit
