"""`k8slearn decode`: show one value kube-apiserver stored in etcd as JSON, YAML or annotated bytes."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from k8slearn.errors import K8sLearnError

if TYPE_CHECKING:
    from k8slearn.storage.codec.schema import Schema


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``decode`` verb to the command's subparsers."""
    p = sub.add_parser(
        "decode",
        help="decode one value stored in etcd by kube-apiserver",
        description="Decode one value kube-apiserver stored in etcd (protobuf, JSON, YAML, CBOR, "
        "text; encrypted values are recognised, and decrypted with --encryption-config) and print the object. "
        "Reads a file, or stdin, e.g. from `etcdctl get KEY --print-value-only`.",
    )
    p.add_argument("file", nargs="?", help="file holding the raw value (default: stdin)")
    p.add_argument(
        "-o",
        "--output",
        choices=["json", "yaml", "raw"],
        default="json",
        help="json (default) or yaml: the object; raw: a hex dump with the envelope's byte ranges, "
        "then the field-number tree of an unknown protobuf type",
    )
    p.add_argument(
        "--kubernetes-version",
        metavar="VERSION",
        help="use this fetched release schema (k8slearn schema fetch); default: the newest fetched one, "
        "else the built-in one",
    )
    p.add_argument(
        "--encryption-config",
        metavar="CONFIG",
        help="an EncryptionConfiguration (kube-apiserver's --encryption-provider-config): decrypt first, "
        "then decode (kms v2: asks the plugin at the configured endpoint)",
    )
    p.add_argument(
        "--key",
        metavar="ETCD_KEY",
        help="the etcd key the value was read from, e.g. /registry/secrets/NS/NAME (aesgcm and kms authenticate it)",
    )
    p.add_argument(
        "--max-bytes",
        type=int,
        metavar="N",
        default=None,
        help="refuse larger values (default 1572864, etcd's default --max-request-bytes)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="say on stderr which schema decoded the value")
    p.set_defaults(func=cmd_decode)


def read_input(path: str | None, max_bytes: int | None = None) -> bytes:
    """The bytes of ``path``, or of stdin for None or "-"; K8sLearnError when there are more
    than ``max_bytes`` (+1 for the newline etcdctl prints), read no further than that."""
    from k8slearn.storage.codec.detect import MAX_VALUE_BYTES

    limit = MAX_VALUE_BYTES if max_bytes is None else max_bytes
    try:
        if path in (None, "-"):
            data = sys.stdin.buffer.read(limit + 2)
        else:
            with open(path, "rb") as f:
                data = f.read(limit + 2)
    except OSError as e:
        raise K8sLearnError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > limit + 1:
        raise K8sLearnError(
            f"{path if path not in (None, '-') else 'the input'} is larger than etcd can hold "
            f"({limit} bytes, etcd's default --max-request-bytes); for an etcd started with a "
            "larger limit, pass --max-bytes N"
        )
    return data


def schema_for(version: str | None) -> Schema:
    """The fetched schema of ``version``; without a version the default one (the newest
    fetched schema, else the built-in one)."""
    from k8slearn.storage.codec import schema

    return schema.load(version) if version else schema.default()


def cmd_decode(args: argparse.Namespace) -> int:
    """``k8slearn decode``: print one stored value decoded."""
    from k8slearn.storage.codec import DecodeError, annotate_envelope, decode, hexdump, to_json
    from k8slearn.storage.codec.detect import MAX_VALUE_BYTES

    if args.max_bytes is not None and args.max_bytes < 1:
        raise K8sLearnError(f"--max-bytes must be a positive number of bytes, not {args.max_bytes}")
    value = read_input(args.file, args.max_bytes)
    if getattr(args, "encryption_config", None):
        from k8slearn.cli.decrypt import decrypt_input

        value = decrypt_input(value, args.encryption_config, args.key)
    schema = schema_for(args.kubernetes_version)
    limit = (args.max_bytes or MAX_VALUE_BYTES) + 1  # read_input allowed etcdctl's newline
    try:
        d = decode(value, schema=schema, max_bytes=limit)
    except DecodeError:
        # `etcdctl get --print-value-only` prints the value followed by a newline that is
        # not part of it: a protobuf value only decodes without that byte
        if not value.endswith(b"\n"):
            raise
        value = value[:-1]
        d = decode(value, schema=schema, max_bytes=limit)
    if args.verbose:
        print(f"k8slearn: decoded with schema {schema.name}", file=sys.stderr)
    out = sys.stdout
    if args.output == "raw":
        ranges = annotate_envelope(value) if d.encoding == "protobuf" else None
        out.write(hexdump(value, ranges) + "\n")
        if d.raw_tree is not None:
            out.write(json.dumps(d.raw_tree, indent=2, ensure_ascii=False) + "\n")
        return 0
    if d.encoding == "encrypted":
        shown = {"encrypted": True, "provider": d.provider, "keyName": d.key_name, "size": d.size}
    elif d.encoding == "text":
        out.write(d.obj + ("" if d.obj.endswith("\n") else "\n"))
        return 0
    else:
        shown = d.obj
        if d.raw_tree is not None:
            shown = dict(d.obj, **{"x-k8slearn-raw-tree": d.raw_tree})
    if args.output == "yaml":
        import yaml

        shown = json.loads(to_json(shown))  # strings that were invalid UTF-8 become text, as in Go
        out.write(yaml.safe_dump(shown, default_flow_style=False, sort_keys=False, allow_unicode=True))
    else:
        out.write(to_json(shown, indent=2) + "\n")
    return 0
