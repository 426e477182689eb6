"""The storage codec: the values kube-apiserver writes to etcd, decoded and encoded.

    >>> from k8slearn.storage import codec
    >>> d = codec.decode(value)            # protobuf / json / yaml / cbor / text / encrypted
    >>> d.kind, d.obj["metadata"]["name"]
    >>> codec.encode(d.obj) == value       # protobuf bytes exactly as Kubernetes writes them
    >>> print(codec.hexdump(value, codec.annotate_envelope(value)))

``schema`` arguments take a :class:`codec.schema.Schema`, e.g. ``codec.schema.load("1.36.0")``
after ``k8slearn schema fetch --kubernetes-version 1.36.0``; without one, ``codec.schema.default()``
decides: the release a notebook's cluster runs when fetched, else the newest fetched, else the
built-in schema. Values larger than etcd's default request limit are refused (``max_bytes``).
See docs/codec.md.
"""

from k8slearn.storage.codec import schema
from k8slearn.storage.codec.detect import Decoded, decode, encode, to_json
from k8slearn.storage.codec.envelope import annotate_envelope, hexdump
from k8slearn.storage.codec.errors import DecodeError, EncodeError, SchemaError

__all__ = [
    "to_json",
    "Decoded",
    "DecodeError",
    "EncodeError",
    "SchemaError",
    "annotate_envelope",
    "decode",
    "encode",
    "hexdump",
    "schema",
]
