"""The package's own exception types: each message says what is wrong and what to do."""


class K8sLearnError(Exception):
    """Base class of every error k8slearn raises on purpose."""


class NotRecorded(K8sLearnError):
    """Replay was asked for something the recording does not hold."""


class FixtureMissing(K8sLearnError):
    """A recording (or a file of one) that a notebook needs is not in data/."""


class ClusterRefused(K8sLearnError):
    """Live mode refused a cluster that is not the curriculum's Kind cluster."""


class ClusterUnreachable(K8sLearnError):
    """Live mode was asked for, but the curriculum cluster does not answer."""
