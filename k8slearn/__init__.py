"""k8slearn: helpers for a notebook curriculum on how Kubernetes works inside.

    import k8slearn
    lab = k8slearn.connect("auto", notebook="01-etcd-contents")

Heavy libraries (kubernetes, pandas, matplotlib, protobuf descriptors) load on first use.
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any  # noqa: E402

from k8slearn.errors import K8sLearnError  # noqa: E402

if TYPE_CHECKING:
    from k8slearn.lab import Lab
    from k8slearn.notebook.exercises import Verdict


def connect(mode: str = "auto", notebook: str | None = None) -> "Lab":
    """The notebook's `Lab` in the given mode: see `k8slearn.lab`."""
    from k8slearn.lab import connect as _connect

    return _connect(mode, notebook)


def selfcheck(answer: Any, expected: Any, hint: str = "") -> "Verdict":
    """Print whether a learner's answer matches; never raises. Returns True when it does."""
    from k8slearn.notebook.exercises import selfcheck as _selfcheck

    return _selfcheck(answer, expected, hint)


__all__ = ["connect", "selfcheck", "K8sLearnError", "__version__"]
