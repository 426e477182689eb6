"""k8slearn: helpers for a notebook curriculum on how Kubernetes works inside.

    import k8slearn
    lab = k8slearn.connect("auto", notebook="01-etcd-contents")

Heavy libraries (kubernetes, pandas, matplotlib, protobuf descriptors) load on first use.
"""

__version__ = "0.1.0"

from k8slearn.errors import K8sLearnError  # noqa: E402


def connect(mode: str = "auto", notebook: str | None = None):
    """The notebook's `Lab` in the given mode: see `k8slearn.lab`."""
    from k8slearn.lab import connect as _connect

    return _connect(mode, notebook)


def selfcheck(answer, expected, hint: str = ""):
    """Print whether a learner's answer matches; never raises. Returns True when it does."""
    from k8slearn.notebook.exercises import selfcheck as _selfcheck

    return _selfcheck(answer, expected, hint)


__all__ = ["connect", "selfcheck", "K8sLearnError", "__version__"]
