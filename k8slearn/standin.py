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

Also modelled (each rule cites its source where it is implemented):
- get/list `resourceVersion` + `resourceVersionMatch` semantics (unset, "0", NotOlderThan,
  Exact read from etcd at that revision), 422 for invalid combinations, 504 for a
  resourceVersion from the future; `limit`/`continue` pages read at the first page's
  revision, with the apiserver's continue-token format; `fieldSelector` on metadata.name
  and metadata.namespace.
- the apiserver's compactor (`compact_rev_key`): on the first request the stand-in runs two
  compactor rounds, as a cluster up for over ten minutes would have, so reads and watches from
  older revisions get the real 410 Expired answers (a watch: an ERROR event).
- PATCH: JSON merge patch, strategic merge patch simplified to maps (ConfigMap level), and
  server-side apply with field managers, `force` and the conflict message; no-op writes keep
  the resourceVersion.
- CustomResourceDefinitions and their custom resources (stored as JSON, `metadata.generation`,
  status subresource, updates without resourceVersion refused with 422).

What it does NOT model: the watch cache (answers come from etcd; "0" gets the newest data),
admission, authentication, defaulting and validation of object contents, garbage collection,
namespace deletion cascading, JSON patch, strategic-merge directives and list merge keys.
"""

from __future__ import annotations

import base64
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
    custom: bool = False              # served from a CustomResourceDefinition
    status_subresource: bool = False  # the CRD version enables subresources.status

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
    Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False),
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


def success_status(res, name: str, uid: str | None) -> dict:
    """The Status a delete answers with (StatusDetails fields are omitempty: no empty group)."""
    details = {"name": name, "group": res.group, "kind": res.resource, "uid": uid}
    details = {k: v for k, v in details.items() if v}
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict:
        # metav1.Status as kube-apiserver returns it:
        # https://kubernetes.io/docs/reference/using-api/api-concepts/#api-verbs (Status kind)
        s = {"kind": "Status", "apiVersion": "v1", "metadata": dict(getattr(self, "list_meta", {})), "status": "Failure",
             "message": self.message, "reason": self.reason}
        if self.details is not None:
            # StatusDetails fields are omitempty: a core type's empty group is left out
            s["details"] = {k: v for k, v in self.details.items() if not (k == "group" and v == "")}
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


def field_selector(expr: str):
    """A predicate for the fieldSelector every type supports: metadata.name and
    metadata.namespace with =, == or != (https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/)."""
    tests = []
    for part in filter(None, (expr or "").split(",")):
        m = re.fullmatch(r"\s*([\w.]+)\s*(!=|==|=)\s*(.*?)\s*", part)
        if not m or m[1] not in ("metadata.name", "metadata.namespace"):
            raise ApiError(400, "BadRequest", f'unable to parse requirement: "{part}" (the stand-in supports metadata.name and metadata.namespace)')
        tests.append((m[1].split(".")[1], m[2] != "!=", m[3]))
    return lambda obj: all(((obj.get("metadata") or {}).get(f) == v) == eq for f, eq, v in tests)


COMPACT_REV_KEY = b"compact_rev_key"  # staging/src/k8s.io/apiserver/pkg/storage/etcd3/compact.go


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: objects merge recursively, null removes, the rest replaces."""
    if not isinstance(patch, dict):
        return json.loads(json.dumps(patch))
    out = json.loads(json.dumps(target)) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _has_directive(doc) -> bool:
    if isinstance(doc, dict):
        return any(str(k).startswith("$") or _has_directive(v) for k, v in doc.items())
    if isinstance(doc, list):
        return any(_has_directive(v) for v in doc)
    return False


def _leaf_paths(fields: dict, prefix: tuple = ()) -> set:
    """The leaf field paths named by a FieldsV1 set, as tuples of field names."""
    out = set()
    for k, v in (fields or {}).items():
        if not k.startswith("f:"):
            continue
        path = prefix + (k[2:],)
        children = {c: x for c, x in (v or {}).items() if c.startswith("f:")}
        if children:
            out |= _leaf_paths(children, path)
        else:
            out.add(path)
    return out


def _fields_from_paths(paths) -> dict:
    out: dict = {}
    for path in sorted(paths):
        node = out
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return out


