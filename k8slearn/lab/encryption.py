"""Encryption at rest for a notebook: restart kube-apiserver with an EncryptionConfiguration,
run a KMS v2 plugin beside it, rewrite Secrets, and put everything back at the end.

Used through the Lab (`lab.use_encryption(doc)`, `lab.kms_plugin(...)`, `lab.rewrite_secrets()`),
the same in every mode: in replay the restarts are skipped (what the restarted apiserver wrote is
in the recording) and the plugin's log is read back from it.

Leaving the cluster as found takes two steps, in this order (done by `use_encryption(None)`, and
at `lab.close()` if the notebook did not): restart with `identity` first and every key used so
far behind it, rewrite every Secret (each is now stale, so kube-apiserver writes it in plain
protobuf again), then restart with the options found. Without the rewrite the values encrypted
with the notebook's keys would be unreadable to the apiserver that follows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from k8slearn.errors import K8sLearnError

if TYPE_CHECKING:
    from k8slearn.cluster.kmsplugin import KMSPlugin
    from k8slearn.lab import Lab

API_VERSION = "apiserver.config.k8s.io/v1"


def config(*providers: dict, resources: tuple[str, ...] = ("secrets",)) -> dict:
    """An EncryptionConfiguration giving `resources` these providers, in order (the first writes)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "EncryptionConfiguration",
        "resources": [{"resources": list(resources), "providers": list(providers)}],
    }


def _state_dir() -> Path:
    from k8slearn.cluster import local

    return Path(local.require_state()["dir"])


def _unwind_config(docs: list[dict]) -> dict:
    """identity first, then every provider (and key) the notebook used, so all of it reads."""
    merged: dict[str, dict] = {}
    for doc in docs:
        for entry in doc.get("resources") or []:
            for p in entry.get("providers") or []:
                ((kind, body),) = p.items()
                if kind == "identity":
                    continue
                if kind == "kms":
                    merged.setdefault(f"kms/{body['name']}", {"kms": body})
                    continue
                slot = merged.setdefault(kind, {kind: {"keys": []}})
                names = {k["name"] for k in slot[kind]["keys"]}
                slot[kind]["keys"] += [k for k in body.get("keys") or [] if k["name"] not in names]
    return config({"identity": {}}, *merged.values())


def use_encryption(lab: Lab, doc: dict | None) -> None:
    """Restart kube-apiserver with EncryptionConfiguration `doc`; None: decrypt everything and
    restore the options the Lab found (see the module docstring)."""
    used: list[dict] = lab.__dict__.setdefault("_encryption_configs", [])
    if doc is None:
        if not used:
            return
        _restart(lab, _unwind_config(used))
        rewrite_secrets(lab)
        if lab.mode != "replay":
            found = lab.__dict__.get("_apiserver_options_found") or {}
            lab.restart_apiserver(encryption_config=found.get("encryption_config"))
        used.clear()
        return
    check_readable(lab, doc)
    _restart(lab, doc)
    if len(used) == 0 and not lab.__dict__.get("_encryption_unwind"):
        # registered after restart_apiserver's own restore, so it runs before it at close
        lab.__dict__["_encryption_unwind"] = True
        lab.on_close(lambda: use_encryption(lab, None))
    used.append(doc)


def check_readable(lab: Lab, doc: dict) -> None:
    """Refuse (EncryptionError) a configuration that cannot read every Secret now in etcd: kube-apiserver
    would start, fail to list Secrets, and never become ready."""
    from k8slearn.storage import encryption as enc

    cfg = enc.parse_config(doc)
    kms = {name: p.decrypt for name, p in lab.__dict__.get("_kms_plugins", {}).items()}
    unreadable = []
    for kv in lab.etcd.range(f"{lab.etcd.prefix}/secrets/") if lab.etcd is not None else []:
        try:
            enc.decrypt(kv.value, cfg, kv.key, kms)
        except enc.EncryptionError:
            named = kv.value.split(b":", 5)
            unreadable.append((kv.key, b":".join(named[:5]).decode("utf-8", "replace") + ":"))
    if unreadable:
        key, prefix = unreadable[0]
        raise enc.EncryptionError(
            f"this configuration cannot read {len(unreadable)} Secret(s) now in etcd (e.g. {key}, written "
            f"with {prefix}); kube-apiserver would never become ready",
            "keep that provider and key among the providers until every Secret is rewritten with the new one",
        )


