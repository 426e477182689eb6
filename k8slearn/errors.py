"""The package's own exception types: each message says what is wrong and what to do."""


class K8sLearnError(Exception):
    """Base class of every error k8slearn raises on purpose.

    The message says what is wrong (and, in most places, what to do); `hint` may add the fix
    as a separate line, which the command line prints under the message.
    """

    def __init__(self, message: str = "", hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class NotRecorded(K8sLearnError):
    """Replay was asked for something the recording does not hold."""


class FixtureMissing(K8sLearnError):
    """A recording (or a file of one) that a notebook needs is not in data/."""


class ClusterRefused(K8sLearnError):
    """Live mode refused a cluster that is not one of the curriculum's own."""


class ClusterUnreachable(K8sLearnError):
    """Live mode was asked for, but the curriculum cluster does not answer."""
