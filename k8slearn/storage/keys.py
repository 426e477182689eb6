"""Parse and compose the etcd keys kube-apiserver writes.

Every object kube-apiserver stores lives at one etcd key built from three parts::

    <prefix>/<key path of the resource>/<namespace>/<name>     (namespaced)
    <prefix>/<key path of the resource>/<name>                 (cluster-scoped)

* ``prefix`` is ``--etcd-prefix`` (default ``/registry``).
* The key path of a *built-in* resource is its plural name in lower case, with
  **no API group** (``/registry/deployments/...``, not ``/registry/apps/...``).
  ``DefaultStorageFactory.ResourcePrefix`` falls back to
  ``strings.ToLower(resource)``, and resources that share storage
  ("cohabitating", e.g. ``events.k8s.io/events`` and core ``events``) use the
  first one's path:
  https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apiserver/pkg/server/storage/storage_factory.go
* A few built-ins keep historic key paths (``SpecialDefaultResourcePrefixes``):
  services → ``services/specs``, nodes → ``minions``, ... The table of every
  built-in resource (group, scope, key path) is
  :data:`k8slearn.storage.resources.RESOURCES`; this module reads it.
* Resources served by the apiextensions and aggregator servers, and every
  custom resource, get ``<group>/<resource>`` (``ResourcePrefix:
  resource.Group + "/" + resource.Resource`` in ``SimpleRestOptionsFactory``
  and ``CRDRESTOptionsGetter``):
  https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apiserver/pkg/server/options/etcd.go
  https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/customresource_handler.go
* Allocator bitmaps live at ``<prefix>/ranges/servicenodeports`` and, before
  1.34 (MultiCIDRServiceAllocator and DisableAllocatorDualWrite locked on since),
  ``<prefix>/ranges/serviceips`` (and ``secondaryserviceips``); since then each
  Service IP is an ``IPAddress`` object (``<prefix>/ipaddresses/<ip>``):
  https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/registry/core/rest/storage_core.go
* The ``kubernetes`` Service endpoint reconciler keeps one TTL'd key per
  apiserver IP at ``<prefix>/masterleases/<ip>``:
  https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/controlplane/instance.go
  and the mixed-version peer proxy (UnknownVersionInteroperabilityProxy, beta
  and on by default since 1.36) one per apiserver identity at
  ``<prefix>/peerserverleases/<apiserver id>``:
  https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/controlplane/apiserver/peer.go
* The compactor's bookkeeping key ``compact_rev_key`` is written *outside* the
  prefix, at the root of the keyspace:
  https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apiserver/pkg/storage/etcd3/compact.go

Only pure functions live here; nothing talks to etcd.
"""

from __future__ import annotations

from dataclasses import dataclass

from k8slearn.errors import K8sLearnError
from k8slearn.storage.resources import RESOURCES, SPECIAL_KEY_PATHS, ResourceInfo
from k8slearn.storage.resources import info as _info

__all__ = [
    "DEFAULT_PREFIX",
    "COMPACT_REV_KEY",
    "Key",
    "KeyFormatError",
    "ResourceInfo",
    "RESOURCES",
    "SPECIAL_KEY_PATHS",
    "compose",
    "key_path",
    "parse",
]

DEFAULT_PREFIX = "/registry"
COMPACT_REV_KEY = "compact_rev_key"


class KeyFormatError(K8sLearnError, ValueError):
    """A key (or the parts given to :func:`compose`) cannot be a kube-apiserver etcd key.

    A :class:`K8sLearnError` and a :class:`ValueError`. Raised for empty input, bytes that are not
    UTF-8, a key under the prefix with no resource segment, and for names or
    namespaces that would not fit in one key segment.
    """


# /ranges/<name> -> the GroupResource the allocator registers its storage under
# (api.Resource("serviceipallocations") / ("servicenodeportallocations")).
_RANGES = {
    "serviceips": "serviceipallocations",
    "secondaryserviceips": "serviceipallocations",
    "servicenodeports": "servicenodeportallocations",
}


