"""A small informer on the official client, filled either way: ListWatch or watchList.

    inf = Informer(api, "/api/v1/namespaces/k8slearn-x/configmaps", strategy="watchlist")
    inf.start()               # a thread; or inf.run() in the caller's thread
    inf.wait_synced(30)       # True once the initial state is complete
    inf.store                 # {"namespace/name": object dict}, kept up to date
    inf.stop()                # ends the watch and joins the thread

Strategies (one switch, the same store and the same `synced` meaning):

- ``"listwatch"``: LIST (``resourceVersion="0"`` first, from the watch cache, as client-go's
  reflector does; ``""`` — a consistent read, in pages of `page_size` — after a 410), then
  WATCH from the list's resourceVersion with ``allowWatchBookmarks=true``. Synced when the
  list is complete.
- ``"watchlist"`` (KEP-3157): one WATCH with ``sendInitialEvents=true``,
  ``resourceVersionMatch=NotOlderThan`` and bookmarks. Synced at the BOOKMARK annotated
  ``k8s.io/initial-events-end``. If the server refuses it (a 4xx, or an ERROR event before the
  bookmark, e.g. the WatchList gate off), the informer falls back to ListWatch and says so
  in `fell_back`.

resourceVersion tracking: the version to resume from is the list's, the initial-events-end
bookmark's, or, once synced, each watch event's and each bookmark's (those come in order).
Initial events of a watch-list come in key order, not resourceVersion order, so their versions
are never taken. A watch that ends (timeout) is resumed from that version; a 410 ("too old
resource version") empties nothing but starts over: a new LIST or watch-list replaces the store.

Every request goes through the official client's `ApiClient.call_api` (so a Lab's recording
and replay carry it); lines are split with `kubernetes.watch.watch.iter_resp_lines`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from k8slearn.errors import K8sLearnError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

STRATEGIES = ("listwatch", "watchlist")
MARKER = "k8s.io/initial-events-end"


class InformerError(K8sLearnError):
    """The informer could not do what it was asked (bad arguments, an unexpected answer)."""


@dataclass
class Arrival:
    """One thing the informer saw, `t` seconds after it started."""

    t: float
    what: str  # ADDED MODIFIED DELETED BOOKMARK MARKER | LIST (a page) | SYNCED EXPIRED FALLBACK
    name: str | None = None
    rv: str | None = None
    request: int = 0  # which request (1, 2, ...) it came in
    items: int | None = None  # a LIST page: how many objects it held

    def as_dict(self) -> dict:
        return asdict(self)


def _key(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _is_marker(obj: dict) -> bool:
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(MARKER) == "true"


class _Expired(Exception):
    """The server said 410 Gone: the version to resume from is too old."""


class _Refused(Exception):
    """The server refused the request (a 4xx other than 410, or an ERROR event)."""


class Informer:
    """See the module docstring. Arguments:

    api               the official client's ApiClient (a Lab's `lab.api`)
    path              the collection, e.g. ``/api/v1/namespaces/NS/configmaps``
    strategy          "listwatch" or "watchlist"
    label_selector    optional
    page_size         LIST page size when the LIST is a consistent read (``resourceVersion=""``)
    list_resource_version  the first LIST's resourceVersion ("0", client-go's choice, or "")
    watchlist_resource_version  the watch-list's resourceVersion: None (unset), "0" or a value
    watch_timeout     each watch's timeoutSeconds (the server ends it; the informer resumes)
    watches           stop after this many watches ended by their timeout (None: until stop())
    resume_from       start as an informer that was synced at this resourceVersion and lost
                      its watch: watch from it first (too old → 410 → start over)
    on_arrival        called with each `Arrival` (in the informer's thread)
    """

    def __init__(
        self,
        api: ApiClient,
        path: str,
        strategy: str = "watchlist",
        *,
        label_selector: str | None = None,
        page_size: int = 500,
        list_resource_version: str = "0",
        watchlist_resource_version: str | None = None,
        watch_timeout: int = 60,
        watches: int | None = None,
        resume_from: str | None = None,
        on_arrival: Callable[[Arrival], None] | None = None,
    ):
        if strategy not in STRATEGIES:
            raise InformerError(
                f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}",
                hint='Informer(api, path, strategy="watchlist")',
            )
        if not path.startswith("/"):
            raise InformerError(f"path must be an API path such as /api/v1/configmaps, not {path!r}")
        self.api, self.path, self.strategy = api, path, strategy
        self.label_selector, self.page_size = label_selector, page_size
        self.list_resource_version = list_resource_version
        self.watchlist_resource_version = watchlist_resource_version
        self.watch_timeout, self.watches = watch_timeout, watches
        self.on_arrival = on_arrival
        self.store: dict[str, dict] = {}
        self.resource_version: str | None = resume_from
        self.synced = threading.Event()
        self.timeline: list[Arrival] = []
        self.requests: list[str] = []  # each request's query, in order
        self.bytes_received = 0
        self.relists = 0
        self.fell_back: str | None = None  # why watchList was given up for ListWatch
        self.error: BaseException | None = None
        self._have_state = resume_from is not None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._resp: Any = None
        self._thread: threading.Thread | None = None
        self._t0 = 0.0

    # -------------------------------------------------------------- running
    def start(self) -> Informer:
        """Run in a background thread (stopped by `stop()`)."""
        if self._thread is not None:
            raise InformerError("this informer was started already; make a new one")
        self._thread = threading.Thread(target=self._run_catching, name=f"informer {self.path}", daemon=True)
        self._thread.start()
        return self

    def run(self) -> Informer:
        """Run in this thread until `watches` watches have ended (or `stop()` from another thread)."""
        if self.watches is None:
            raise InformerError("run() in the caller's thread needs watches=N, or it never returns; or use start()")
        self._run_catching()
        if self.error is not None:
            raise self.error
        return self

    def wait_synced(self, timeout: float | None = None) -> bool:
        """Wait until the initial state is complete; False on timeout; re-raises the thread's error."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.synced.is_set():
            if self.error is not None:
                raise self.error
            if self._thread is not None and not self._thread.is_alive():
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            self.synced.wait(0.05 if left is None else min(0.05, left))
        if self.error is not None:
            raise self.error
        return self.synced.is_set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop: end the current watch now (shut its socket) and join the thread."""
        self._stop.set()
        with self._lock:
            resp = self._resp
        if resp is not None:
            sock = getattr(getattr(resp, "connection", None), "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise InformerError(
                    f"the informer's thread did not stop within {timeout:.0f} s",
                    hint="a request is still open; its watch_timeout ends it",
                )

    def __enter__(self) -> Informer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def arrivals(self) -> list[dict]:
        """The timeline as plain dicts (JSON-able)."""
        return [a.as_dict() for a in self.timeline]

    # -------------------------------------------------------------- the loop
    def _run_catching(self) -> None:
        try:
            self._run()
        except BaseException as e:  # kept for wait_synced()/run() to raise in the caller
            if not self._stop.is_set():
                self.error = e

    def _run(self) -> None:
        self._t0 = time.perf_counter()
        strategy, ended = self.strategy, 0
        while not self._stop.is_set():
            try:
                if not self._have_state:
                    if strategy == "watchlist":
                        try:
                            self._watch(initial=True)
                        except _Refused as why:
                            strategy, self.fell_back = "listwatch", str(why)
                            self._note("FALLBACK")
                            continue
                    else:
                        self._list()
                        self._watch(initial=False)
                else:
                    self._watch(initial=False)
            except _Expired:
                self.relists += 1
                self._have_state = False
                self._note("EXPIRED")
                continue
            ended += 1
            if self.watches is not None and ended >= self.watches:
                break

    def _note(self, what: str, name: str | None = None, rv: str | None = None, items: int | None = None) -> None:
        a = Arrival(round(time.perf_counter() - self._t0, 6), what, name, rv, len(self.requests), items)
        self.timeline.append(a)
        if self.on_arrival is not None:
            self.on_arrival(a)

    def _open(self, params: dict[str, Any]) -> Any:
        if self.label_selector:
            params["labelSelector"] = self.label_selector
        query = urlencode(params)
        self.requests.append(query)
        url = f"{self.api.configuration.host}{self.path}?{query}"
        return self.api.call_api("GET", url, header_params={"Accept": "application/json"})

    def _list(self) -> None:
        rv = self.list_resource_version if self.relists == 0 else ""
        params: dict[str, Any] = {"resourceVersion": rv} if rv else {"limit": self.page_size}
        items: dict[str, dict] = {}
        while True:
            resp = self._open(dict(params))
            body = resp.read()
            self.bytes_received += len(body)
            if resp.status == 410:
                raise _Expired()
            if resp.status != 200:
                raise InformerError(f"LIST {self.path} answered HTTP {resp.status}: {body[:200]!r}")
            page = json.loads(body)
            for obj in page.get("items") or []:
                items[_key(obj)] = obj
            meta = page.get("metadata") or {}
            self._note("LIST", rv=meta.get("resourceVersion"), items=len(page.get("items") or []))
            if not meta.get("continue"):
                break
            params = {"limit": self.page_size, "continue": meta["continue"]}
        with self._lock:
            self.store = items
        self.resource_version = meta["resourceVersion"]
        self._have_state = True
        self._note("SYNCED", rv=self.resource_version)
        self.synced.set()

    def _watch(self, *, initial: bool) -> None:
        from kubernetes.watch.watch import iter_resp_lines

        params: dict[str, Any] = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": self.watch_timeout,
        }
        if initial:
            params.update(sendInitialEvents="true", resourceVersionMatch="NotOlderThan")
            if self.watchlist_resource_version is not None:
                params["resourceVersion"] = self.watchlist_resource_version
        else:
            params["resourceVersion"] = self.resource_version
        resp = self._open(params)
        if resp.status == 410:
            self.bytes_received += len(resp.read())
            raise _Expired()
        if resp.status != 200:
            body = resp.read()
            self.bytes_received += len(body)
            if initial and 400 <= resp.status < 500:
                raise _Refused(f"HTTP {resp.status}: {_status_message(body)}")
            raise InformerError(f"WATCH {self.path} answered HTTP {resp.status}: {_status_message(body)}")
        raw = resp.response  # urllib3's response, read as it streams
        with self._lock:
            self._resp = raw
        initial_items: dict[str, dict] = {}
        try:
            for line in iter_resp_lines(raw):
                if self._stop.is_set():
                    return
                if not line:
                    continue
                self.bytes_received += len(line.encode()) + 1
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                meta = obj.get("metadata") or {}
                rv = meta.get("resourceVersion")
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise _Expired()
                    if initial and not self._have_state:
                        raise _Refused(f"ERROR event: {obj.get('message', obj)}")
                    raise InformerError(f"WATCH {self.path} sent an ERROR event: {obj.get('message', obj)}")
                if initial and not self._have_state:
                    if kind == "BOOKMARK" and _is_marker(obj):
                        with self._lock:
                            self.store = initial_items
                        self.resource_version = rv
                        self._have_state = True
                        self._note("MARKER", rv=rv)
                        self._note("SYNCED", rv=rv)
                        self.synced.set()
                    elif kind == "ADDED":
                        initial_items[_key(obj)] = obj  # its resourceVersion is not a point to resume from
                        self._note(kind, meta.get("name"), rv)
                    elif kind == "BOOKMARK":
                        self._note(kind, rv=rv)  # a plain bookmark before the end: nothing to resume from
                    else:
                        raise InformerError(f"a watch-list sent {kind} before its initial-events-end bookmark")
                    continue
                if kind == "BOOKMARK":
                    self.resource_version = rv
                    self._note(kind, rv=rv)
                    continue
                with self._lock:
                    if kind == "DELETED":
                        self.store.pop(_key(obj), None)
                    else:
                        self.store[_key(obj)] = obj
                self.resource_version = rv
                self._note(kind, meta.get("name"), rv)
        except (_Expired, _Refused, InformerError):
            raise
        except Exception:
            if self._stop.is_set():  # stop() shut the socket under the read
                return
            raise
        finally:
            with self._lock:
                self._resp = None
            with contextlib.suppress(Exception):
                raw.release_conn()


def _status_message(body: bytes) -> str:
    try:
        s = json.loads(body)
        return f"{s.get('reason', '')}: {s.get('message', '')}"
    except ValueError:
        return body[:200].decode(errors="replace")
