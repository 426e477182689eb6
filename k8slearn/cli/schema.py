"""`k8slearn schema`: fetch and list the protobuf schemas of Kubernetes releases."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``schema`` verb to the command's subparsers."""
    p = sub.add_parser(
        "schema",
        help="protobuf schemas of Kubernetes releases",
        description="The codec decodes with its built-in schema (the common types); `fetch` "
        "downloads and compiles a release's own generated.proto files for the "
        "built-in API groups, `list` shows the fetched ones.",
    )
    verbs = p.add_subparsers(dest="schema_command", metavar="ACTION", required=True)
    f = verbs.add_parser(
        "fetch",
        help="download and compile a release's generated.proto files",
        description="Download the generated.proto and types.go files of one Kubernetes release, "
        "compile them with protoc and keep the result in the k8slearn cache "
        "($K8SLEARN_CACHE, default ~/.cache/k8slearn) for --kubernetes-version.",
    )
    f.add_argument("--kubernetes-version", metavar="VERSION", required=True, help="release, e.g. 1.36.0")
    f.add_argument(
        "--base-url",
        metavar="URL",
        default=None,
        help="where the kubernetes/<repo> trees are served (default https://raw.githubusercontent.com)",
    )
    f.set_defaults(func=cmd_schema_fetch)
    ls = verbs.add_parser(
        "list",
        help="list the cached release schemas",
        description="Print the Kubernetes versions whose schema is fetched, oldest first.",
    )
    ls.set_defaults(func=cmd_schema_list)


def cmd_schema_fetch(args: argparse.Namespace) -> int:
    """``k8slearn schema fetch``: download and compile a release's protobuf schema."""
    from k8slearn.storage.codec import schema

    path = schema.fetch(args.kubernetes_version, base_url=args.base_url)
    s = schema.load(args.kubernetes_version)
    print(f"schema for Kubernetes {args.kubernetes_version}: {len(s.message_names())} messages in {path}")
    return 0


def cmd_schema_list(args: argparse.Namespace) -> int:
    """``k8slearn schema list``: the fetched schemas in the cache."""
    from k8slearn.storage.codec import schema

    versions = schema.cached_versions()
    if not versions:
        print(f"no fetched schemas in {schema.cache_dir() / 'schemas'} (the built-in schema is always available)")
    for v in versions:
        print(v)
    return 0
