"""What a recording must not keep: the data of Secrets outside the curriculum's own namespaces.

One rule for every place a Secret can appear — an API object, a list, a watch event, a
request body, a value stored in etcd: in a namespace named `k8slearn-*` (the notebooks' demo
Secrets) it is kept as it is, so replay shows what live showed; anywhere else `data` values
become base64("REDACTED"), `stringData` values "REDACTED", and the
`kubectl.kubernetes.io/last-applied-configuration` annotation (which would repeat them) goes.
An encrypted stored value outside those namespaces keeps its prefix (provider and key name) and
loses its ciphertext: notebook 05's demo keys are public, so its ciphertext could be read.
"""

from __future__ import annotations

import base64
import json

REDACTED = base64.b64encode(b"REDACTED").decode()
CURRICULUM_NAMESPACE = "k8slearn-"
ENCRYPTED_NOT_RECORDED = b"k8slearn: ciphertext not recorded (a Secret outside k8slearn-* namespaces)"


def _curriculum_object(obj: dict) -> bool:
    ns = (obj.get("metadata") or {}).get("namespace") or ""
    return isinstance(ns, str) and ns.startswith(CURRICULUM_NAMESPACE)


def redact_secret(obj: dict) -> dict:
    """One Secret object, in place (and returned): its data replaced unless it is the curriculum's."""
    if _curriculum_object(obj):
        return obj
    for field in ("data", "stringData"):
        if isinstance(obj.get(field), dict):
            obj[field] = {k: REDACTED if field == "data" else "REDACTED" for k in obj[field]}
    ann = (obj.get("metadata") or {}).get("annotations") or {}
    ann.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return obj


def _walk(obj, force: bool = False):
    if isinstance(obj, dict):
        if force or obj.get("kind") == "Secret":
            redact_secret(obj)
        if obj.get("kind") == "SecretList":  # a list's items carry no kind of their own
            for item in obj.get("items") or []:
                if isinstance(item, dict):
                    redact_secret(item)
        for v in obj.values():
            _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            _walk(v)
    return obj


def redact_body(body: bytes, *, secret: bool = False) -> bytes:
    """Every Secret in a JSON body (or a stream of JSON lines: a watch) redacted.

    `secret=True` treats the body itself as a Secret even without a `kind` (a request body
    sent to a .../secrets path outside the curriculum's namespaces).
    """
    if not body or (b"Secret" not in body and not secret):
        return body
    out = []
    for line in body.split(b"\n"):
        try:
            doc = json.loads(line)
        except ValueError:
            out.append(line)
            continue
        out.append(json.dumps(_walk(doc, force=secret), separators=(",", ":")).encode())
    return b"\n".join(out)


def curriculum_secret(key: str) -> bool:
    """A Secret the notebooks made themselves, in a `k8slearn-*` namespace (demo values, kept)."""
    parts = key.split("/")
    return (
        "secrets" in parts
        and parts.index("secrets") + 1 < len(parts)
        and parts[parts.index("secrets") + 1].startswith(CURRICULUM_NAMESPACE)
    )


def redact_stored_value(key: str, value: bytes) -> bytes:
    """A stored Secret outside the curriculum's namespaces with its data replaced by REDACTED.

    Re-encoded as it was stored (protobuf or JSON), so replay decodes it like any other value.
    An encrypted value keeps its prefix (which provider and key wrote it) and its ciphertext is
    replaced: the curriculum's encryption keys are public demo keys.
    """
    if "/secrets/" not in key or curriculum_secret(key):
        return value
    from k8slearn.storage import codec

    try:
        d = codec.decode(value)
        if d.encoding == "encrypted":
            return b":".join(value.split(b":", 5)[:5]) + b":" + ENCRYPTED_NOT_RECORDED
        obj = redact_secret(d.obj)
        media = {
            "protobuf": "application/vnd.kubernetes.protobuf",
            "json": "application/json",
            "yaml": "application/yaml",
        }[d.encoding]
        return codec.encode(obj, media)
    except Exception:
        return b"k8slearn: Secret value not recorded (could not be redacted)"
