"""Encryption at rest: read the values kube-apiserver encrypted, with the keys of an EncryptionConfiguration.

Pure functions, no I/O (a KMS v2 plugin is reached through a callable the caller passes).
What kube-apiserver v1.37.2 writes, checked in its source (k8s.io/apiserver@v0.37.2):

- every encrypted value starts with a prefix naming the provider and the key
  (pkg/server/options/encryptionconfig/config.go: ``k8s:enc:aescbc:v1:``, ``k8s:enc:aesgcm:v1:``,
  ``k8s:enc:secretbox:v1:`` + key name + ``:``; ``k8s:enc:kms:v2:`` + plugin name + ``:``);
- aescbc: 16-byte random IV, then AES-CBC with PKCS#7 padding; no authenticated data
  (pkg/storage/value/encrypt/aes/aes.go, type cbc);
- aesgcm: 12-byte random nonce, then AES-GCM ciphertext with its 16-byte tag; the etcd key
  (``/registry/secrets/NS/NAME``) is the authenticated data (aes.go, type gcm;
  pkg/storage/etcd3/store.go, authenticatedDataString);
- secretbox: 24-byte random nonce, then NaCl secretbox (XSalsa20-Poly1305, 16-byte tag first);
  no authenticated data (pkg/storage/value/encrypt/secretbox/secretbox.go);
- kms v2: a protobuf ``EncryptedObject`` (pkg/storage/value/encrypt/envelope/kmsv2/v2/api.proto);
  with ``encryptedDEKSourceType = HKDF_SHA256_XNONCE_AES_GCM_SEED`` (the only kind v1.37.2 writes:
  ``GetKDF`` in config.go is locked on) the plugin decrypts ``encryptedDEKSource`` to a 32-byte
  seed, ``encryptedData`` is 32 random bytes of HKDF info, a 12-byte nonce, then AES-GCM with the
  etcd key as authenticated data, and the DEK is HKDF-Expand(SHA-256, seed, info) (32 bytes)
  (pkg/storage/value/encrypt/aes/aes_extended_nonce.go). ``AES_GCM_KEY`` (the DEK itself,
  no info) is read too.

The cryptography comes from ``cryptography`` (AES, HKDF) and ``PyNaCl`` (secretbox).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from k8slearn.errors import K8sLearnError

ENC_PREFIX = b"k8s:enc:"
PROVIDERS = ("identity", "aescbc", "aesgcm", "secretbox", "kms")
SOURCE = "k8s.io/apiserver@v0.37.2"

# KMS v2: EncryptedDEKSourceType (kmsv2/v2/api.proto)
AES_GCM_KEY = 0
HKDF_SHA256_XNONCE_AES_GCM_SEED = 1


class EncryptionError(K8sLearnError):
    """A value could not be decrypted: no key for it, a wrong key, or a bad configuration."""


# ------------------------------------------------------------------ the configuration


@dataclass(frozen=True)
class Key:
    name: str
    secret: bytes = field(repr=False)  # never shown


@dataclass(frozen=True)
class Provider:
    """One entry of `providers:`: its type, its keys (aescbc, aesgcm, secretbox), or a KMS plugin's name."""

    type: str
    keys: tuple[Key, ...] = ()
    name: str = ""  # kms: the plugin's name
    api_version: str = ""  # kms: v1 or v2
    endpoint: str = ""  # kms: unix:///path

    def prefixes(self) -> list[tuple[bytes, Key | None]]:
        """The prefixes this provider writes and reads, each with its key, in the configured order."""
        if self.type == "identity":
            return [(b"", None)]
        if self.type == "kms":
            return [(f"k8s:enc:kms:{self.api_version}:{self.name}:".encode(), None)]
        return [(f"k8s:enc:{self.type}:v1:{k.name}:".encode(), k) for k in self.keys]


