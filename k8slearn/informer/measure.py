"""Measuring informers: many starting together, and kube-apiserver's memory while they do.

`start_together` runs K informers as threads of this process (each with its own ApiClient, so
its own connection, as separate controllers would have) released by one barrier, and returns
per-informer time to synced and bytes received. Threads, not processes: the apiserver sees K
concurrent requests either way, and its memory is what KEP-3157 is about; the GIL only slows
the *client's* decoding, which makes client-side times for many informers pessimistic.

`ApiserverSampler` polls kube-apiserver while something runs: the RSS of its process (from
/proc, needs the pid: the local control plane knows it) and the Go heap
(`go_memstats_heap_alloc_bytes` from /metrics, a 3-4 MB scrape, so not too often).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any

from k8slearn.informer import Informer

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

HEAP_METRIC = "go_memstats_heap_alloc_bytes"


def heap_bytes(api: ApiClient) -> int | None:
    """kube-apiserver's Go heap in use now (`go_memstats_heap_alloc_bytes` of /metrics)."""
    from k8slearn.lab import get_raw

    status, body = get_raw(api, "/metrics")
    if status != 200:
        return None
    for line in body.decode(errors="replace").splitlines():
        if line.startswith(HEAP_METRIC + " "):
            return int(float(line.split()[1]))
    return None


class ApiserverSampler:
    """`with ApiserverSampler(api, pid) as s: ...` then `s.result()`: baseline and peak RSS and heap."""

    def __init__(self, api: ApiClient, pid: int | None, rss_every: float = 0.05, heap_every: float = 0.5):
        self.api, self.pid = api, pid
        self.rss_every, self.heap_every = rss_every, heap_every
        self.rss: list[int] = []
        self.heap: list[int] = []
        self.base_rss: int | None = None
        self.base_heap: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="apiserver sampler", daemon=True)

    def _rss(self) -> int | None:
        from k8slearn.cluster.local import rss_bytes

        return rss_bytes(self.pid) if self.pid else None

    def _loop(self) -> None:
        next_heap = 0.0
        while not self._stop.is_set():
            r = self._rss()
            if r:
                self.rss.append(r)
            if time.monotonic() >= next_heap:
                with contextlib.suppress(Exception):
                    h = heap_bytes(self.api)
                    if h:
                        self.heap.append(h)
                next_heap = time.monotonic() + self.heap_every
            self._stop.wait(self.rss_every)

    def __enter__(self) -> ApiserverSampler:
        self.base_rss = self._rss()
        with contextlib.suppress(Exception):
            self.base_heap = heap_bytes(self.api)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def result(self) -> dict[str, Any]:
        return {
            "rss_before": self.base_rss,
            "rss_peak": max(self.rss, default=None),
            "heap_before": self.base_heap,
            "heap_peak": max(self.heap, default=None),
            "rss_samples": len(self.rss),
            "heap_samples": len(self.heap),
        }


def sibling(api: ApiClient) -> ApiClient:
    """A new ApiClient (its own connections) like `api`, with the same connection pool classes
    (so a client that bypasses a recording makes siblings that bypass it too)."""
    from kubernetes import client

    fresh = client.ApiClient(api.configuration)
    fresh.rest_client.pool_manager.pool_classes_by_scheme = dict(api.rest_client.pool_manager.pool_classes_by_scheme)
    return fresh


def start_together(
    api: ApiClient,
    path: str,
    strategy: str,
    count: int = 1,
    *,
    label_selector: str | None = None,
    timeout: float = 300.0,
    keep_timelines: bool = False,
    **informer_args: Any,
) -> dict[str, Any]:
    """Start `count` informers at once (threads), wait until all are synced, stop them.

    Returns seconds to synced per informer, bytes received, store sizes, and (with
    `keep_timelines`) every informer's arrivals. Raises the first informer error."""
    clients = [sibling(api) for _ in range(count)]
    informers = [Informer(c, path, strategy, label_selector=label_selector, **informer_args) for c in clients]
    gate = threading.Barrier(count + 1)
    threads = []
    for inf in informers:

        def go(inf: Informer = inf) -> None:
            gate.wait()
            inf._run_catching()

        t = threading.Thread(target=go, name="informer", daemon=True)
        inf._thread = t
        t.start()
        threads.append(t)
    t0 = time.perf_counter()
    gate.wait()
    try:
        for inf in informers:
            if not inf.wait_synced(max(0.0, timeout - (time.perf_counter() - t0))):
                raise TimeoutError(f"an informer was not synced within {timeout:.0f} s")
        wall = time.perf_counter() - t0
    finally:
        for inf in informers:
            with contextlib.suppress(Exception):
                inf.stop()
        for c in clients:
            with contextlib.suppress(Exception):
                c.close()
    synced = [next(a.t for a in inf.timeline if a.what == "SYNCED") for inf in informers]
    out: dict[str, Any] = {
        "strategy": strategy,
        "informers": count,
        "objects": [len(inf.store) for inf in informers],
        "seconds_to_synced": synced,
        "wall_seconds": wall,
        "bytes_received": [inf.bytes_received for inf in informers],
        "fell_back": [inf.fell_back for inf in informers],
    }
    if keep_timelines:
        out["timelines"] = [inf.arrivals() for inf in informers]
    return out


def _child(argv: list[str] | None = None) -> int:
    """`python -m k8slearn.informer.measure PATH STRATEGY COUNT [WATCH_TIMEOUT]`: one measurement in a
    process of its own (the benchmark's way to get this client's peak memory), printed as JSON."""
    import json
    import resource
    import sys

    from k8slearn.cluster import live

    args = argv if argv is not None else sys.argv[1:]
    path, strategy, count = args[0], args[1], int(args[2])
    watch_timeout = int(args[3]) if len(args) > 3 else 300  # client-go's reflector: 5 to 10 minutes
    api = live.api_client(live.LOCAL_CONTEXT)
    import os

    from k8slearn.cluster.local import rss_bytes

    before = rss_bytes(os.getpid())
    out = start_together(api, path, strategy, count, timeout=1800, watch_timeout=watch_timeout)
    out["watch_timeout"] = watch_timeout
    out["client_rss_before"] = before
    out["client_peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child())
