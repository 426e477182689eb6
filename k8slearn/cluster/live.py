"""Live mode's guard and the runtimes behind it.

Live mode talks only to the curriculum's own clusters: the kube context `k8slearn-local`
(the local control plane, `k8slearn cluster up --runtime local`) or `kind-k8slearn` (the
Kind cluster, `k8slearn cluster up --runtime kind`). Both must point at a loopback address,
and `k8slearn-local` at the address of the control plane this machine runs, so a context
renamed to look like the curriculum's is still refused. Any other context is refused unless
the learner opts in for that one context with K8SLEARN_ALLOW_CONTEXT=<name>. Objects are
created only in namespaces named `k8slearn-*`.

A `Runtime` gives what the Lab needs from a live cluster: an ApiClient, an etcd client and
kube-apiserver's command line. Each runtime implements them its own way; notebooks never see
which one answered except in the banner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from k8slearn.cluster import kubeconfig
from k8slearn.errors import ClusterRefused, ClusterUnreachable, K8sLearnError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

LOCAL_CONTEXT = "k8slearn-local"
KIND_CONTEXT = "kind-k8slearn"
CURRICULUM = {LOCAL_CONTEXT: "local", KIND_CONTEXT: "kind"}
NAMESPACE_PREFIX = "k8slearn-"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def opted_in() -> str | None:
    """The context named by K8SLEARN_ALLOW_CONTEXT, when the learner opted into one."""
    return os.environ.get("K8SLEARN_ALLOW_CONTEXT") or None


def allowed_contexts() -> list[str]:
    """The contexts live mode may use, in the order it tries them."""
    chosen = opted_in()
    return [chosen] if chosen else list(CURRICULUM)


def contexts() -> list[str]:
    """Context names in the learner's kubeconfig ([] when there is none)."""
    try:
        from kubernetes import config

        ctxs, _active = config.list_kube_config_contexts(config_file=str(kubeconfig.target()))
        return [c["name"] for c in ctxs]
    except Exception:
        return []


def guard_context(context: str) -> str:
    """`context` if live mode may use it, else ClusterRefused saying why and how to opt in."""
    if context not in allowed_contexts():
        raise ClusterRefused(
            f"refusing kube context {context!r}: k8slearn works only on its own clusters "
            f"({LOCAL_CONTEXT!r} from `k8slearn cluster up --runtime local`, {KIND_CONTEXT!r} from "
            f"`k8slearn cluster up --runtime kind`). To use another cluster on purpose, set "
            f"K8SLEARN_ALLOW_CONTEXT={context} (objects go only into {NAMESPACE_PREFIX}* namespaces)."
        )
    if context == opted_in():
        return context
    server = kubeconfig.server_of(context) or ""
    host = urlparse(server).hostname or ""
    if host not in LOOPBACK:
        raise ClusterRefused(
            f"refusing kube context {context!r}: it points at {server or 'no server'}, but the "
            "curriculum's clusters listen on this machine's loopback address only. Recreate it "
            "with `k8slearn cluster up`, or opt in with K8SLEARN_ALLOW_CONTEXT."
        )
    if context == LOCAL_CONTEXT:
        from k8slearn.cluster import local

        state = local.load_state()
        if not state or state["api"] != server:
            raise ClusterRefused(
                f"refusing kube context {context!r}: it points at {server}, which is not the local "
                "control plane this machine runs (run `k8slearn cluster up --runtime local`)"
            )
    return context


def guard_namespace(namespace: str) -> str:
    """``namespace`` if the curriculum may write to it (a k8slearn-* name); ClusterRefused if not."""
    if not namespace.startswith(NAMESPACE_PREFIX):
        raise ClusterRefused(
            f"namespace {namespace!r}: the curriculum writes only to namespaces named {NAMESPACE_PREFIX}*"
        )
    return namespace


def api_client(context: str) -> ApiClient:
    """An official ApiClient for `context` (after the guard)."""
    from kubernetes import config

    context = guard_context(context)
    if context not in contexts():
        raise ClusterUnreachable(
            f"kube context {context!r} is not in your kubeconfig ({kubeconfig.target()}); "
            "start a cluster with `k8slearn cluster up`, or use mode='replay'"
        )
    return config.new_client_from_config(config_file=str(kubeconfig.target()), context=context)