def _get_path(obj, path):
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _set_path(obj, path, value):
    for part in path[:-1]:
        obj = obj.setdefault(part, {})
    obj[path[-1]] = json.loads(json.dumps(value))


def _del_path(obj, path):
    for part in path[:-1]:
        obj = obj.get(part) if isinstance(obj, dict) else None
        if obj is None:
            return
    if isinstance(obj, dict):
        obj.pop(path[-1], None)


class StandIn:
    """The stand-in apiserver: an HTTP server on 127.0.0.1 backed by a real etcd client."""

    def __init__(self, client, *, prefix: str = "/registry",
                 storage_media_type: str = "application/vnd.kubernetes.protobuf",
                 version_info: dict | None = None, clock: Clock | None = None,
                 watch_idle_seconds: float = 0.3, compact_on_first_request: bool = True):
        self.client = client
        self.prefix = prefix
        self.media_type = storage_media_type
        self.clock = clock or Clock()
        self.watch_idle = watch_idle_seconds
        self.version_info = version_info or {}
        self.compact_on_first_request = compact_on_first_request
        self._custom: dict[tuple[str, str, str], Resource] = {}
        self._custom_groups: set[str] = set()
        self.compacted_revision = 0
        self._compacted_once = False
        self._compact_time = 0  # the compactor's view of compact_rev_key's version
        self._compact_rev = 0   # the revision seen in the previous compactor round
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
        """Custom resources and CRDs are stored as JSON whatever --storage-media-type says.

        Custom resources have no protobuf schema (the apiextensions-apiserver stores them
        unstructured). CRDs themselves are written with `Codecs.LegacyCodec(v1beta1, v1)`,
        a JSON codec, with an EncodeVersioner that prefers apiextensions.k8s.io/v1beta1 for
        storage (pkg/controlplane/apiserver/apiextensions.go in kubernetes/kubernetes,
        "prefer the more compact serialization (v1beta1) for storage"). The stand-in stores
        the v1 object it was given: a real cluster's stored CRD says apiVersion
        apiextensions.k8s.io/v1beta1 (a known deviation of this fixture builder).
        """
        from . import codec

        group = obj.get("apiVersion", "").rpartition("/")[0]
        if group == "apiextensions.k8s.io" or group in self._custom_groups:
            return codec.encode(obj, "application/json")
        return codec.encode(obj, self.media_type)

    def decode(self, value: bytes, rev: int) -> dict:
        from . import codec

        obj = codec.decode(value).obj
        obj.setdefault("metadata", {})["resourceVersion"] = str(rev)
        return canonical(obj)

    # ------------------------------------------------------------ verbs
    def _not_found(self, res, name):
        # apimachinery errors.NewNotFound: `<resource> "<name>" not found`
        return ApiError(404, "NotFound", f'{res.resource}{"." + res.group if res.group else ""} "{name}" not found',
                        {"name": name, "group": res.group, "kind": res.resource})

    def _current(self, res, ns, name):
        return etcdmod.Etcd(self.client, prefix=self.prefix).get(self.key(res, ns, name))

    def get(self, res, ns, name, query: dict | None = None) -> dict:
        """GET one object. `resourceVersion` unset: the newest (a quorum read from etcd); "0":
        any version (the apiserver may answer from its watch cache; the stand-in has none and
        answers the newest); a value: not older than it, which the newest always is.
        https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-get-and-list
        """
        query = query or {}
        rv = query.get("resourceVersion", "")
        kvs = self._current(res, ns, name)
        if rv not in ("", "0"):
            self._too_large_check(self._parse_rv(rv))
        if kvs is None:
            raise self._not_found(res, name)
        return self.decode(kvs.value, kvs.mod_revision)

    # ------------------------------------------------------------ list semantics
    @staticmethod
    def _parse_rv(rv: str) -> int:
        try:
            n = int(rv)
            if n < 0:
                raise ValueError
            return n
        except ValueError:
            # a malformed resourceVersion is refused; the stand-in answers 400 BadRequest with a
            # simplified message (not modelled byte for byte)
            raise ApiError(400, "BadRequest", f"invalid resource version: {rv}") from None

    def _too_large_check(self, rv: int):
        cur = etcdmod.current_revision(self.client)
        if rv > cur:
            # storage.NewTooLargeResourceVersionError (staging/src/k8s.io/apiserver/pkg/storage/errors.go):
            # a Timeout (504) "Too large resource version: <asked>, current: <now>", retry after 1 s
            raise ApiError(504, "Timeout", f"Timeout: Too large resource version: {rv}, current: {cur}",
                           {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                            "retryAfterSeconds": 1})

    @staticmethod
    def validate_list_options(query: dict, watch: bool) -> None:
        """Reject invalid resourceVersion/resourceVersionMatch combinations with 422, as
        ValidateListOptions does (staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go),
        wrapped by the handlers in errors.NewInvalid(ListOptions.meta.k8s.io, "", errs)
        (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go; errors.go NewInvalid)."""
        match = query.get("resourceVersionMatch", "")
        rv = query.get("resourceVersion", "")
        cont = query.get("continue", "")
        sie = query.get("sendInitialEvents")
        errs: list[tuple[str, str, str, str]] = []  # (field, type, body, detail)
        if watch:
            if sie is not None and match != "NotOlderThan":
                errs.append(("resourceVersionMatch", "FieldValueForbidden", "Forbidden",
                             "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
            if match:
                if sie is None:
                    errs.append(("resourceVersionMatch", "FieldValueForbidden", "Forbidden",
                                 "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
                if match != "NotOlderThan":
                    errs.append(("resourceVersionMatch", "FieldValueNotSupported", f'Unsupported value: "{match}"',
                                 'supported values: "NotOlderThan"'))
                if cont:
                    errs.append(("resourceVersionMatch", "FieldValueForbidden", "Forbidden",
                                 "resourceVersionMatch is forbidden when continue is provided"))
        else:
            if match:
                if not rv:
                    errs.append(("resourceVersionMatch", "FieldValueForbidden", "Forbidden",
                                 "resourceVersionMatch is forbidden unless resourceVersion is provided"))
                if cont:
                    errs.append(("resourceVersionMatch", "FieldValueForbidden", "Forbidden",
                                 "resourceVersionMatch is forbidden when continue is provided"))
                if match not in ("Exact", "NotOlderThan"):
                    errs.append(("resourceVersionMatch", "FieldValueNotSupported", f'Unsupported value: "{match}"',
                                 'supported values: "Exact", "NotOlderThan", ""'))
                if match == "Exact" and rv == "0":
                    errs.append(("resourceVersionMatch", "FieldValueForbidden", "Forbidden",
                                 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'))
            if sie is not None:
                errs.append(("sendInitialEvents", "FieldValueForbidden", "Forbidden", "sendInitialEvents is forbidden for list"))
        if errs:
            # field.Error.Error() is "<field>: <body>: <detail>"; an aggregate of several joins
            # them as "[a, b]" (apimachinery util/errors aggregate.Error)
            texts = [f"{f}: {b}: {d}" for f, _t, b, d in errs]
            agg = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
            raise ApiError(422, "Invalid", f'ListOptions.meta.k8s.io "" is invalid: {agg}',
                           {"group": "meta.k8s.io", "kind": "ListOptions",
                            "causes": [{"reason": t, "message": f"{b}: {d}", "field": f} for f, t, b, d in errs]})

    @staticmethod
    def encode_continue(key: str, key_prefix: str, rv: int) -> str:
        """A continue token as storage.EncodeContinue writes it: base64url (no padding) of
        {"v":"meta.k8s.io/v1","rv":<list revision>,"start":<next key without the collection prefix>}
        (staging/src/k8s.io/apiserver/pkg/storage/continue.go)."""
        token = {"v": "meta.k8s.io/v1", "rv": rv, "start": key[len(key_prefix):]}
        return base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).rstrip(b"=").decode()

    @staticmethod
    def decode_continue(token: str, key_prefix: str) -> tuple[str, int]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            c = json.loads(raw)
        except (ValueError, TypeError) as e:
            raise ApiError(400, "BadRequest", f"continue key is not valid: {e}") from None
        if c.get("v") != "meta.k8s.io/v1":
            raise ApiError(400, "BadRequest", f"continue key is not valid: server does not recognize this encoded version {c.get('v')}")
        if not c.get("rv"):
            raise ApiError(400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        if not c.get("start"):
            raise ApiError(400, "BadRequest", "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)")
        start = c["start"].lstrip("/")
        return key_prefix + start, int(c["rv"])

    def list(self, res, ns, query: dict | None = None) -> dict:
        """LIST a collection with the documented resourceVersion semantics.

        https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-get-and-list
        - resourceVersion unset: most recent (a consistent read; KEP-2340 lets the apiserver
          serve it from its watch cache once the cache has caught up with etcd's current
          revision; the stand-in reads etcd).
        - "0": any version (the stand-in answers the newest).
        - a value with resourceVersionMatch=NotOlderThan (or unset, without limit): not older.
        - a value with resourceVersionMatch=Exact (or unset WITH limit, the legacy rule of
          KEP-2523): exactly that revision, read from etcd at it; compacted -> 410 Expired.
        - limit/continue: pages; every page is read at the first page's revision, which is
          also every page's resourceVersion; the continue token carries it.
        """
        query = query or {}
        self.validate_list_options(query, watch=False)
        rv, match = query.get("resourceVersion", ""), query.get("resourceVersionMatch", "")
        limit = int(query.get("limit") or 0)
        cont = query.get("continue", "")
        p = self.collection_prefix(res, ns)
        start_key, read_rev = p, None
        if cont:
            start_key, read_rev = self.decode_continue(cont, p)
            if read_rev < 0:  # a token issued with a 410: continue at the newest revision
                read_rev = None
        elif rv not in ("", "0"):
            asked = self._parse_rv(rv)
            exact = match == "Exact" or (not match and limit > 0)
            self._too_large_check(asked)
            if exact:
                read_rev = asked
        view = etcdmod.Etcd(self.client, prefix=self.prefix)
        try:
            rev, kvs = view._range(start_key.encode(), etcdmod.prefix_end(p.encode()),
                                   limit=(limit + 1) if limit else 0, revision=read_rev)
        except Exception as e:  # grpc OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted
            if "compacted" not in str(e):
                raise
            # etcd3 interpretListError (staging/src/k8s.io/apiserver/pkg/storage/etcd3/errors.go)
            if cont:
                err = ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent "
                               "list result. You can start a new list without the continue parameter, or use the "
                               "continue token in this response to retrieve the remainder of the results. Continuing "
                               "with the provided token results in an inconsistent list - objects that were created, "
                               "modified, or deleted between the time the first chunk was returned and now may show "
                               "up in the list.")
                err.list_meta = {"continue": self.encode_continue(start_key, p, -1)}
                raise err from None
            raise ApiError(410, "Expired", "The resourceVersion for the provided list is too old.") from None
        meta: dict = {"resourceVersion": str(rev)}
        if limit and len(kvs) > limit:
            kvs = kvs[:limit]
            meta["continue"] = self.encode_continue(kvs[-1].key + "\x00", p, rev)
            rest = view._range((kvs[-1].key + "\x00").encode(), etcdmod.prefix_end(p.encode()),
                               keys_only=True, revision=rev)[1]
            meta["remainingItemCount"] = len(rest)
        keep = field_selector(query.get("fieldSelector", ""))
        items = [it for it in (self.decode(kv.value, kv.mod_revision) for kv in kvs) if keep(it)]
        for it in items:
            it.pop("apiVersion", None)
            it.pop("kind", None)
        return {"kind": f"{res.kind}List", "apiVersion": res.api_version, "metadata": meta, "items": items}

    def create(self, res, ns, body: dict, manager: str, operation: str = "Update") -> dict:
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
        if res.custom:
            # customresource strategy PrepareForCreate: generation 1; with a status
            # subresource the status of a create is dropped
            # (staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go)
            meta["generation"] = 1
            if res.status_subresource:
                body.pop("status", None)
        if res.resource == "customresourcedefinitions":
            self._accept_crd(body)
        with self._lock:
            when = self.clock.stamp()
            meta["uid"] = self.clock.uid()
            meta["creationTimestamp"] = when
            body["apiVersion"], body["kind"] = res.api_version, res.kind
            meta["managedFields"] = [managed_fields_for(body, manager, operation, res.api_version, when)]
            key = self.key(res, ns, name).encode()
            t = self.client.transactions
            ok, _r, rev = etcdmod.txn(self.client, [t.create(key) == 0], [t.put(key, self.encode(body))])
        if not ok:
            raise ApiError(409, "AlreadyExists", f'{res.resource} "{name}" already exists',
                           {"name": name, "group": res.group, "kind": res.resource})
        body["metadata"]["resourceVersion"] = str(rev)
        return canonical(body)

    def _custom_update_rules(self, res, old: dict, body: dict, subresource: str | None):
        """customresource strategy: the main resource ignores status changes and the status
        subresource ignores everything but status (when the subresource is enabled); any
        change outside metadata (and status) adds 1 to metadata.generation.
        https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#status-subresource"""
        meta = body.setdefault("metadata", {})
        if res.status_subresource:
            if subresource == "status":
                status = body.get("status")
                keep_meta = meta
                body.clear()
                body.update({k: json.loads(json.dumps(v)) for k, v in old.items() if k != "status"})
                body["metadata"] = dict(old["metadata"], **{k: v for k, v in keep_meta.items() if k in ("managedFields",)})
                if status is not None:
                    body["status"] = status
                meta = body["metadata"]
            else:
                body.pop("status", None)
                if "status" in old:
                    body["status"] = old["status"]
        def content(o):
            return {k: v for k, v in o.items() if k not in ("metadata", "apiVersion", "kind")
                    and not (res.status_subresource and k == "status")}
        generation = old["metadata"].get("generation", 1)
        meta["generation"] = generation + 1 if content(body) != content(old) else generation

    def _accept_crd(self, crd: dict):
        """Serve the custom resource a CRD defines, and mark the CRD Established and its names
        accepted at once (kube-apiserver's CRD controllers do this within moments:
        https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#create-a-customresourcedefinition)."""
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group = spec.get("group", "")
        for ver in spec.get("versions") or []:
            if not ver.get("served", True):
                continue
            r = Resource(group, ver["name"], names.get("plural", ""), names.get("kind", ""),
                         spec.get("scope", "Namespaced") == "Namespaced", custom=True,
                         status_subresource="status" in ((ver.get("subresources") or {})))
            self._custom[(group, ver["name"], r.resource)] = r
        self._custom_groups.add(group)
        when = self.clock.stamp()
        crd["status"] = {"conditions": [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": when, "reason": "NoConflicts",
             "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": when, "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted"}],
            "acceptedNames": names, "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")]}

    def update(self, res, ns, name, body: dict, manager: str, subresource: str | None = None) -> dict:
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
            # Custom resources do not (their strategy's AllowUnconditionalUpdate is false): the
            # generic registry answers 422 (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go,
            # Update: "must be specified for an update"; the uint64 0 prints as 0x0).
            if res.custom and not want:
                qualified = f"{res.resource}.{res.group}"
                raise ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: metadata.resourceVersion: '
                               "Invalid value: 0x0: must be specified for an update",
                               {"name": name, "group": res.group, "kind": res.resource,
                                "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 0x0: must be specified for an update",
                                            "field": "metadata.resourceVersion"}]})
            if res.custom:
                self._custom_update_rules(res, old, body, subresource)
                meta = body["metadata"]
                meta.pop("resourceVersion", None)
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
        return success_status(res, name, old["metadata"].get("uid"))

    # ------------------------------------------------------------ the apiserver's compactor
    def compactor_round(self) -> int:
        """One round of kube-apiserver's etcd compactor; returns the revision compacted (0: none).

        Modelled on staging/src/k8s.io/apiserver/pkg/storage/etcd3/compact.go: a transaction
        compares the version of the key `compact_rev_key` with the version this compactor last
        saw; if equal it writes the revision seen in the previous round into it and compacts
        etcd at that revision (nothing on the first, "bootstrap", round); if not, another
        apiserver compacted and this one catches up. kube-apiserver runs a round every
        `--etcd-compaction-interval` (default 5m: storagebackend.DefaultCompactInterval).
        """
        t = self.client.transactions
        key = COMPACT_REV_KEY
        ok, responses, header_rev = etcdmod.txn(self.client, [t.version(key) == self._compact_time],
                                                [t.put(key, str(self._compact_rev).encode())], [t.get(key)])
        compacted = 0
        if not ok:
            kv = responses[0].response_range.kvs[0]
            self._compact_time = kv.version
            compacted = int(kv.value or b"0")
        else:
            self._compact_time += 1
            if self._compact_rev:
                self.client.compact(self._compact_rev)
                compacted = self._compact_rev
        self._compact_rev = header_rev
        if compacted:
            self.compacted_revision = compacted
        return compacted

    def etcd_compacted_revision(self) -> int:
        """The newest revision etcd was compacted at, as far as compactors recorded it."""
        kv = etcdmod.Etcd(self.client, prefix=self.prefix).get(COMPACT_REV_KEY.decode())
        recorded = int(kv.value or b"0") if kv is not None else 0
        return max(self.compacted_revision, recorded)

    def _maybe_compact(self):
        """On the first request: two compactor rounds, as on a cluster up for over 10 minutes."""
        with self._lock:
            if self.compact_on_first_request and not self._compacted_once:
                self._compacted_once = True
                self.compactor_round()
                self.compactor_round()

    # ------------------------------------------------------------ patch
    def _finish_write(self, res, ns, name, cur, old: dict, new: dict, expect: int) -> dict:
        """Write `new` in place of `old` (read at mod_revision `cur.mod_revision`), conditioned
        on the key's mod_revision being `expect`. A write that changes nothing is skipped and
        the object keeps its resourceVersion (etcd3 store GuaranteedUpdate compares the new
        bytes with the stored ones: staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go)."""
        def strip(o):
            o = json.loads(json.dumps(o))
            o.get("metadata", {}).pop("managedFields", None)
            o.get("metadata", {}).pop("resourceVersion", None)
            return o
        if strip(new) == strip(old) and expect == cur.mod_revision:
            return old
        new.setdefault("metadata", {}).pop("resourceVersion", None)
        key = self.key(res, ns, name).encode()
        t = self.client.transactions
        ok, _r, rev = etcdmod.txn(self.client, [t.mod(key) == expect], [t.put(key, self.encode(new))])
        if not ok:
            raise self._conflict(res, name)
        new["metadata"]["resourceVersion"] = str(rev)
        return canonical(new)

    @staticmethod
    def _conflict(res, name):
        # apimachinery errors.NewConflict with storage's "the object has been modified" text:
        # https://kubernetes.io/docs/reference/using-api/api-concepts/#conflicts
        return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {res.resource}'
                        f'{"." + res.group if res.group else ""} "{name}": the object has been modified; '
                        "please apply your changes to the latest version and try again",
                        {"name": name, "group": res.group, "kind": res.resource})

    def patch(self, res, ns, name, body: bytes, content_type: str, query: dict, manager: str) -> dict:
        """PATCH: JSON merge patch (RFC 7386) and strategic merge patch, simplified to what a
        ConfigMap needs (maps merge, null deletes; no list merge keys or $patch directives);
        server-side apply (`application/apply-patch+yaml`). A `metadata.resourceVersion` in a
        merge patch is a precondition (https://kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply).
        https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/"""
        ct = (content_type or "").split(";")[0].strip()
        if ct == "application/apply-patch+yaml":
            import yaml

            return self.apply(res, ns, name, yaml.safe_load(body or b"{}") or {}, query, manager)
        if ct not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            # message simplified: the stand-in does not model JSON patch (application/json-patch+json)
            raise ApiError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media types include: '
                           'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml')
        doc = json.loads(body or b"{}")
        if ct == "application/strategic-merge-patch+json" and _has_directive(doc):
            raise ApiError(400, "BadRequest", "the stand-in does not model strategic merge patch directives ($patch, $retainKeys, ...)")
        with self._lock:
            cur = self._current(res, ns, name)
            if cur is None:
                raise self._not_found(res, name)
            old = self.decode(cur.value, cur.mod_revision)
            want = (doc.get("metadata") or {}).get("resourceVersion")
            new = merge_patch(old, doc)
            meta = new.setdefault("metadata", {})
            for k in ("name", "namespace", "uid", "creationTimestamp"):
                if k in old["metadata"]:
                    meta[k] = old["metadata"][k]
            new["apiVersion"], new["kind"] = res.api_version, res.kind
            mf = [m for m in old["metadata"].get("managedFields", []) if not (m.get("manager") == manager and m.get("operation") == "Update")]
            mf.append(managed_fields_for(new, manager, "Update", res.api_version, self.clock.stamp()))
            meta["managedFields"] = mf
            return self._finish_write(res, ns, name, cur, old, new, int(want) if want else cur.mod_revision)

    def apply(self, res, ns, name, applied: dict, query: dict, manager: str) -> dict:
        """Server-side apply, simplified: field ownership at the level of leaf fields, conflicts
        with other managers for fields whose value would change, `force=true` takes them over.
        https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts
        Conflict message: getConflictMessage / printManager in
        staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go."""
        force = query.get("force") == "true"
        meta_in = applied.setdefault("metadata", {})
        if meta_in.get("name") not in (None, name):
            raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)" % (meta_in.get("name"), name))
        mine = _leaf_paths(managed_fields_for(applied, manager, "Apply", res.api_version, "")["fieldsV1"])
        with self._lock:
            cur = self._current(res, ns, name)
            if cur is None:  # apply creates a missing object; its manager owns what it applied
                body = json.loads(json.dumps(applied))
                body["metadata"]["name"] = name
                return self.create(res, ns, body, manager, operation="Apply")
            old = self.decode(cur.value, cur.mod_revision)
            entries = json.loads(json.dumps(old["metadata"].get("managedFields", [])))
            conflicts = []
            for path in sorted(mine):
                if _get_path(old, path) == _get_path(applied, path):
                    continue
                for e in entries:
                    if e.get("manager") == manager and e.get("operation") == "Apply":
                        continue
                    if path in _leaf_paths(e.get("fieldsV1", {})):
                        conflicts.append((e, path))
            if conflicts and not force:
                def who(e):
                    base = json.dumps(e["manager"])
                    return f"{base} using {e['apiVersion']}" if e.get("operation") == "Update" else base
                causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {who(e)}",
                           "field": "." + ".".join(p)} for e, p in conflicts]
                if len(conflicts) == 1:
                    msg = f"Apply failed with 1 conflict: conflict with {who(conflicts[0][0])}: .{'.'.join(conflicts[0][1])}"
                else:
                    by: dict = {}
                    for e, p in conflicts:
                        by.setdefault(who(e), []).append("." + ".".join(p))
                    lines = []
                    for w in sorted(by):
                        lines.append(f"conflicts with {w}:")
                        lines += [f"- {p}" for p in by[w]]
                    msg = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
                raise ApiError(409, "Conflict", msg, {"causes": causes})
            # forced (or no conflict): the others lose the fields this manager takes
            taken = {p for _e, p in conflicts}
            new = json.loads(json.dumps(old))
            prev_mine = set()
            kept = []
            for e in entries:
                if e.get("manager") == manager and e.get("operation") == "Apply":
                    prev_mine = _leaf_paths(e.get("fieldsV1", {}))
                    continue
                paths = _leaf_paths(e.get("fieldsV1", {})) - taken
                if paths:
                    e["fieldsV1"] = _fields_from_paths(paths)
                    kept.append(e)
            others = set().union(*[_leaf_paths(e["fieldsV1"]) for e in kept]) if kept else set()
            for path in prev_mine - mine - others:  # fields this manager stopped applying are removed
                _del_path(new, path)
            for path in mine:
                _set_path(new, path, _get_path(applied, path))
            entry = managed_fields_for(applied, manager, "Apply", res.api_version, self.clock.stamp())
            new["metadata"]["managedFields"] = kept + [entry]
            new["apiVersion"], new["kind"] = res.api_version, res.kind
            return self._finish_write(res, ns, name, cur, old, new, cur.mod_revision)

    def watch_events(self, res, ns, query: dict):
        """Yield watch events (dicts) for a collection, as the apiserver's watch would."""
        rv = query.get("resourceVersion", "")
        send_initial = query.get("sendInitialEvents") == "true"
        bookmarks = query.get("allowWatchBookmarks") == "true"
        timeout = float(query.get("timeoutSeconds") or 1800)
        keep = field_selector(query.get("fieldSelector", ""))
        p = self.collection_prefix(res, ns).encode()
        if send_initial or rv in ("", "0"):
            # Without a resourceVersion a watch starts with synthetic ADDED events for the
            # current state: https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-watch
            listed = self.list(res, ns, {"fieldSelector": query.get("fieldSelector", "")})
            for item in listed["items"]:
                item["apiVersion"], item["kind"] = res.api_version, res.kind
                yield {"type": "ADDED", "object": item}
            start = int(listed["metadata"]["resourceVersion"])
            if send_initial and bookmarks:
                # KEP-3157: a BOOKMARK annotated k8s.io/initial-events-end marks the end of the initial state
                yield {"type": "BOOKMARK", "object": {"kind": res.kind, "apiVersion": res.api_version,
                       "metadata": {"resourceVersion": str(start), "annotations": {"k8s.io/initial-events-end": "true"}}}}
        else:
            start = self._parse_rv(rv)
            if start + 1 < self.etcd_compacted_revision():
                # the watch would start inside compacted history: see the ERROR event below
                yield {"type": "ERROR", "object": ApiError(
                    410, "Expired", "The resourceVersion for the provided watch is too old.").status()}
                return
        events, cancel = self.client.watch(p, range_end=etcdmod.prefix_end(p), start_revision=start + 1, prev_kv=True)
        import queue

        q: queue.Queue = queue.Queue()

        def pump():
            try:
                for ev in events:
                    q.put(ev)
            except Exception as e:  # noqa: BLE001 - handed to the reader below
                q.put(e)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    ev = q.get(timeout=min(self.watch_idle, max(0.01, deadline - time.monotonic())))
                except queue.Empty:
                    break  # the stand-in ends a quiet watch early; see the module docstring
                if isinstance(ev, Exception):
                    if type(ev).__name__ == "RevisionCompactedError" or "compacted" in str(ev):
                        # Once the watch has started, errors travel as an ERROR event holding a
                        # Status (https://kubernetes.io/docs/reference/using-api/api-concepts/#410-gone-responses).
                        # etcd3 interpretWatchError: compacted -> 410 Expired with this message
                        # (staging/src/k8s.io/apiserver/pkg/storage/etcd3/errors.go). With the watch
                        # cache on (the default) the message is instead "too old resource version: X (Y)"
                        # (staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go); the
                        # stand-in has no watch cache.
                        yield {"type": "ERROR", "object": ApiError(
                            410, "Expired", "The resourceVersion for the provided watch is too old.").status()}
                    break
                kv = ev._event.kv
                if type(ev).__name__ == "DeleteEvent":
                    prev = ev._event.prev_kv
                    obj = self.decode(prev.value, kv.mod_revision)
                    if keep(obj):
                        yield {"type": "DELETED", "object": obj}
                else:
                    obj = self.decode(kv.value, kv.mod_revision)
                    if keep(obj):
                        yield {"type": "ADDED" if kv.version == 1 else "MODIFIED", "object": obj}
        finally:
            cancel()

    # ------------------------------------------------------------ HTTP
    def route(self, path: str):
        """(resource, namespace, name) for a path, or None; `self.subresource_of(path)` tells the subresource."""
        m = re.fullmatch(r"/apis/([^/]+)/([^/]+)(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+)(?:/(status))?)?", path)
        if m and (m[1], m[2], m[4]) in self._custom:
            return self._custom[(m[1], m[2], m[4])], m[3], m[5]
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

    def handle(self, method: str, target: str, body: bytes, user_agent: str, content_type: str = ""):
        """Answer one request: returns (status, json body or an iterator of events)."""
        self._maybe_compact()
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
        if method == "PATCH" and name:
            return 200, self.patch(res, ns, name, body, content_type, query, manager)
        doc = json.loads(body) if body else None
        if method == "GET" and name is None and query.get("watch") in ("true", "1"):
            self.validate_list_options(query, watch=True)  # before the stream starts: a plain 422
            return 200, self.watch_events(res, ns, query)
        if method == "GET":
            return 200, (self.get(res, ns, name, query) if name else self.list(res, ns, query))
        if method == "POST" and name is None:
            return 201, self.create(res, ns, doc, manager)
        if method == "PUT" and name:
            sub = "status" if url.path.endswith(f"/{name}/status") else None
            if sub and not res.status_subresource:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return 200, self.update(res, ns, name, doc, manager, sub)
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
                    code, payload = standin.handle(self.command, self.path, body, self.headers.get("User-Agent", ""),
                                                  self.headers.get("Content-Type", ""))
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
