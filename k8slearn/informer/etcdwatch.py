"""etcd's own watch, the floor below the apiserver's: watch from a revision, progress requests.

kube-apiserver's watch cache is itself a watcher of etcd: it watches its resource's prefix from
the revision of its initial list, and asks etcd for *progress* (a `WatchProgressRequest`: "tell
me the current revision"), which etcd answers with an event-less response whose header carries
the revision — the analogue of a BOOKMARK. A watch from a compacted revision is cancelled with
`compact_revision` set — the analogue of 410 Gone.

`watch_from` opens one etcd Watch stream with etcd's own gRPC messages (pyetcd's stub; the
library's own watcher drops progress responses, whose watch_id is -1), optionally runs
`during()` and sends a progress request, ends the stream itself, and returns every response
as a dict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from k8slearn.errors import K8sLearnError


def _range_end(prefix: bytes) -> bytes:
    return prefix[:-1] + bytes([prefix[-1] + 1])


def watch_from(
    client: Any,
    prefix: str,
    start_revision: int,
    *,
    during: Callable[[], None] | None = None,
    request_progress: bool = False,
    seconds: float = 1.0,
    patience: float = 30.0,
) -> list[dict]:
    """Watch keys under `prefix` from `start_revision`; see the module docstring.

    The stream is ended by this client (it cancels its own call) `seconds` after its last
    request, and, with `request_progress`, only once etcd has answered the progress request, so
    how long `during()` takes or how busy the machine is does not change what is returned.
    etcd never ends a watch stream itself, and a deadline would race etcd's own report of it
    (etcd answers "context deadline exceeded" as UNKNOWN when its side sees the deadline first),
    so the deadline, `patience` seconds, is only a guard against a stream that never answers.
    """
    import threading

    import grpc
    from pyetcd import etcdrpc

    key = prefix.encode()
    call: list[Any] = []
    started = threading.Event()  # the call object exists
    progressed = threading.Event()  # etcd answered the progress request
    asked = threading.Event()  # the progress request was sent

    def requests() -> Iterator[Any]:
        create = etcdrpc.WatchCreateRequest(key=key, range_end=_range_end(key), start_revision=start_revision)
        yield etcdrpc.WatchRequest(create_request=create)
        time.sleep(0.2)
        if during is not None:
            during()
        time.sleep(0.2)
        if request_progress:
            asked.set()
            yield etcdrpc.WatchRequest(progress_request=etcdrpc.WatchProgressRequest())
            progressed.wait(patience)
        time.sleep(seconds)
        started.wait(patience)
        call[0].cancel()

    stub = etcdrpc.WatchStub(client.channel)
    out: list[dict] = []
    stream = stub.Watch(requests(), timeout=patience + seconds)
    call.append(stream)
    started.set()
    try:
        for r in stream:
            out.append(
                {
                    "watch_id": r.watch_id,
                    "created": r.created,
                    "canceled": r.canceled,
                    "compact_revision": r.compact_revision,
                    "revision": r.header.revision,
                    "events": [
                        ("PUT" if e.type == 0 else "DELETE", e.kv.key.decode(), e.kv.mod_revision) for e in r.events
                    ],
                }
            )
            if asked.is_set() and not r.created and not r.events and not r.canceled:
                progressed.set()
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.CANCELLED:  # CANCELLED: this client ended the stream
            raise K8sLearnError(f"etcd watch of {prefix} failed: {e.code().name} {e.details()}") from None
    return out


def list_prefix(client: Any, prefix: str) -> tuple[int, list[tuple[str, int]]]:
    """A range read of `prefix`: (the revision it was read at, [(key, mod_revision), ...])."""
    from pyetcd import etcdrpc

    key = prefix.encode()
    resp = client.kvstub.Range(etcdrpc.RangeRequest(key=key, range_end=_range_end(key)))
    return resp.header.revision, [(kv.key.decode(), kv.mod_revision) for kv in resp.kvs]