def answers(timeout: float = 2.0) -> tuple[str | None, str]:
    """The first allowed context that answers /version (or None), and why."""
    reasons = []
    present = contexts()
    for ctx in allowed_contexts():
        if ctx not in present:
            reasons.append(f"no kube context {ctx!r}")
            continue
        try:
            from kubernetes import client

            v = client.VersionApi(api_client(ctx)).get_code(_request_timeout=timeout)
            return ctx, f"context {ctx!r} answered (Kubernetes {v.git_version})"
        except K8sLearnError as e:
            reasons.append(str(e))
        except Exception as e:  # noqa: BLE001 - any failure means "not reachable"
            reasons.append(f"context {ctx!r} did not answer: {type(e).__name__}")
    return None, "; ".join(reasons) or "no curriculum context"


def flag_value(flags: list[str], name: str, default: str | None = None) -> str | None:
    """The value of `--name=value` in a command line (the last one wins, as in pflag)."""
    found = [f.split("=", 1)[1] for f in flags if f.startswith(f"--{name}=")]
    return found[-1] if found else default


@dataclass
class Runtime:
    """A live cluster as the Lab sees it."""

    name: str  # "local", "kind" or "other"
    context: str

    def api_client(self) -> ApiClient:
        """An official ApiClient for this runtime's context."""
        return api_client(self.context)

    def etcd_client(self) -> Any:
        """A pyetcd client for this runtime's etcd."""
        if self.name == "local":
            from k8slearn.cluster import local

            return local.etcd_client()
        if self.name == "kind":
            from k8slearn.cluster import kind

            return kind.etcd_client()
        raise K8sLearnError(
            f"live mode reads etcd only on the curriculum's own clusters; context {self.context!r} "
            "gives no etcd access (use `k8slearn cluster up --runtime local`)"
        )

    def apiserver_flags(self, api: ApiClient) -> list[str]:
        """kube-apiserver's command line ([] when this runtime cannot tell)."""
        if self.name == "local":
            from k8slearn.cluster import local

            return local.flags()["kube-apiserver"]
        if self.name == "kind":
            from k8slearn.cluster import kind

            return kind.apiserver_flags(api)
        return []

    def facts(self, api: ApiClient) -> dict[str, Any]:
        """What the notebooks need to know about this cluster: version, flags, storage settings."""
        import contextlib

        from kubernetes import client

        v = client.VersionApi(api).get_code()
        facts: dict[str, Any] = {"kubernetes_version": v.git_version, "platform": v.platform, "runtime": self.name}
        flags: list[str] = []
        with contextlib.suppress(Exception):
            flags = self.apiserver_flags(api)
        facts["apiserver_flags"] = flags
        facts["etcd_prefix"] = flag_value(flags, "etcd-prefix", "/registry")
        facts["storage_media_type"] = flag_value(flags, "storage-media-type", "application/vnd.kubernetes.protobuf")
        with contextlib.suppress(Exception):  # the version etcd's Status RPC reports, as the apiserver reads it
            facts["etcd_version"] = self.etcd_client().status().version
        return facts

    def describe(self) -> str:
        """Which cluster this runtime is, in words."""
        if self.name == "local":
            from k8slearn.cluster import local

            return f"the local control plane ({self.context}, {local.require_state()['api']})"
        if self.name == "kind":
            return f"the Kind cluster ({self.context})"
        return f"kube context {self.context!r} (opted in with K8SLEARN_ALLOW_CONTEXT)"

    def etcd_description(self) -> str:
        """Which etcd this runtime reads, in words."""
        if self.name == "local":
            from k8slearn.cluster import local

            return f"the local control plane's etcd (https://127.0.0.1:{local.require_state()['ports']['etcd']})"
        if self.name == "kind":
            from k8slearn.cluster import kind

            return f"the Kind node's etcd via 127.0.0.1:{kind.ETCD_HOST_PORT}"
        return "none"


def runtime() -> Runtime:
    """The runtime live mode uses now, or ClusterUnreachable saying how to start one."""
    ctx, why = answers()
    if ctx is None:
        raise ClusterUnreachable(
            f"live mode needs one of the curriculum's clusters: {why}. Start the local control "
            "plane with `k8slearn cluster up --runtime local` (needs Go, or binaries), or the Kind "
            "cluster with `k8slearn cluster up --runtime kind` (needs Docker), or use mode='replay'."
        )
    return Runtime(CURRICULUM.get(ctx, "other") if ctx != opted_in() else "other", ctx)
