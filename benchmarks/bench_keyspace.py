"""100,000 etcd keys into a DataFrame: time and memory, against the goals of issue #11.

Run:  .venv/bin/python benchmarks/bench_keyspace.py [--keys 100000]

A throw-away local etcd (k8slearn.cluster.localetcd) is filled with the recording's mix of
stored values: every value of data/recordings/<newest>/base.jsonl, in turn, under its own key
with a numbered name, until there are --keys keys. A fresh Python process then reads the
keyspace with `Etcd.dataframe()` (paged range reads) and reports its time, its peak resident
memory above what it held before the read, and the DataFrame's own size; a second fresh
process reads the same keys and decodes every value, keeping the objects, as a notebook that
looks at all of them would. Goals: the DataFrame in <= 5 s and <= 300 MB above the DataFrame
itself. Every figure is measured in this run; a missed goal is printed as missed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 5.0
GOAL_MB = 300.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # Linux: KiB


def recorded_mix() -> tuple[str, list[tuple[str, bytes]]]:
    from k8slearn.recording.layout import choose_recording

    rec = choose_recording()
    mix = []
    for line in (rec / "base.jsonl").read_text().splitlines():
        op = json.loads(line)
        if op.get("op") == "put" and op.get("b64") and op["key"].startswith("/registry/"):
            mix.append((op["key"], base64.b64decode(op["b64"])))
    return rec.name, mix


def fill(client, mix: list[tuple[str, bytes]], n: int) -> int:
    """Put n keys (the mix in turn, names numbered) in transactions of 100; total bytes."""
    total = 0
    batch = []
    for i in range(n):
        key, value = mix[i % len(mix)]
        batch.append(client.transactions.put(f"{key}-{i:06d}", value))
        total += len(value)
        if len(batch) == 100 or i == n - 1:
            client.transaction(compare=[], success=batch, failure=[])
            batch = []
    return total


def child(port: int, what: str) -> None:
    """Measured part, in a fresh process: prints one JSON line."""
    import gc

    import pandas  # noqa: F401  (imported before the baseline: it is not what we measure)
    import pyetcd

    from k8slearn.cluster import etcd as etcdmod
    from k8slearn.storage import codec

    codec.schema.default()  # compile/load the schema before the baseline
    client = pyetcd.client(host="127.0.0.1", port=port, timeout=60, grpc_options=etcdmod.GRPC_OPTIONS)
    e = etcdmod.Etcd(client)
    gc.collect()
    base = _rss_mb()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if what == "dataframe":
        df = e.dataframe()
        seconds = time.perf_counter() - t0
        out = {"rows": len(df), "df_mb": float(df.memory_usage(deep=True).sum()) / 1e6}
    else:
        kept = [codec.decode(kv.value).obj for kv in e.iter_range()]
        seconds = time.perf_counter() - t0
        out = {"rows": len(kept), "df_mb": 0.0}
    out.update(seconds=seconds, cpu_seconds=time.process_time() - cpu0, base_mb=base, peak_mb=_peak_mb())
    print(json.dumps(out))


def measure(port: int, what: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", what, "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the measured process failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--child", choices=["dataframe", "decode"], help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.port, args.child)
        return

    from k8slearn.cluster.localetcd import LocalEtcd, etcd_version

    name, mix = recorded_mix()
    with LocalEtcd(name="bench-keyspace") as server:
        t0 = time.perf_counter()
        total = fill(server.client(timeout=60), mix, args.keys)
        fill_s = time.perf_counter() - t0
        print(
            f"etcd {etcd_version(server.binary)} on loopback: {args.keys} keys, {total / 1e6:.1f} MB of values, "
            f"the mix of recording {name!r} ({len(mix)} distinct stored values), filled in {fill_s:.1f} s"
        )
        load = os.getloadavg()[0]
        df = measure(server.client_port, "dataframe")
        dec = measure(server.client_port, "decode")
    above = df["peak_mb"] - df["base_mb"] - df["df_mb"]
    t_ok = "within the goal" if df["seconds"] <= GOAL_SECONDS else "GOAL MISSED"
    m_ok = "within the goal" if above <= GOAL_MB else "GOAL MISSED"
    print(f"Etcd.dataframe(), {df['rows']} rows (paged reads, envelopes checked, objects not decoded):")
    print(f"  time                 {df['seconds']:6.2f} s   (goal <= {GOAL_SECONDS:.0f} s: {t_ok})")
    print(f"  CPU time of it       {df['cpu_seconds']:6.2f} s   (this process; etcd's own work not included)")
    print(f"  DataFrame itself     {df['df_mb']:6.1f} MB  (memory_usage(deep=True))")
    print(f"  peak above it        {above:6.1f} MB  (goal <= {GOAL_MB:.0f} MB: {m_ok}; peak RSS {df['peak_mb']:.0f} MB")
    print(f"                                  - RSS before the read {df['base_mb']:.0f} MB - the DataFrame)")
    print(f"every value decoded with codec.decode, objects kept ({dec['rows']} objects, no goal):")
    print(f"  time                 {dec['seconds']:6.2f} s   (CPU {dec['cpu_seconds']:.2f} s)")
    print(f"  peak above baseline  {dec['peak_mb'] - dec['base_mb']:6.1f} MB (the decoded objects included)")
    print(
        f"1-minute load average before / after measuring: {load:.1f} / {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs (wall times grow with it; CPU times much less)"
    )


if __name__ == "__main__":
    main()
