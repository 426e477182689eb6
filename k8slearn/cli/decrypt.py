"""`k8slearn decode --encryption-config`: decrypt a stored value before it is decoded.

Not a verb of its own: `decode` calls it. The pure part is k8slearn.storage.encryption; this
module reads the configuration file and reaches KMS v2 plugins over their unix sockets.
"""

from __future__ import annotations

from k8slearn.errors import K8sLearnError


def decrypt_input(value: bytes, config_path: str, etcd_key: str | None) -> bytes:
    """The plaintext of `value` under the EncryptionConfiguration at `config_path`."""
    from k8slearn.cluster.kmsplugin import client_decrypt
    from k8slearn.storage import encryption as enc

    try:
        with open(config_path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise K8sLearnError(f"cannot read {config_path}: {e.strerror}") from None
    kms = {
        p.name: client_decrypt(p.endpoint)
        for cfg in enc.all_configs(text)
        for p in cfg.providers
        if p.type == "kms" and p.endpoint
    }
    try:
        return enc.decrypt_with_file_config(value, text, etcd_key, kms).plaintext
    except enc.EncryptionError:
        # `etcdctl get --print-value-only` adds a newline that is not part of the value
        if not value.endswith(b"\n"):
            raise
        return enc.decrypt_with_file_config(value[:-1], text, etcd_key, kms).plaintext
