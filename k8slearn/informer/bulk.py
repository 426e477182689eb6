"""Create and delete N ConfigMaps in a `k8slearn-` namespace, concurrently, with a progress bar.

    with bulk_configmaps(api, "k8slearn-bench", n=5000, size=1024) as made:
        ...                     # made.names, made.seconds
    # the namespace (and so every object) is deleted here, also on error or Ctrl-C

Each ConfigMap carries `size` bytes of data and the label ``k8slearn/bulk=<namespace>``.
Creation runs in a thread pool (each thread its own ApiClient over the same configuration).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from k8slearn.errors import K8sLearnError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

LABEL = "k8slearn/bulk"


class BulkError(K8sLearnError):
    """Creating or deleting the bulk objects failed."""


@dataclass
class Made:
    namespace: str
    names: list[str] = field(default_factory=list)
    seconds: float = 0.0
    bytes_each: int = 0


def configmap(namespace: str, i: int, size: int) -> dict:
    """The i-th bulk ConfigMap: `size` bytes of data (a repeated letter, so it is easy to read)."""
    return {
        "metadata": {"name": f"cm-{i:06d}", "labels": {LABEL: namespace}},
        "data": {"payload": "x" * size},
    }


def _ensure_namespace(api: ApiClient, namespace: str) -> None:
    from kubernetes import client

    from k8slearn.cluster.live import guard_namespace

    guard_namespace(namespace)
    try:
        client.CoreV1Api(api).create_namespace(
            {"metadata": {"name": namespace, "labels": {"app.kubernetes.io/part-of": "k8slearn"}}}  # type: ignore[arg-type]
        )
    except client.ApiException as e:
        if e.status != 409:
            raise BulkError(f"could not create the namespace {namespace}: HTTP {e.status}") from None


def create(api: ApiClient, namespace: str, n: int, size: int = 1024, workers: int = 8, progress: bool = True) -> Made:
    """Create ConfigMaps cm-000000 … in `namespace` (made if missing); returns what was made."""
    from kubernetes import client
    from tqdm.auto import tqdm

    _ensure_namespace(api, namespace)
    made = Made(namespace, bytes_each=size)
    clients = [client.ApiClient(api.configuration) for _ in range(workers)]
    t0 = time.perf_counter()
    try:

        def one(i: int) -> str:
            v1 = client.CoreV1Api(clients[i % workers])
            body = configmap(namespace, i, size)
            for attempt in range(5):
                try:
                    v1.create_namespaced_config_map(namespace, body)  # type: ignore[arg-type]
                    break
                except client.ApiException as e:
                    if e.status == 409:  # made by an earlier, interrupted run
                        break
                    if e.status in (429, 500, 503, 504) and attempt < 4:
                        time.sleep(0.2 * (attempt + 1))
                        continue
                    raise BulkError(
                        f"creating ConfigMap {i} in {namespace} failed: HTTP {e.status} {e.reason}",
                        hint="is the cluster overloaded? try fewer workers or a smaller N",
                    ) from None
            return str(body["metadata"]["name"])

        bar = tqdm(total=n, desc=f"create {namespace}", disable=not progress)
        with ThreadPoolExecutor(workers) as pool, bar:
            for name in pool.map(one, range(n)):
                made.names.append(name)
                bar.update(1)
    finally:
        made.seconds = time.perf_counter() - t0
        for c in clients:
            with contextlib.suppress(Exception):
                c.close()
    return made


def delete(api: ApiClient, namespace: str, wait: float = 120.0, progress: bool = True) -> None:
    """Delete the namespace (and so its objects), waiting until it is gone (at most `wait` s)."""
    from kubernetes import client
    from tqdm.auto import tqdm

    from k8slearn.cluster.live import guard_namespace

    guard_namespace(namespace)
    v1 = client.CoreV1Api(api)
    try:
        v1.delete_namespace(namespace)
    except client.ApiException as e:
        if e.status == 404:
            return
        raise BulkError(f"could not delete the namespace {namespace}: HTTP {e.status}") from None
    deadline = time.monotonic() + wait
    with tqdm(desc=f"delete {namespace}", unit="check", disable=not progress) as bar:
        while time.monotonic() < deadline:
            try:
                v1.read_namespace(namespace)
            except client.ApiException as e:
                if e.status == 404:
                    return
            bar.update(1)
            time.sleep(0.5)
    raise BulkError(
        f"the namespace {namespace} is still terminating after {wait:.0f} s",
        hint=f"kube-controller-manager deletes its objects; check `kubectl get ns {namespace}` later",
    )


@contextlib.contextmanager
def bulk_configmaps(
    api: ApiClient, namespace: str, n: int, size: int = 1024, workers: int = 8, progress: bool = True
) -> Iterator[Made]:
    """Create N ConfigMaps for the block, and delete their namespace after it (also on error/Ctrl-C)."""
    try:
        yield create(api, namespace, n, size, workers, progress)
    finally:
        delete(api, namespace, wait=max(120.0, n / 20), progress=progress)
