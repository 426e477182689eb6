"""Exception types of :mod:`k8slearn.storage.codec` (all under the package's K8sLearnError)."""

from k8slearn.errors import K8sLearnError


class DecodeError(K8sLearnError, ValueError):
    """A stored value could not be decoded; the message says why in one line."""


class EncodeError(K8sLearnError, ValueError):
    """An object could not be encoded; the message says why in one line."""


class SchemaError(K8sLearnError, RuntimeError):
    """A schema could not be fetched, compiled or loaded; the message says what to do."""
