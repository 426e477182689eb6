"""CEL as Kubernetes uses it, evaluated locally.

* :func:`evaluate` / :func:`compile` - CEL with Kubernetes' libraries (engine.py)
* :func:`validate_crd` - a CRD's ``x-kubernetes-validations`` on an object (crd.py)
* :func:`admit` - a ValidatingAdmissionPolicy + binding on a request (admission.py)
* :func:`mutate` - a MutatingAdmissionPolicy's ApplyConfiguration mutations on a request (admission.py)
* :data:`LIBRARIES` - which library is usable from which Kubernetes release (libraries.py)
* :class:`CELError` - every error raised here
"""

from k8slearn.cel.engine import KubeValue, Program, compile, evaluate
from k8slearn.cel.errors import CELError
from k8slearn.cel.libraries import COST_LIMITS, LIBRARIES

__all__ = ["CELError", "KubeValue", "Program", "compile", "evaluate", "LIBRARIES", "COST_LIMITS"]


def __getattr__(name):  # lazy: the CRD and admission modules are only loaded when used
    if name in ("validate_crd", "Violation", "Violations"):
        from k8slearn.cel import crd

        return getattr(crd, name)
    if name in ("admit", "AdmissionResult", "mutate", "MutationResult"):
        from k8slearn.cel import admission

        return getattr(admission, name)
    raise AttributeError(f"module 'k8slearn.cel' has no attribute {name!r}")