def _restart(lab: Lab, doc: dict) -> None:
    if lab.mode == "replay":
        return
    text = yaml.safe_dump(doc, sort_keys=False)
    folder = _state_dir() / "encryption"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"config-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yaml"
    path.write_text(text)
    path.chmod(0o600)
    lab.restart_apiserver(encryption_config=str(path))


def rewrite_secrets(lab: Lab, namespace: str | None = None) -> list[dict]:
    """A no-op update of every Secret (of `namespace`, or all): kube-apiserver rewrites a value
    only if it is stale (not written by the first provider's first key), so this re-encrypts
    exactly those. Returns [{namespace, name, before, after}] with the resourceVersions."""
    from kubernetes import client

    v1 = client.CoreV1Api(lab.api)
    listed = v1.list_namespaced_secret(namespace) if namespace else v1.list_secret_for_all_namespaces()
    out = []
    for s in listed.items:
        meta: Any = s.metadata
        after: Any = v1.replace_namespaced_secret(meta.name, meta.namespace, s)
        out.append(
            {
                "namespace": meta.namespace,
                "name": meta.name,
                "before": int(meta.resource_version),
                "after": int(after.metadata.resource_version),
            }
        )
    return out


class LabKMSPlugin:
    """The notebook's KMS v2 plugin: real in live and record mode, its log read back in replay."""

    def __init__(self, lab: Lab, name: str, keks: dict[str, bytes]):
        from k8slearn.cluster.kmsplugin import KMSPlugin

        self._lab = lab
        self.name = name
        socket = (_state_dir() / "kms" / f"{name}.sock") if lab.mode != "replay" else Path("/nonexistent.sock")
        self.plugin: KMSPlugin = KMSPlugin(name, socket, keks)
        if lab.mode != "replay":
            self.plugin.start()
            lab._resources.callback(self.plugin.stop)  # after every on_close step, so restores still reach it

    @property
    def endpoint(self) -> str:
        return self.plugin.endpoint if self._lab.mode != "replay" else "unix:///var/run/k8slearn-kms.sock"

    @property
    def key_id(self) -> str:
        return self.plugin.key_id

    def provider(self, timeout: str = "5s") -> dict:
        """This plugin as an EncryptionConfiguration provider entry (kms, apiVersion v2)."""
        return {"kms": {"apiVersion": "v2", "name": self.name, "endpoint": self.endpoint, "timeout": timeout}}

    def rotate(self, key_id: str, kek: bytes) -> None:
        """A new KEK: kube-apiserver asks for a new DEK seed once Status reports the new key ID."""
        self.plugin.rotate(key_id, kek)

    def decrypt(self, ciphertext: bytes, key_id: str, annotations: dict | None = None) -> bytes:
        """Unwrap a DEK seed with the plugin's own KEK (the notebook's demo keys, in every mode)."""
        return self.plugin.unwrap(ciphertext, key_id, annotations)

    def calls(self) -> list[dict]:
        """Every call kube-apiserver made so far (in replay: what the recording saw at this point)."""
        return self._lab.remember(f"kms-calls:{self.name}", lambda: [dict(c) for c in self.plugin.calls])


def kms_plugin(lab: Lab, name: str, keks: dict[str, Any]) -> LabKMSPlugin:
    if lab.mode != "replay" and (lab.runtime is None or lab.runtime.name != "local"):
        raise K8sLearnError(
            "the notebook's KMS plugin runs beside the local control plane only",
            "use `k8slearn cluster up --runtime local`, or mode='replay'",
        )
    plugin = LabKMSPlugin(lab, name, {k: bytes(v) for k, v in keks.items()})
    lab.__dict__.setdefault("_kms_plugins", {})[name] = plugin
    return plugin
