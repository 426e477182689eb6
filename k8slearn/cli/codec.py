"""Command-line subcommands of the codec: decode, encode, schema fetch/list.

The project CLI calls :func:`register` with its argparse subparsers; every handler returns
an exit code and reports errors as one line on stderr. :func:`main` runs these subcommands
alone (used by the tests).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

MEDIA_CHOICES = ["application/vnd.kubernetes.protobuf", "application/json", "application/yaml"]


def _read_input(path: str | None) -> bytes:
    if path in (None, "-"):
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def _error(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 1


def _schema_for(version: str | None):
    from k8slearn.storage.codec import schema

    return schema.load(version) if version else None


def cmd_decode(args: argparse.Namespace) -> int:
    from k8slearn.storage.codec import DecodeError, SchemaError, annotate_envelope, decode, hexdump, to_json

    try:
        value = _read_input(args.file)
        schema = _schema_for(args.kubernetes_version)
        try:
            d = decode(value, schema=schema)
        except DecodeError:
            # `etcdctl get --print-value-only` prints the value followed by a newline that is
            # not part of it: a protobuf value only decodes without that byte
            if not value.endswith(b"\n"):
                raise
            value = value[:-1]
            d = decode(value, schema=schema)
    except (DecodeError, SchemaError) as e:
        return _error(str(e))
    except OSError as e:
        return _error(f"cannot read {args.file}: {e.strerror}")
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


def cmd_encode(args: argparse.Namespace) -> int:
    from k8slearn.storage.codec import DecodeError, EncodeError, SchemaError, decode, encode

    try:
        data = _read_input(args.file)
        d = decode(data)
        if not isinstance(d.obj, dict):
            return _error(f"the input is {d.encoding}, not a JSON or YAML object")
        value = encode(d.obj, args.media_type, schema=_schema_for(args.kubernetes_version))
    except (DecodeError, EncodeError, SchemaError) as e:
        return _error(str(e))
    except OSError as e:
        return _error(f"cannot read {args.file}: {e.strerror}")
    sys.stdout.buffer.write(value)
    sys.stdout.flush()
    return 0


def cmd_schema_fetch(args: argparse.Namespace) -> int:
    from k8slearn.storage.codec import SchemaError, schema

    try:
        path = schema.fetch(args.kubernetes_version, base_url=args.base_url)
        s = schema.load(args.kubernetes_version)
    except SchemaError as e:
        return _error(str(e))
    print(f"schema for Kubernetes {args.kubernetes_version}: {len(s.message_names())} messages in {path}")
    return 0


def cmd_schema_list(args: argparse.Namespace) -> int:
    from k8slearn.storage.codec import schema

    versions = schema.cached_versions()
    if not versions:
        print(f"no fetched schemas in {schema.cache_dir() / 'schemas'} (the built-in schema is always available)")
    for v in versions:
        print(v)
    return 0


def register(subparsers) -> None:
    """Add ``decode``, ``encode`` and ``schema`` to an argparse subparsers object."""
    p = subparsers.add_parser("decode", help="decode one value stored in etcd by kube-apiserver")
    p.add_argument("file", nargs="?", help="file holding the raw value (default: stdin)")
    p.add_argument("-o", "--output", choices=["json", "yaml", "raw"], default="json")
    p.add_argument("--kubernetes-version", help="use a fetched release schema instead of the built-in one")
    p.set_defaults(func=cmd_decode)

    p = subparsers.add_parser("encode", help="encode a JSON/YAML object the way kube-apiserver stores it")
    p.add_argument("file", nargs="?", help="JSON or YAML file (default: stdin)")
    p.add_argument("--media-type", choices=MEDIA_CHOICES, default=MEDIA_CHOICES[0])
    p.add_argument("--kubernetes-version", help="use a fetched release schema instead of the built-in one")
    p.set_defaults(func=cmd_encode)

    p = subparsers.add_parser("schema", help="protobuf schemas of Kubernetes releases")
    sub = p.add_subparsers(dest="schema_command", required=True)
    f = sub.add_parser("fetch", help="download and compile a release's generated.proto files")
    f.add_argument("--kubernetes-version", required=True, help="release, e.g. 1.36.0")
    f.add_argument("--base-url", default=None, help="default https://raw.githubusercontent.com")
    f.set_defaults(func=cmd_schema_fetch)
    ls = sub.add_parser("list", help="list the cached release schemas")
    ls.set_defaults(func=cmd_schema_list)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="k8slearn")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