@dataclass(frozen=True)
class Config:
    """The providers an EncryptionConfiguration gives one resource, in order: the first writes, all read."""

    resources: tuple[str, ...]
    providers: tuple[Provider, ...]

    @property
    def writer(self) -> str:
        """The prefix (or "identity") new writes get."""
        p = self.providers[0]
        return "identity" if p.type == "identity" else p.prefixes()[0][0].decode()


def _key(entry: Any, provider: str) -> Key:
    if not isinstance(entry, Mapping) or not entry.get("name") or not entry.get("secret"):
        raise EncryptionError(
            f"a {provider} key needs a name and a secret", "write keys as {name: key1, secret: BASE64}"
        )
    try:
        secret = base64.b64decode(str(entry["secret"]), validate=True)
    except ValueError:
        raise EncryptionError(
            f"the secret of {provider} key {entry['name']!r} is not base64",
            "make one with `head -c 32 /dev/urandom | base64`",
        ) from None
    sizes = (32,) if provider == "secretbox" else (16, 24, 32)
    if len(secret) not in sizes:
        raise EncryptionError(
            f"{provider} key {entry['name']!r} is {len(secret)} bytes; {provider} takes "
            + " or ".join(map(str, sizes))
            + " bytes",
            "make one with `head -c 32 /dev/urandom | base64`",
        )
    return Key(str(entry["name"]), secret)


def _provider(entry: Any) -> Provider:
    if not isinstance(entry, Mapping) or len(entry) != 1:
        raise EncryptionError(
            "each provider is a mapping with exactly one of " + ", ".join(PROVIDERS),
            "e.g. `- aescbc: {keys: [{name: key1, secret: BASE64}]}` or `- identity: {}`",
        )
    ((kind, body),) = entry.items()
    body = body or {}
    if kind == "identity":
        return Provider("identity")
    if kind in ("aescbc", "aesgcm", "secretbox"):
        keys = body.get("keys") or []
        if not keys:
            raise EncryptionError(f"the {kind} provider has no keys", "give it at least one {name, secret}")
        return Provider(kind, tuple(_key(k, kind) for k in keys))
    if kind == "kms":
        version = str(body.get("apiVersion") or "v1")
        if not body.get("name"):
            raise EncryptionError("a kms provider needs a name", "add `name: my-plugin`")
        return Provider("kms", name=str(body["name"]), api_version=version, endpoint=str(body.get("endpoint") or ""))
    raise EncryptionError(f"unknown provider {kind!r}", f"kube-apiserver knows {', '.join(PROVIDERS)}")


