"""A KMS v2 plugin small enough to read: gRPC on a unix socket, one local key, a log of every call.

NOT FOR PRODUCTION. A real KMS plugin keeps its key-encryption key (KEK) in a key management
service or an HSM and never holds it in memory like this; this one exists so a learner can see
what kube-apiserver asks a plugin for (the `k8s.io/kms` v2 API: service
``v2.KeyManagementService`` with Status, Encrypt and Decrypt, k8s.io/kms@v0.37.2/apis/v2/api.proto).

- Status answers ``version: v2``, ``healthz: ok`` and the current ``key_id``; kube-apiserver asks
  at start and then every minute (``kmsv2PluginHealthzPositiveInterval``), and when the key ID
  changes it asks for a new DEK seed (k8s.io/apiserver@v0.37.2/pkg/server/options/encryptionconfig/
  config.go, ``rotateDEKOnKeyIDChange``).
- Encrypt wraps what kube-apiserver sends (the 32-byte seed every write's DEK is derived from) with
  AES-GCM under the current KEK: 12-byte nonce + ciphertext + tag, the key ID as authenticated data.
- Decrypt unwraps it with the KEK the request's ``key_id`` names (old KEKs stay for reading).

The log holds no key material: call, key ID, byte counts, the request's uid.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from k8slearn.errors import K8sLearnError

SERVICE = "v2.KeyManagementService"


class KMSPluginError(K8sLearnError):
    """The KMS plugin could not start, or was asked for a key it does not have."""


class KMSPlugin:
    """The plugin: `start()` serves on `socket`, `rotate()` changes the KEK, `calls` is the log."""

    def __init__(self, name: str, socket: str | Path, keks: Mapping[str, bytes], current: str | None = None):
        if not keks:
            raise KMSPluginError("a KMS plugin needs at least one KEK", "give keks={'kek-1': 32 random bytes}")
        for key_id, kek in keks.items():
            if len(kek) != 32:
                raise KMSPluginError(f"KEK {key_id!r} is {len(kek)} bytes; AES-256 takes 32")
        self.name = name
        self.socket = Path(socket)
        self._keks = dict(keks)
        self.key_id = current or next(iter(keks))
        self.calls: list[dict] = []
        self._lock = threading.Lock()
        self._server = None
        self._t0 = time.monotonic()

    # ---------------------------------------------------------------- keys
    def rotate(self, key_id: str, kek: bytes) -> None:
        """Make `kek` (under `key_id`) the key new seeds are wrapped with; old KEKs still decrypt."""
        if len(kek) != 32:
            raise KMSPluginError(f"KEK {key_id!r} is {len(kek)} bytes; AES-256 takes 32")
        with self._lock:
            self._keks[key_id] = kek
            self.key_id = key_id

    def wrap(self, plaintext: bytes) -> tuple[bytes, str]:
        """Encrypt `plaintext` under the current KEK: (nonce + ciphertext + tag, key ID)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key_id = self.key_id
        nonce = os.urandom(12)
        return nonce + AESGCM(self._keks[key_id]).encrypt(nonce, plaintext, key_id.encode()), key_id

    def unwrap(self, ciphertext: bytes, key_id: str, annotations: Mapping | None = None) -> bytes:
        """Decrypt what `wrap` returned, with the KEK `key_id` names (the `KMSDecrypt` signature)."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kek = self._keks.get(key_id)
        if kek is None:
            raise KMSPluginError(f"the KMS plugin {self.name!r} has no KEK {key_id!r}")
        try:
            return AESGCM(kek).decrypt(ciphertext[:12], ciphertext[12:], key_id.encode())
        except InvalidTag:
            raise KMSPluginError(f"KEK {key_id!r} does not open this DEK seed (changed bytes?)") from None

    # ---------------------------------------------------------------- the gRPC service
    def _log(self, call: str, **fields) -> None:
        with self._lock:
            self.calls.append({"n": len(self.calls) + 1, "call": call, **fields})

    def _status(self, request, context):
        m = _m()
        self._log("Status", key_id=self.key_id)
        return m["StatusResponse"](version="v2", healthz="ok", key_id=self.key_id)

    def _encrypt(self, request, context):
        m = _m()
        ciphertext, key_id = self.wrap(bytes(request.plaintext))
        self._log("Encrypt", uid=request.uid, plaintext_bytes=len(request.plaintext), key_id=key_id)
        return m["EncryptResponse"](ciphertext=ciphertext, key_id=key_id)

    def _decrypt(self, request, context):
        import grpc

        m = _m()
        self._log("Decrypt", uid=request.uid, ciphertext_bytes=len(request.ciphertext), key_id=request.key_id)
        try:
            plaintext = self.unwrap(bytes(request.ciphertext), request.key_id)
        except KMSPluginError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        return m["DecryptResponse"](plaintext=plaintext)

    def start(self) -> KMSPlugin:
        """Serve on the unix socket (in this process's threads) until `stop()`."""
        from concurrent import futures

        import grpc

        m = _m()
        self.socket.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        handlers = {
            name: grpc.unary_unary_rpc_method_handler(
                fn, request_deserializer=m[req].FromString, response_serializer=lambda r: r.SerializeToString()
            )
            for name, fn, req in (
                ("Status", self._status, "StatusRequest"),
                ("Encrypt", self._encrypt, "EncryptRequest"),
                ("Decrypt", self._decrypt, "DecryptRequest"),
            )
        }
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        if not server.add_insecure_port(f"unix://{self.socket}"):
            raise KMSPluginError(f"the KMS plugin could not listen on {self.socket}", "is the path too long (>107)?")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving and remove the socket."""
        if self._server is not None:
            self._server.stop(grace=1).wait(5)
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()

    @property
    def endpoint(self) -> str:
        """What an EncryptionConfiguration's kms entry names: ``unix:///path``."""
        return f"unix://{self.socket}"


def _m() -> dict:
    from k8slearn.storage.encryption import messages

    return messages()


def client_decrypt(endpoint: str, timeout: float = 5.0) -> Callable[[bytes, str, dict], bytes]:
    """A `KMSDecrypt` that asks the plugin at `endpoint` (``unix:///path``), as kube-apiserver does."""
    import grpc

    m = _m()

    def decrypt(ciphertext: bytes, key_id: str, annotations: dict) -> bytes:
        with grpc.insecure_channel(endpoint) as channel:
            call = channel.unary_unary(
                f"/{SERVICE}/Decrypt",
                request_serializer=lambda r: r.SerializeToString(),
                response_deserializer=m["DecryptResponse"].FromString,
            )
            req = m["DecryptRequest"](ciphertext=ciphertext, uid="k8slearn-decode", key_id=key_id)
            for k, v in (annotations or {}).items():
                req.annotations[k] = v
            try:
                return bytes(call(req, timeout=timeout).plaintext)
            except grpc.RpcError as e:
                raise KMSPluginError(
                    f"the KMS plugin at {endpoint} did not decrypt the DEK seed: {e.code().name} {e.details()}",
                    "is the plugin running (it runs with the notebook or the Lab that started it)?",
                ) from None

    return decrypt
