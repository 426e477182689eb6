"""`k8slearn snapshot FILE ...`: read an etcd snapshot file, every revision it still holds."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from k8slearn.errors import K8sLearnError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``snapshot`` verb and its subcommands."""
    p = sub.add_parser(
        "snapshot",
        help="read an etcd snapshot file: keys at a revision, a key's history, analysis",
        description="Read an etcd snapshot file (what `etcdctl snapshot save` writes, or a member's "
        "member/snap/db) in pure Python: its SHA-256 trailer is checked, nothing is loaded whole.",
    )
    p.add_argument("file", help="the snapshot file")
    p.add_argument("--no-verify", action="store_true", help="do not check the SHA-256 trailer")
    verbs = p.add_subparsers(dest="snapshot_command", metavar="SUBCOMMAND", required=True)

    def out(q: argparse.ArgumentParser) -> None:
        q.add_argument("-o", "--output", choices=["text", "json"], default="text", help="text (default) or json")

    q = verbs.add_parser("info", help="revision, compaction, meta bucket and buckets")
    out(q)
    q = verbs.add_parser("keys", help="the keys live at a revision")
    q.add_argument("--revision", type=int, default=0, help="the revision (default: the latest)")
    q.add_argument("--prefix", default="", help="only keys starting with this")
    out(q)
    q = verbs.add_parser("history", help="every revision of a key still in the file")
    q.add_argument("key")
    out(q)
    q = verbs.add_parser("get", help="a key's value at a revision, decoded")
    q.add_argument("key")
    q.add_argument("--revision", type=int, default=0, help="the revision (default: the latest)")
    q.add_argument("--raw", action="store_true", help="write the stored bytes as they are")
    out(q)
    q = verbs.add_parser("analyze", help="objects and bytes per resource, largest objects, what compaction drops")
    q.add_argument("--prefix", default="/registry", help="kube-apiserver's etcd prefix (default /registry)")
    q.add_argument(
        "--compact-at", type=int, default=None, help="the compaction revision to weigh (default: the latest)"
    )
    q.add_argument("--top", type=int, default=10, help="how many of the largest objects to list")
    out(q)
    p.set_defaults(func=cmd_snapshot)


def _table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def cmd_snapshot(args: argparse.Namespace) -> int:
    """Dispatch to the subcommand."""
    from k8slearn.storage.snapshot import Snapshot

    with Snapshot(args.file, verify=not args.no_verify) as snap:
        return {"info": _info, "keys": _keys, "history": _history, "get": _get, "analyze": _analyze}[
            args.snapshot_command
        ](snap, args)


def _emit(args: argparse.Namespace, data: Any, text: str) -> int:
    if args.output == "json":
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(text + ("\n" if text else ""))
    return 0


def _info(snap, args) -> int:
    data = {
        "file": str(snap.path),
        "file_bytes": snap.file_size,
        "sha256": snap.checksum,
        "page_size": snap.db.page_size,
        "pages": snap.db.meta.high_water,
        "txid": snap.db.meta.txid,
        "revision": snap.revision,
        "compacted": snap.compacted,
        "keys": len(snap.key_names()),
        "meta": snap.meta,
        "buckets": snap.buckets(),
    }
    text = "\n".join(f"{k:<11} {v}" for k, v in data.items())
    return _emit(args, data, text)


def _keys(snap, args) -> int:
    rev = snap._check_revision(args.revision)
    kvs = snap.keys(revision=rev, prefix=args.prefix)
    data = {"revision": rev, "count": len(kvs), "keys": [kv.to_dict() for kv in kvs]}
    rows = [[kv.key, kv.mod_revision, kv.create_revision, kv.version, len(kv.value)] for kv in kvs]
    text = _table(rows, ["KEY", "MOD", "CREATE", "VERSION", "BYTES"]) + f"\n{len(kvs)} keys at revision {rev}"
    return _emit(args, data, text)


def _history(snap, args) -> int:
    hist = snap.history(args.key)
    if not hist:
        raise K8sLearnError(
            f"{args.key} has no revision in {snap.path.name}",
            hint=f"list the keys with `k8slearn snapshot {snap.path.name} keys --prefix ...`",
        )
    data = {"key": args.key, "revisions": [h.to_dict() for h in hist]}
    rows = [
        [h.mod_revision, h.sub_revision, h.create_revision or "", h.version or "", len(h.value), h.deleted or ""]
        for h in hist
    ]
    text = _table(rows, ["MOD", "SUB", "CREATE", "VERSION", "BYTES", "DELETED"])
    return _emit(args, data, text)


def _get(snap, args) -> int:
    from k8slearn.storage.codec import DecodeError, decode, to_json

    rev = snap._check_revision(args.revision)
    kv = snap.get(args.key, revision=rev)
    if kv is None:
        raise K8sLearnError(
            f"{args.key} did not exist at revision {rev} in {snap.path.name}",
            hint=f"`k8slearn snapshot {snap.path.name} history {args.key}` lists its revisions",
        )
    if args.raw:
        sys.stdout.buffer.write(kv.value)
        return 0
    try:
        d = decode(kv.value)
        shown: Any = d.obj if d.encoding != "encrypted" else {"encrypted": True, "provider": d.provider}
        encoding = d.encoding
    except DecodeError as e:
        shown, encoding = None, f"undecodable ({e})"
    data = dict(kv.to_dict(), revision=rev, encoding=encoding, object=json.loads(to_json(shown)))
    if args.output == "json":
        return _emit(args, data, "")
    head = f"# {kv.key} at revision {rev}: mod {kv.mod_revision}, create {kv.create_revision}, version {kv.version}"
    body = shown if isinstance(shown, str) else to_json(shown, indent=2)
    return _emit(args, data, f"{head} ({encoding})\n{body}")


def _analyze(snap, args) -> int:
    a = snap.analyze(prefix=args.prefix, compact_at=args.compact_at, top=args.top)
    rows = [
        [r, v["objects"], v["live_bytes"], v["revisions"], v["history_bytes"], v["drop_revisions"], v["drop_bytes"]]
        for r, v in a["resources"].items()
    ]
    c = a["compaction"]
    text = "\n".join(
        [
            f"{a['file']}: {a['file_bytes']} bytes, revision {a['revision']}, compacted at {a['compacted']}, "
            f"{a['entries']} entries for {a['keys']} keys",
            "",
            _table(rows, ["RESOURCE", "OBJECTS", "BYTES", "REVISIONS", "ALL_BYTES", "DROP_REVS", "DROP_BYTES"]),
            "",
            "largest objects:",
            _table([[x["key"], x["bytes"], x["mod_revision"]] for x in a["largest"]], ["KEY", "BYTES", "MOD"]),
            "",
            f"a compaction at revision {c['at']} would drop {c['drop_revisions']} of {a['entries']} entries "
            f"({c['drop_bytes']} bytes of values) and keep {c['keep_revisions']}",
        ]
    )
    return _emit(args, a, text)
