"""A stand-in for kube-apiserver, used only to CONSTRUCT fixtures where no cluster can run.

kube-apiserver cannot run on the project's development and CI machines (no Docker, no
Kind, no Kubernetes binaries in the package registries they reach). So that the notebooks
can still be replayed from an HTTP transcript, `k8slearn record --construct` runs each
notebook against this stand-in and records the exchange with the same recorder that
records a real Kind cluster. Everything it answers is modelled on documented
kube-apiserver behaviour (cited beside each rule); all of it is labelled `constructed`
wherever it is shown. It is never offered as a cluster to learners.

What it models: REST paths for the resource types in RESOURCES; objects stored in a REAL
etcd under the apiserver's key layout (`k8slearn.keys`) and encoded by `k8slearn.codec`
(protobuf by default, like `--storage-media-type`); resourceVersion = the key's etcd
mod_revision (list: the read's header revision); create/update as etcd transactions
conditioned on the key's create/mod revision; watch from a resourceVersion, with bookmarks
and `sendInitialEvents`. Timestamps and uids come from a deterministic clock so a
construction is reproducible.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import etcd as etcdmod


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES = [
    Resource("", "v1", "namespaces", "Namespace", False),
    Resource("", "v1", "configmaps", "ConfigMap", True),
    Resource("", "v1", "secrets", "Secret", True),
    Resource("", "v1", "services", "Service", True),
    Resource("", "v1", "endpoints", "Endpoints", True),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True),
    Resource("", "v1", "events", "Event", True),
    Resource("coordination.k8s.io", "v1", "leases", "Lease", True),
    Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    Resource("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False),
]
_BY_PATH = {(r.group, r.version, r.resource): r for r in RESOURCES}


class Clock:
    """Deterministic time and uids: each call moves one second on from a fixed start."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc), seed: str = "k8slearn"):
        self.now = start
        self.seed = seed
        self.n = 0

    def tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def stamp(self) -> str:
        return self.tick().strftime("%Y-%m-%dT%H:%M:%SZ")

    def uid(self) -> str:
        self.n += 1
        return str(uuid.UUID(hashlib.sha256(f"{self.seed}/{self.n}".encode()).hexdigest()[:32], version=4))


# Go's encoding/json writes struct fields in declaration order: TypeMeta (kind, apiVersion)
# first, then ObjectMeta's fields in the order of staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go
_META_ORDER = ["name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
               "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
               "annotations", "ownerReferences", "finalizers", "managedFields"]


def canonical(obj: dict) -> dict:
    """`obj` with kind, apiVersion, metadata first and metadata fields in Go's order."""
    meta = obj.get("metadata") or {}
    ordered_meta = {k: meta[k] for k in _META_ORDER if k in meta}
    ordered_meta.update({k: v for k, v in meta.items() if k not in ordered_meta})
    out = {k: obj[k] for k in ("kind", "apiVersion") if k in obj}
    out["metadata"] = ordered_meta
    out.update({k: v for k, v in obj.items() if k not in out})
    return out


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict:
        # metav1.Status as kube-apiserver returns it:
        # https://kubernetes.io/docs/reference/using-api/api-concepts/#api-verbs (Status kind)
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
             "message": self.message, "reason": self.reason}
        if self.details is not None:
            s["details"] = self.details
        s["code"] = self.code
        return s


_STRUCTS = {"metadata", "spec", "status"}


def fields_v1(value, name: str = "") -> dict:
    """A FieldsV1 set naming every field present in `value`.

    The apiserver's structured-merge-diff uses per-type schemas: maps get a "." entry for
    the map itself, structs do not; associative lists use `k:{...}` keys and set lists
    `v:...`. Without those schemas the stand-in treats metadata/spec/status as structs,
    every other object as a map, and lists as atomic (SMD's `x-kubernetes-list-type:
    atomic`). The real shapes are in the seed fixture (data/seed/).
    """
    out = {}
    if isinstance(value, dict):
        if name and name not in _STRUCTS:
            out["."] = {}
        for k, v in value.items():
            out[f"f:{k}"] = fields_v1(v, k) if isinstance(v, dict) and v else {}
    return out