@dataclass(frozen=True)
class Key:
    """One etcd key, taken apart.

    ``resource`` is the API resource plural ("services", "nodes", ...), or ""
    when the key names none; ``key_resource`` is the path actually used in the
    key ("services/specs", "minions", "apiextensions.k8s.io/customresourcedefinitions").
    ``group`` is "" for the core group. ``namespace`` is None for cluster-scoped
    objects, ``name`` is None for a collection prefix. ``special`` is None for an
    ordinary object key, or a tag:

    * ``"compact_rev_key"``: the compactor's key at the keyspace root;
    * ``"range"``: an allocator bitmap under ``ranges/``;
    * ``"masterleases"``: an apiserver IP lease of the endpoint reconciler;
    * ``"peerserverleases"``: an apiserver's address for the mixed-version peer proxy;
    * ``"outside-prefix"``: the key is not under ``prefix`` (name = whole key);
    * ``"collection"``: a prefix that names a resource (and namespace) but no object;
    * ``"unknown-resource"``: not a built-in resource known here and not
      group-qualified; scope guessed from the number of segments;
    * ``"unexpected-shape"``: known resource, but the segments do not match
      its scope; parsed as well as possible.
    """

    key: str
    prefix: str
    resource: str
    key_resource: str
    group: str
    namespace: str | None
    name: str | None
    special: str | None = None


def _normalise_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not prefix.strip("/"):
        raise KeyFormatError(f"prefix {prefix!r} is empty; pass the apiserver's --etcd-prefix, e.g. '/registry'")
    return "/" + prefix.strip("/")


def _as_text(key: str | bytes) -> str:
    if isinstance(key, (bytes, bytearray, memoryview)):
        try:
            return bytes(key).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise KeyFormatError(
                f"key bytes are not UTF-8 ({exc.reason} at byte {exc.start}); kube-apiserver keys are always UTF-8 text"
            ) from None
    if isinstance(key, str):
        return key
    raise KeyFormatError(f"key must be str or bytes, not {type(key).__name__}")


def key_path(resource: str, group: str = "") -> str:
    """The path segment(s) under the prefix where ``group``/``resource`` is stored."""
    if not resource:
        raise KeyFormatError("resource is empty; give the plural, e.g. 'configmaps'")
    info = _info(resource, group)
    if info is not None:
        return info.key_path
    if group and "." in group:
        return f"{group}/{resource}"
    return resource.lower()


def parse(key: str | bytes, prefix: str = DEFAULT_PREFIX) -> Key:
    """Take a kube-apiserver etcd key apart.

    Never raises for a well-formed key it does not recognise: such keys come
    back with a ``special`` tag saying what was guessed. Raises
    :class:`KeyFormatError` (a ValueError) for empty or non-UTF-8 input, or a
    key that is only the prefix.
    """
    text = _as_text(key)
    if not text:
        raise KeyFormatError("key is empty; expected e.g. '/registry/configmaps/default/x'")
    pfx = _normalise_prefix(prefix)

    if text.strip("/") == COMPACT_REV_KEY:
        return Key(text, pfx, "", "", "", None, COMPACT_REV_KEY, COMPACT_REV_KEY)
    if text != pfx and not text.startswith(pfx + "/"):
        return Key(text, pfx, "", "", "", None, text, "outside-prefix")

    rest = text[len(pfx) + 1 :]
    if rest.endswith("/"):  # "<prefix>/configmaps/" names a collection
        rest = rest[:-1]
    if not rest:
        raise KeyFormatError(f"key {text!r} is only the prefix {pfx!r}; an object key needs a resource segment")
    parts = rest.split("/")
    if any(p == "" for p in parts):
        raise KeyFormatError(f"key {text!r} has an empty segment ('//'); not an apiserver key")

    # allocator bitmaps and master leases
    if parts[0] == "ranges":
        name = "/".join(parts[1:]) or None
        resource = _RANGES.get(parts[1], "rangeallocations") if len(parts) > 1 else ""
        return Key(text, pfx, resource, "ranges", "", None, name, "range" if name else "collection")
    if parts[0] in ("masterleases", "peerserverleases"):  # both hold a v1 Endpoints
        name = "/".join(parts[1:]) or None
        return Key(text, pfx, "endpoints", parts[0], "", None, name, parts[0] if name else "collection")

    # two-segment key paths first (services/specs, services/endpoints, <group>/<plural>)
    if len(parts) >= 2 and f"{parts[0]}/{parts[1]}" in SPECIAL_KEY_PATHS:
        kr, tail = f"{parts[0]}/{parts[1]}", parts[2:]
        resource = SPECIAL_KEY_PATHS[kr]
        info = _info(resource)
        assert info is not None  # every SPECIAL_KEY_PATHS value is in RESOURCES or HISTORIC
        return _finish(text, pfx, resource, kr, info.group, tail, info.namespaced)
    if "." in parts[0]:
        group = parts[0]
        if len(parts) == 1:
            return Key(text, pfx, "", group, group, None, None, "collection")
        resource, kr, tail = parts[1], f"{parts[0]}/{parts[1]}", parts[2:]
        info = RESOURCES.get(resource)
        namespaced = info.namespaced if info is not None and info.group == group else None
        return _finish(text, pfx, resource, kr, group, tail, namespaced)

    kr, tail = parts[0], parts[1:]
    if kr in SPECIAL_KEY_PATHS:
        resource = SPECIAL_KEY_PATHS[kr]
        info = _info(resource)
    else:
        resource = kr
        info = RESOURCES.get(kr)
        if info is not None and info.key_path != kr:
            info = None  # e.g. "/registry/nodes/x": not where nodes live
    if info is None:
        found = _finish(text, pfx, resource, kr, "", tail, None)
        if found.special is None:
            found = _with_special(found, "unknown-resource")
        return found
    return _finish(text, pfx, resource, kr, info.group, tail, info.namespaced)