def parse_config(doc: Any, resource: str = "secrets") -> Config:
    """The providers `doc` (an EncryptionConfiguration: a dict or YAML text) gives `resource`.

    As kube-apiserver, the first `resources` entry naming the resource (or ``*.`` / ``*.*``) wins;
    a resource no entry names is stored as it is (identity).
    """
    import yaml

    if isinstance(doc, (str, bytes)):
        try:
            doc = yaml.safe_load(doc)
        except yaml.YAMLError as e:
            raise EncryptionError(f"the encryption configuration is not YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(doc, Mapping) or doc.get("kind") != "EncryptionConfiguration":
        raise EncryptionError(
            "not an EncryptionConfiguration (its kind must be EncryptionConfiguration)",
            "start the file with `apiVersion: apiserver.config.k8s.io/v1` and `kind: EncryptionConfiguration`",
        )
    group = resource.split(".", 1)[1] if "." in resource else ""
    for entry in doc.get("resources") or []:
        names = tuple(entry.get("resources") or [])
        if resource in names or "*.*" in names or (not group and "*." in names) or (group and f"*.{group}" in names):
            return Config(names, tuple(_provider(p) for p in entry.get("providers") or []))
    return Config((), (Provider("identity"),))


def all_configs(doc: Any) -> list[Config]:
    """Every `resources` entry of an EncryptionConfiguration, in order."""
    import yaml

    if isinstance(doc, (str, bytes)):
        doc = yaml.safe_load(doc)
    parse_config(doc)  # the same checks
    return [
        Config(tuple(e.get("resources") or []), tuple(_provider(p) for p in e.get("providers") or []))
        for e in doc.get("resources") or []
    ]


def resource_of(etcd_key: str | None) -> str:
    """The resource an etcd key belongs to (``/registry/secrets/NS/NAME`` -> ``secrets``); secrets without a key."""
    if not etcd_key:
        return "secrets"
    parts = [p for p in etcd_key.split("/") if p]
    return parts[1] if len(parts) > 1 else parts[0]


def decrypt_with_file_config(
    value: bytes, doc: Any, etcd_key: str | None, kms: Mapping[str, KMSDecrypt] | None = None
) -> Decrypted:
    """`decrypt` with the entry of `doc` for the key's resource; if that entry cannot read the
    value, every other entry is tried (a resource whose name the key does not tell exactly)."""
    first = parse_config(doc, resource_of(etcd_key))
    try:
        return decrypt(value, first, etcd_key, kms)
    except EncryptionError as error:
        for cfg in all_configs(doc):
            if cfg.providers == first.providers:
                continue
            try:
                return decrypt(value, cfg, etcd_key, kms)
            except EncryptionError:
                continue
        raise error from None


# ------------------------------------------------------------------ reading a stored value


@dataclass
class Part:
    """A byte range of a stored value and what it is."""

    start: int
    end: int
    label: str


@dataclass
class Encrypted:
    """What the prefix of an encrypted value says, and its byte layout."""

    provider: str  # aescbc, aesgcm, secretbox, kms
    version: str  # v1 (kms: v1 or v2)
    key_name: str  # the key's name (kms: the plugin's name)
    prefix: bytes
    parts: list[Part]
    kms: dict | None = None  # kms v2: the EncryptedObject's fields (keyID, encryptedDEKSource, ...)


def inspect(value: bytes) -> Encrypted:
    """The provider, key name and byte layout of an encrypted value (no key needed)."""
    if not value.startswith(ENC_PREFIX):
        raise EncryptionError(
            "this value is not encrypted (it does not start with k8s:enc:)", "decode it directly: `k8slearn decode`"
        )
    fields = value.split(b":", 5)
    if len(fields) < 6:
        raise EncryptionError("an encrypted value whose prefix is cut short (k8s:enc:PROVIDER:VERSION:NAME:)")
    provider, version, name = (f.decode("utf-8", "replace") for f in fields[2:5])
    prefix = b":".join(fields[:5]) + b":"
    n = len(prefix)
    parts = [Part(0, n, f"prefix k8s:enc:{provider}:{version}:{name}:")]
    body = len(value) - n
    kms = None
    if provider == "aescbc":
        parts += [
            Part(n, n + 16, "IV (16 random bytes)"),
            Part(n + 16, len(value), "AES-CBC ciphertext, PKCS#7 padded"),
        ]
    elif provider == "aesgcm":
        parts += [
            Part(n, n + 12, "nonce (12 random bytes)"),
            Part(n + 12, len(value) - 16, "AES-GCM ciphertext"),
            Part(len(value) - 16, len(value), "GCM tag (16 bytes)"),
        ]
    elif provider == "secretbox":
        parts += [
            Part(n, n + 24, "nonce (24 random bytes)"),
            Part(n + 24, n + 40, "Poly1305 tag (16 bytes)"),
            Part(n + 40, len(value), "XSalsa20 ciphertext"),
        ]
    elif provider == "kms" and version == "v2":
        kms = encrypted_object(value[n:])
        parts.append(Part(n, len(value), f"protobuf EncryptedObject ({body} bytes)"))
    else:
        parts.append(Part(n, len(value), "ciphertext"))
    return Encrypted(provider, version, name, prefix, parts, kms)


def encrypted_object(data: bytes) -> dict:
    """A KMS v2 EncryptedObject's fields, from its protobuf bytes."""
    from google.protobuf.message import DecodeError

    msg = messages()["EncryptedObject"]()
    try:
        msg.ParseFromString(data)
    except DecodeError:
        raise EncryptionError("the value after k8s:enc:kms:v2:NAME: is not a protobuf EncryptedObject") from None
    return {
        "encryptedData": bytes(msg.encryptedData),
        "keyID": msg.keyID,
        "encryptedDEKSource": bytes(msg.encryptedDEKSource),
        "annotations": dict(msg.annotations),
        "encryptedDEKSourceType": "HKDF_SHA256_XNONCE_AES_GCM_SEED"
        if msg.encryptedDEKSourceType == HKDF_SHA256_XNONCE_AES_GCM_SEED
        else "AES_GCM_KEY",
    }


# a KMS plugin's Decrypt: (ciphertext, key_id, annotations) -> plaintext
KMSDecrypt = Callable[[bytes, str, dict], bytes]


@dataclass
class Decrypted:
    plaintext: bytes
    provider: str  # the provider that read it (identity, aescbc, ...)
    key_name: str  # the key (kms: the plugin) that read it; "" for identity
    stale: bool  # kube-apiserver would rewrite it on the next update (not read by the first provider's first key)
    kms_key_id: str = ""  # kms: the KEK's key ID the value names


def _aescbc(key: bytes, body: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if len(body) < 16 or (len(body) - 16) % 16:
        raise EncryptionError("aescbc: the stored data is not an IV plus whole 16-byte blocks")
    dec = Cipher(algorithms.AES(key), modes.CBC(body[:16])).decryptor()
    out = dec.update(body[16:]) + dec.finalize()
    pad = out[-1] if out else 0
    if not 1 <= pad <= 16 or out[-pad:] != bytes([pad]) * pad:
        raise EncryptionError("aescbc: the padding is wrong (a wrong key, or bytes changed)")
    return out[:-pad]


def _aesgcm(key: bytes, body: bytes, aad: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(body) < 12 + 16:
        raise EncryptionError("aesgcm: the stored data is shorter than a nonce and a tag")
    try:
        return AESGCM(key).decrypt(body[:12], body[12:], aad)
    except InvalidTag:
        raise EncryptionError(
            "aesgcm: the tag does not match (a wrong key, changed bytes, or a value read under another etcd key)"
        ) from None


def _secretbox(key: bytes, body: bytes) -> bytes:
    from nacl.exceptions import CryptoError
    from nacl.secret import SecretBox

    if len(body) < 24 + 16:
        raise EncryptionError("secretbox: the stored data is shorter than a nonce and a tag")
    try:
        return SecretBox(key).decrypt(body[24:], body[:24])
    except CryptoError:
        raise EncryptionError("secretbox: the Poly1305 tag does not match (a wrong key, or bytes changed)") from None


def hkdf_dek(seed: bytes, info: bytes) -> bytes:
    """KMS v2's per-write DEK: HKDF-Expand(SHA-256, seed, info), 32 bytes (aes_extended_nonce.go)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

    return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(seed)


def _kmsv2(obj: dict, aad: bytes, decrypt_dek: KMSDecrypt) -> bytes:
    source = decrypt_dek(obj["encryptedDEKSource"], obj["keyID"], obj["annotations"])
    data = obj["encryptedData"]
    if obj["encryptedDEKSourceType"] == "HKDF_SHA256_XNONCE_AES_GCM_SEED":
        if len(data) < 32:
            raise EncryptionError("kms v2: encryptedData is shorter than its 32-byte HKDF info")
        return _aesgcm(hkdf_dek(source, data[:32]), data[32:], aad)
    return _aesgcm(source, data, aad)


def _read(
    provider: Provider,
    key: Key | None,
    body: bytes,
    value: bytes,
    etcd_key: str | None,
    kms: Mapping[str, KMSDecrypt],
    stale: bool,
) -> Decrypted:
    """One provider's (and key's) attempt at a value that has its prefix."""
    if provider.type == "identity":
        if value.startswith(ENC_PREFIX):
            raise EncryptionError("identity cannot read an encrypted value")
        return Decrypted(value, "identity", "", stale)
    if provider.type in ("aesgcm", "kms") and etcd_key is None:
        raise EncryptionError(
            f"{provider.type} binds each value to its etcd key: pass the key (--key /registry/secrets/NS/NAME)"
        )
    aad = (etcd_key or "").encode()
    if provider.type == "kms":
        if provider.api_version != "v2":
            raise EncryptionError("kms v1 is deprecated and off by default in v1.37 (feature gate KMSv1); read v2")
        plugin = kms.get(provider.name)
        if plugin is None:
            raise EncryptionError(f"no KMS plugin named {provider.name!r} was given to decrypt the DEK seed")
        obj = encrypted_object(body)
        return Decrypted(_kmsv2(obj, aad, plugin), "kms", provider.name, stale, obj["keyID"])
    assert key is not None
    if provider.type == "aescbc":
        plain = _aescbc(key.secret, body)
    elif provider.type == "aesgcm":
        plain = _aesgcm(key.secret, body, aad)
    else:
        plain = _secretbox(key.secret, body)
    return Decrypted(plain, provider.type, key.name, stale)


def decrypt(
    value: bytes,
    config: Config,
    etcd_key: str | None = None,
    kms: Mapping[str, KMSDecrypt] | None = None,
) -> Decrypted:
    """Read `value` as kube-apiserver would with `config`: try each provider whose prefix it has, in order.

    `etcd_key` (``/registry/secrets/NS/NAME``) is the authenticated data of aesgcm and kms v2;
    `kms` maps a KMS plugin's name to its Decrypt. EncryptionError says why nothing could read it.
    """
    errors: list[str] = []
    pairs = [(provider, prefix, key) for provider in config.providers for prefix, key in provider.prefixes()]
    for index, (provider, prefix, key) in enumerate(pairs):
        if value.startswith(prefix):
            try:
                return _read(provider, key, value[len(prefix) :], value, etcd_key, kms or {}, stale=index != 0)
            except EncryptionError as e:
                errors.append(str(e))
    if errors:
        raise EncryptionError(
            "could not decrypt: " + "; ".join(dict.fromkeys(errors)),
            "check the keys in the configuration, and that --key names the etcd key the value was read from",
        )
    named = inspect(value) if value.startswith(ENC_PREFIX) else None
    raise EncryptionError(
        f"no provider in the configuration reads this value ({named.prefix.decode() if named else 'not encrypted'})",
        "add the provider and key it names to the configuration's providers (order: the first writes, all read)",
    )


# ------------------------------------------------------------------ KMS v2 messages, from descriptors

_MESSAGES: dict[str, Any] = {}


def _file(name: str, package: str, messages: Iterable[tuple[str, list[tuple]]], enums=()) -> Any:
    """A FileDescriptorProto: messages as (name, [(field, number, type, label, type_name)])."""
    from google.protobuf import descriptor_pb2 as d

    f = d.FileDescriptorProto(name=name, package=package, syntax="proto3")
    for ename, values in enums:
        e = f.enum_type.add(name=ename)
        for vname, number in values:
            e.value.add(name=vname, number=number)
    for mname, fields in messages:
        m = f.message_type.add(name=mname)
        for fname, number, ftype, label, type_name in fields:
            fd = m.field.add(name=fname, number=number, type=ftype, label=label, json_name=fname)
            if type_name:
                fd.type_name = type_name
            if type_name.endswith("Entry"):  # map<string, bytes>
                entry = m.nested_type.add(name=type_name.rsplit(".", 1)[1])
                entry.options.map_entry = True
                entry.field.add(name="key", number=1, type=d.FieldDescriptorProto.TYPE_STRING, label=1)
                entry.field.add(name="value", number=2, type=d.FieldDescriptorProto.TYPE_BYTES, label=1)
    return f


def messages() -> dict[str, Any]:
    """Message classes of the KMS v2 API (k8s.io/kms@v0.37.2/apis/v2/api.proto, package ``v2``:
    service ``KeyManagementService``) and of the stored ``EncryptedObject``
    (k8s.io/apiserver@v0.37.2/pkg/storage/value/encrypt/envelope/kmsv2/v2/api.proto), re-expressed
    here as descriptors: names, field numbers and types as published."""
    if _MESSAGES:
        return _MESSAGES
    from google.protobuf import descriptor_pb2 as d
    from google.protobuf import descriptor_pool, message_factory

    S, B, E, M = (
        d.FieldDescriptorProto.TYPE_STRING,
        d.FieldDescriptorProto.TYPE_BYTES,
        d.FieldDescriptorProto.TYPE_ENUM,
        d.FieldDescriptorProto.TYPE_MESSAGE,
    )
    OPT, REP = d.FieldDescriptorProto.LABEL_OPTIONAL, d.FieldDescriptorProto.LABEL_REPEATED
    pool = descriptor_pool.DescriptorPool()
    service = _file(
        "k8slearn/kms/v2/service.proto",
        "v2",
        [
            ("StatusRequest", []),
            ("StatusResponse", [("version", 1, S, OPT, ""), ("healthz", 2, S, OPT, ""), ("key_id", 3, S, OPT, "")]),
            (
                "DecryptRequest",
                [
                    ("ciphertext", 1, B, OPT, ""),
                    ("uid", 2, S, OPT, ""),
                    ("key_id", 3, S, OPT, ""),
                    ("annotations", 4, M, REP, ".v2.DecryptRequest.AnnotationsEntry"),
                ],
            ),
            ("DecryptResponse", [("plaintext", 1, B, OPT, "")]),
            ("EncryptRequest", [("plaintext", 1, B, OPT, ""), ("uid", 2, S, OPT, "")]),
            (
                "EncryptResponse",
                [
                    ("ciphertext", 1, B, OPT, ""),
                    ("key_id", 2, S, OPT, ""),
                    ("annotations", 3, M, REP, ".v2.EncryptResponse.AnnotationsEntry"),
                ],
            ),
        ],
    )
    stored = _file(
        "k8slearn/kms/v2/stored.proto",
        "v2",
        [
            (
                "EncryptedObject",
                [
                    ("encryptedData", 1, B, OPT, ""),
                    ("keyID", 2, S, OPT, ""),
                    ("encryptedDEKSource", 3, B, OPT, ""),
                    ("annotations", 4, M, REP, ".v2.EncryptedObject.AnnotationsEntry"),
                    ("encryptedDEKSourceType", 5, E, OPT, ".v2.EncryptedDEKSourceType"),
                ],
            )
        ],
        enums=[("EncryptedDEKSourceType", [("AES_GCM_KEY", 0), ("HKDF_SHA256_XNONCE_AES_GCM_SEED", 1)])],
    )
    for f in (service, stored):
        pool.Add(f)
    for f in (service, stored):
        for m in f.message_type:
            _MESSAGES[m.name] = message_factory.GetMessageClass(pool.FindMessageTypeByName(f"v2.{m.name}"))
    return _MESSAGES


def encode_encrypted_object(obj: Mapping[str, Any]) -> bytes:
    """The protobuf bytes of an EncryptedObject (for tests and figures)."""
    msg = messages()["EncryptedObject"]()
    msg.encryptedData = obj["encryptedData"]
    msg.keyID = obj["keyID"]
    msg.encryptedDEKSource = obj["encryptedDEKSource"]
    for k, v in (obj.get("annotations") or {}).items():
        msg.annotations[k] = v
    msg.encryptedDEKSourceType = (
        AES_GCM_KEY if obj.get("encryptedDEKSourceType") == "AES_GCM_KEY" else HKDF_SHA256_XNONCE_AES_GCM_SEED
    )
    return msg.SerializeToString()
