"""Exception types of :mod:`k8slearn.storage.codec` (all under the package's K8sLearnError).

Messages often quote the input (a kind, a YAML problem, a parser's complaint); whatever they
quote, a codec error is one line: line breaks in the message are written as ``\\n``.
"""

from k8slearn.errors import K8sLearnError


def _one_line(message: str) -> str:
    return message.replace("\r", "\\r").replace("\n", "\\n").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class _OneLine(K8sLearnError):
    def __init__(self, message: str = "", hint: str | None = None):
        super().__init__(_one_line(str(message)), hint)


class DecodeError(_OneLine, ValueError):
    """A stored value could not be decoded; the message says why in one line."""


class EncodeError(_OneLine, ValueError):
    """An object could not be encoded; the message says why in one line."""


class SchemaError(_OneLine, RuntimeError):
    """A schema could not be fetched, compiled or loaded; the message says what to do."""