def managed_fields_for(obj: dict, manager: str, operation: str, api_version: str, when: str) -> dict:
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status")}
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k in ("labels", "annotations")}
    body["metadata"] = meta
    if not meta:
        body.pop("metadata")
    fields = fields_v1(body)
    return {"manager": manager, "operation": operation, "apiVersion": api_version, "time": when,
            "fieldsType": "FieldsV1", "fieldsV1": fields}


class StandIn:
    """The stand-in apiserver: an HTTP server on 127.0.0.1 backed by a real etcd client."""

    def __init__(self, client, *, prefix: str = "/registry",
                 storage_media_type: str = "application/vnd.kubernetes.protobuf",
                 version_info: dict | None = None, clock: Clock | None = None,
                 watch_idle_seconds: float = 0.3):
        self.client = client
        self.prefix = prefix
        self.media_type = storage_media_type
        self.clock = clock or Clock()
        self.watch_idle = watch_idle_seconds
        self.version_info = version_info or {}
        self._lock = threading.RLock()
        self.server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ storage
    def key(self, res: Resource, namespace: str | None, name: str) -> str:
        from . import keys

        return keys.compose(res.resource, name, namespace=namespace if res.namespaced else None,
                            group=res.group, prefix=self.prefix)

    def collection_prefix(self, res: Resource, namespace: str | None) -> str:
        probe = self.key(res, namespace, "x")
        return probe[:-1] if namespace or not res.namespaced else probe.rsplit("/", 2)[0] + "/"

    def encode(self, obj: dict) -> bytes:
        from . import codec

        return codec.encode(obj, self.media_type)

    def decode(self, value: bytes, rev: int) -> dict:
        from . import codec

        obj = codec.decode(value).obj
        obj.setdefault("metadata", {})["resourceVersion"] = str(rev)
        return canonical(obj)

    # ------------------------------------------------------------ verbs
    def get(self, res, ns, name) -> dict:
        kvs = etcdmod.Etcd(self.client, prefix=self.prefix).get(self.key(res, ns, name))
        if kvs is None:
            raise ApiError(404, "NotFound", f'{res.resource} "{name}" not found',
                           {"name": name, "group": res.group, "kind": res.resource})
        return self.decode(kvs.value, kvs.mod_revision)

    def list(self, res, ns) -> dict:
        view = etcdmod.Etcd(self.client, prefix=self.prefix)
        p = self.collection_prefix(res, ns)
        rev, kvs = view._range(p.encode(), etcdmod.prefix_end(p.encode()))
        items = [self.decode(kv.value, kv.mod_revision) for kv in kvs]
        for it in items:
            it.pop("apiVersion", None)
            it.pop("kind", None)
        return {"kind": f"{res.kind}List", "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(rev)}, "items": items}

    def create(self, res, ns, body: dict, manager: str) -> dict:
        meta = body.setdefault("metadata", {})
        if not meta.get("name"):
            if meta.get("generateName"):
                meta["name"] = meta["generateName"] + hashlib.sha256(self.clock.uid().encode()).hexdigest()[:5]
            else:
                raise ApiError(422, "Invalid", f"{res.kind} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                               {"kind": res.kind, "causes": [{"reason": "FieldValueRequired", "message": "Required value: name or generateName is required", "field": "metadata.name"}]})
        if res.namespaced:
            if meta.get("namespace") not in (None, ns):
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = ns
        if meta.get("resourceVersion"):
            # https://kubernetes.io/docs/reference/using-api/api-concepts/ : "resourceVersion should not be set on objects to be created"
            raise ApiError(500, "InternalError", "resourceVersion should not be set on objects to be created")
        name = meta["name"]
        with self._lock:
            when = self.clock.stamp()
            meta["uid"] = self.clock.uid()
            meta["creationTimestamp"] = when
            body["apiVersion"], body["kind"] = res.api_version, res.kind
            meta["managedFields"] = [managed_fields_for(body, manager, "Update", res.api_version, when)]
            key = self.key(res, ns, name).encode()
            t = self.client.transactions
            ok, _r, rev = etcdmod.txn(self.client, [t.create(key) == 0], [t.put(key, self.encode(body))])
        if not ok:
            raise ApiError(409, "AlreadyExists", f'{res.resource} "{name}" already exists',
                           {"name": name, "group": res.group, "kind": res.resource})
        body["metadata"]["resourceVersion"] = str(rev)
        return canonical(body)

    def update(self, res, ns, name, body: dict, manager: str) -> dict:
        meta = body.setdefault("metadata", {})
        if meta.get("name") != name:
            raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)" % (meta.get("name"), name))
        with self._lock:
            cur = etcdmod.Etcd(self.client, prefix=self.prefix).get(self.key(res, ns, name))
            if cur is None:
                raise ApiError(404, "NotFound", f'{res.resource} "{name}" not found',
                               {"name": name, "group": res.group, "kind": res.resource})
            old = self.decode(cur.value, cur.mod_revision)
            want = meta.pop("resourceVersion", "") or ""
            # Built-in types allow an unconditional update (no resourceVersion): last write wins.
            # https://kubernetes.io/docs/reference/using-api/api-concepts/#conflicts
            expect = int(want) if want else cur.mod_revision
            for k in ("uid", "creationTimestamp"):
                meta[k] = old["metadata"].get(k)
            meta["namespace"] = ns if res.namespaced else None
            if meta["namespace"] is None:
                meta.pop("namespace")
            body["apiVersion"], body["kind"] = res.api_version, res.kind
            when = self.clock.stamp()
            mf = [m for m in old["metadata"].get("managedFields", []) if m.get("manager") != manager]
            mf.append(managed_fields_for(body, manager, "Update", res.api_version, when))
            meta["managedFields"] = mf
            key = self.key(res, ns, name).encode()
            t = self.client.transactions
            ok, _r, rev = etcdmod.txn(self.client, [t.mod(key) == expect], [t.put(key, self.encode(body))])
        if not ok:
            # https://kubernetes.io/docs/reference/using-api/api-concepts/#conflicts
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {res.resource}'
                           f'{"." + res.group if res.group else ""} "{name}": the object has been modified; '
                           "please apply your changes to the latest version and try again",
                           {"name": name, "group": res.group, "kind": res.resource})
        body["metadata"]["resourceVersion"] = str(rev)
        return canonical(body)

    def delete(self, res, ns, name) -> dict:
        key = self.key(res, ns, name).encode()
        with self._lock:
            cur = etcdmod.Etcd(self.client, prefix=self.prefix).get(key.decode())
            if cur is None:
                raise ApiError(404, "NotFound", f'{res.resource} "{name}" not found',
                               {"name": name, "group": res.group, "kind": res.resource})
            old = self.decode(cur.value, cur.mod_revision)
            t = self.client.transactions
            etcdmod.txn(self.client, [t.mod(key) == cur.mod_revision], [t.delete(key)])
        # generic registry Store.finalizeDelete: a Status naming the object, unless the
        # store returns the deleted object (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": name, "group": res.group, "kind": res.resource,
                            "uid": old["metadata"].get("uid")}}

    def watch_events(self, res, ns, query: dict):
        """Yield watch events (dicts) for a collection, as the apiserver's watch would."""
        rv = query.get("resourceVersion", "")
        send_initial = query.get("sendInitialEvents") == "true"
        bookmarks = query.get("allowWatchBookmarks") == "true"
        timeout = float(query.get("timeoutSeconds") or 1800)
        p = self.collection_prefix(res, ns).encode()
        if send_initial or rv in ("", "0"):
            # Without a resourceVersion a watch starts with synthetic ADDED events for the
            # current state: https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-watch
            listed = self.list(res, ns)
            for item in listed["items"]:
                item["apiVersion"], item["kind"] = res.api_version, res.kind
                yield {"type": "ADDED", "object": item}
            start = int(listed["metadata"]["resourceVersion"])
            if send_initial and bookmarks:
                # KEP-3157: a BOOKMARK annotated k8s.io/initial-events-end marks the end of the initial state
                yield {"type": "BOOKMARK", "object": {"kind": res.kind, "apiVersion": res.api_version,
                       "metadata": {"resourceVersion": str(start), "annotations": {"k8s.io/initial-events-end": "true"}}}}
        else:
            start = int(rv)
        events, cancel = self.client.watch(p, range_end=etcdmod.prefix_end(p), start_revision=start + 1, prev_kv=True)
        import queue

        q: queue.Queue = queue.Queue()

        def pump():
            try:
                for ev in events:
                    q.put(ev)
            except Exception:
                pass

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    ev = q.get(timeout=min(self.watch_idle, max(0.01, deadline - time.monotonic())))
                except queue.Empty:
                    break  # the stand-in ends a quiet watch early; see the module docstring
                kv = ev._event.kv
                if type(ev).__name__ == "DeleteEvent":
                    prev = ev._event.prev_kv
                    obj = self.decode(prev.value, kv.mod_revision)
                    yield {"type": "DELETED", "object": obj}
                else:
                    obj = self.decode(kv.value, kv.mod_revision)
                    yield {"type": "ADDED" if kv.version == 1 else "MODIFIED", "object": obj}
        finally:
            cancel()

    # ------------------------------------------------------------ HTTP
    def route(self, path: str):
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/([^/]+)(?:/([^/]+))?", path)
        if m and ("", "v1", m[2]) in _BY_PATH:
            return _BY_PATH[("", "v1", m[2])], m[1], m[3]
        m = re.fullmatch(r"/api/v1/([^/]+)(?:/([^/]+))?", path)
        if m and ("", "v1", m[1]) in _BY_PATH:
            return _BY_PATH[("", "v1", m[1])], None, m[2]
        m = re.fullmatch(r"/apis/([^/]+)/([^/]+)/namespaces/([^/]+)/([^/]+)(?:/([^/]+))?", path)
        if m and (m[1], m[2], m[4]) in _BY_PATH:
            return _BY_PATH[(m[1], m[2], m[4])], m[3], m[5]
        m = re.fullmatch(r"/apis/([^/]+)/([^/]+)/([^/]+)(?:/([^/]+))?", path)
        if m and (m[1], m[2], m[3]) in _BY_PATH:
            return _BY_PATH[(m[1], m[2], m[3])], None, m[4]
        return None

    def handle(self, method: str, target: str, body: bytes, user_agent: str):
        """Answer one request: returns (status, json body or an iterator of events)."""
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if url.path in ("/version", "/version/") and method == "GET":
            return 200, self.version_info
        routed = self.route(url.path)
        if routed is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        res, ns, name = routed
        # field manager: the ?fieldManager= parameter, else the user agent up to its first "/"
        # https://kubernetes.io/docs/reference/using-api/server-side-apply/#managers
        manager = query.get("fieldManager") or (user_agent or "unknown").split("/")[0]
        doc = json.loads(body) if body else None
        if method == "GET" and name is None and query.get("watch") in ("true", "1"):
            return 200, self.watch_events(res, ns, query)
        if method == "GET":
            return 200, (self.get(res, ns, name) if name else self.list(res, ns))
        if method == "POST" and name is None:
            return 201, self.create(res, ns, doc, manager)
        if method == "PUT" and name:
            return 200, self.update(res, ns, name, doc, manager)
        if method == "DELETE" and name:
            return 200, self.delete(res, ns, name)
        raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested resource")

    def start(self) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, code: int, payload):
                data = json.dumps(payload, separators=(",", ":")).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                try:
                    code, payload = standin.handle(self.command, self.path, body, self.headers.get("User-Agent", ""))
                except ApiError as e:
                    return self._send(e.code, e.status())
                except Exception as e:  # noqa: BLE001 - answer as the apiserver would: 500 Status
                    return self._send(500, ApiError(500, "InternalError", f"stand-in error: {e}").status())
                if isinstance(payload, dict):
                    return self._send(code, payload)
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for event in payload:
                    line = json.dumps(event, separators=(",", ":")).encode() + b"\n"
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