def _with_special(key: Key, special: str) -> Key:
    return Key(key.key, key.prefix, key.resource, key.key_resource, key.group, key.namespace, key.name, special)


def _finish(text: str, pfx: str, resource: str, kr: str, group: str, tail: list[str], namespaced: bool | None) -> Key:
    """Split the segments after the key path into namespace and name."""
    if not tail:
        return Key(text, pfx, resource, kr, group, None, None, "collection")
    if namespaced is None:  # scope unknown: guess from the segment count
        if len(tail) == 1:
            return Key(text, pfx, resource, kr, group, None, tail[0])
        if len(tail) == 2:
            return Key(text, pfx, resource, kr, group, tail[0], tail[1])
        return Key(text, pfx, resource, kr, group, tail[0], "/".join(tail[1:]), "unexpected-shape")
    if namespaced:
        if len(tail) == 1:  # "<prefix>/configmaps/<ns>" is the namespace's collection
            return Key(text, pfx, resource, kr, group, tail[0], None, "collection")
        special = None if len(tail) == 2 else "unexpected-shape"
        return Key(text, pfx, resource, kr, group, tail[0], "/".join(tail[1:]), special)
    special = None if len(tail) == 1 else "unexpected-shape"
    return Key(text, pfx, resource, kr, group, None, "/".join(tail), special)


def _check_segment(what: str, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise KeyFormatError(f"{what} is empty; give a Kubernetes object {what}")
    if "/" in value or value in (".", ".."):
        raise KeyFormatError(f"{what} {value!r} cannot be one key segment (no '/', '.' or '..' allowed)")


def compose(
    resource: str, name: str, namespace: str | None = None, group: str = "", prefix: str = DEFAULT_PREFIX
) -> str:
    """Build the etcd key kube-apiserver uses for one object (inverse of :func:`parse`).

    ``compose("services", "kube-dns", "kube-system")`` →
    ``"/registry/services/specs/kube-system/kube-dns"``. For a built-in
    resource ``group`` may be left empty; for a custom resource give its group
    (``compose("widgets", "w1", "default", group="example.com")``).
    Raises :class:`KeyFormatError` when a namespaced built-in gets no namespace
    or a cluster-scoped one gets one.
    """
    pfx = _normalise_prefix(prefix)
    _check_segment("name", name)
    info = RESOURCES.get(resource)
    if info is not None and group in ("", info.group):
        group = info.group
        if info.namespaced and namespace is None:
            raise KeyFormatError(f"{resource} are namespaced: pass namespace=... to compose their key")
        if not info.namespaced and namespace is not None:
            raise KeyFormatError(f"{resource} are cluster-scoped: leave namespace out (got {namespace!r})")
    path = key_path(resource, group)
    if namespace is not None:
        _check_segment("namespace", namespace)
        return f"{pfx}/{path}/{namespace}/{name}"
    return f"{pfx}/{path}/{name}"
