"""`k8slearn encode`: write a JSON/YAML object as the bytes kube-apiserver would store."""

from __future__ import annotations

import argparse
import sys

from k8slearn.cli.decode import read_input, schema_for

MEDIA_TYPES = ["application/vnd.kubernetes.protobuf", "application/json", "application/yaml"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``encode`` verb to the command's subparsers."""
    p = sub.add_parser(
        "encode",
        help="encode a JSON/YAML object the way kube-apiserver stores it",
        description="Read one JSON or YAML object (with apiVersion and kind) and write to stdout "
        "the exact bytes kube-apiserver stores in etcd for it in the given media type.",
    )
    p.add_argument("file", nargs="?", help="JSON or YAML file (default: stdin)")
    p.add_argument(
        "--media-type",
        choices=MEDIA_TYPES,
        default=MEDIA_TYPES[0],
        help="kube-apiserver's --storage-media-type (default: protobuf)",
    )
    p.add_argument(
        "--kubernetes-version",
        metavar="VERSION",
        help="use this fetched release schema (k8slearn schema fetch); default: the newest fetched one, "
        "else the built-in one",
    )
    p.add_argument(
        "--max-bytes",
        type=int,
        metavar="N",
        default=None,
        help="refuse larger input (default 1572864, etcd's default --max-request-bytes)",
    )
    p.set_defaults(func=cmd_encode)


def cmd_encode(args: argparse.Namespace) -> int:
    """``k8slearn encode``: write the bytes kube-apiserver would store for an object."""
    from k8slearn.storage.codec import EncodeError, encode
    from k8slearn.storage.codec.detect import MAX_VALUE_BYTES, parse_object

    if args.max_bytes is not None and args.max_bytes < 1:
        raise EncodeError(f"--max-bytes must be a positive number of bytes, not {args.max_bytes}")
    _, obj = parse_object(read_input(args.file, args.max_bytes), max_bytes=(args.max_bytes or MAX_VALUE_BYTES) + 1)
    value = encode(obj, args.media_type, schema=schema_for(args.kubernetes_version))
    sys.stdout.buffer.write(value)
    sys.stdout.flush()
    return 0
