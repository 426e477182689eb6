"""ListWatch against watchList on the local control plane: time to synced, bytes, memory, against N.

    python benchmarks/bench_watchlist.py [--n 1000 5000 20000] [--informers 1 8 32] [--size 1024]
                                         [--out data/benchmarks/watchlist-local-v1.37.2.json]

Starts a control plane of its own (temporary state folder and kubeconfig; `--use-running` takes
the one K8SLEARN_STATE_DIR/KUBECONFIG point at instead), creates N ConfigMaps of `--size` bytes
of data in `k8slearn-bench-watchlist` (k8slearn.informer.bulk, deleted at the end), and for
each strategy and each number K of informers starting together runs one measurement in a
child process (`python -m k8slearn.informer.measure`: K informer threads, each with its own
connection), while this process samples kube-apiserver: the RSS of its process (/proc, every
50 ms) and its Go heap (`go_memstats_heap_alloc_bytes` from /metrics, every 0.5 s).

Printed per run: seconds to synced (median and slowest of the K informers), bytes received
per informer, the client process's peak RSS, kube-apiserver's RSS and heap before and at peak.
`--out` writes the same figures with provenance (command, machine, load average, versions,
date). Figures only, nothing asserted about speed; the machine's other load is recorded
because it changes them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "k8slearn-bench-watchlist"
MiB = 2**20


def machine() -> dict:
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_bytes": mem,
        "python": platform.python_version(),
    }


def run_one(path: str, strategy: str, count: int, api, pid, watch_timeout: int) -> dict:
    from k8slearn.informer.measure import ApiserverSampler

    time.sleep(2.0)  # let the apiserver settle after the previous run
    load = os.getloadavg()
    with ApiserverSampler(api, pid) as sampler:
        proc = subprocess.run(
            [sys.executable, "-m", "k8slearn.informer.measure", path, strategy, str(count), str(watch_timeout)],
            capture_output=True,
            text=True,
            timeout=2400,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"measurement failed: {proc.stderr.strip().splitlines()[-1:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["apiserver"] = sampler.result()
    out["load_average_before"] = [round(x, 2) for x in load]
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out["command"] = "python benchmarks/bench_watchlist.py " + " ".join(sys.argv[1:])
    out["finished"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def show(n: int, r: dict) -> None:
    a = r["apiserver"]
    secs = r["seconds_to_synced"]

    def mib(x):
        return f"{x / MiB:7.0f}" if x else "      ?"

    print(
        f"N={n:>6} {r['strategy']:<9} K={r['informers']:>2}  synced median {statistics.median(secs):6.2f} s"
        f" slowest {max(secs):6.2f} s  bytes/informer {statistics.median(r['bytes_received']) / MiB:6.1f} MiB"
        f"  client peak {mib(r['client_peak_rss'])} MiB  apiserver RSS {mib(a['rss_before'])} →{mib(a['rss_peak'])}"
        f" MiB  heap {mib(a['heap_before'])} →{mib(a['heap_peak'])} MiB  load {r['load_average_before'][0]:.1f}",
        flush=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument("--informers", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--size", type=int, default=1024, help="bytes of data per ConfigMap")
    ap.add_argument("--out", type=Path, help="write the figures and their provenance to this JSON file")
    ap.add_argument("--use-running", action="store_true", help="use the running control plane")
    ap.add_argument("--strategies", nargs="+", default=None, help="listwatch, watchlist (default both)")
    ap.add_argument("--watch-timeout", type=int, default=300, help="each watch's timeoutSeconds (client-go: 300-600)")
    ap.add_argument("--append", action="store_true", help="add the runs to the --out file instead of replacing it")
    args = ap.parse_args()
    from own_control_plane import own_control_plane

    if args.use_running:
        os.environ.pop("K8SLEARN_ALLOW_CONTEXT", None)
        plane = contextlib.nullcontext(None)
    else:
        plane = own_control_plane("bench_watchlist")
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"machine: {machine()}", flush=True)
    results: list[dict] = []
    earlier: dict | None = None
    if args.append and args.out and args.out.is_file():
        earlier = json.loads(args.out.read_text())
    with plane as own:
        from k8slearn.cluster import binaries, live, local
        from k8slearn.informer import STRATEGIES, bulk
        from k8slearn.informer.bulk import bulk_configmaps

        state = own[0] if own else local.require_state()
        pid = state["pids"]["kube-apiserver"]
        api = live.api_client(live.LOCAL_CONTEXT)
        versions = binaries.versions()
        print("programs: " + ", ".join(f"{k} {v}" for k, v in versions.items()), flush=True)
        for n in sorted(args.n):
            # on its own control plane the objects go with it (`down` removes its etcd), so the
            # namespace is deleted only on a running one
            objects = (
                bulk_configmaps(api, NAMESPACE, n, size=args.size)
                if args.use_running
                else contextlib.nullcontext(bulk.create(api, NAMESPACE, n, size=args.size))
            )
            with objects as made:
                print(f"created {n} ConfigMaps of {args.size} B in {made.seconds:.1f} s", flush=True)
                path = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
                for k in args.informers:
                    for strategy in args.strategies or STRATEGIES:
                        r = run_one(path, strategy, k, api, pid, args.watch_timeout)
                        r["n"] = n
                        results.append(r)
                        show(n, r)
                        if args.out:
                            write(args, started, versions, results, earlier=earlier)
    if args.out:
        write(args, started, versions, results, complete=True, earlier=earlier)
        print(f"wrote {args.out}")
    return 0


def write(
    args, started: str, versions: dict, results: list[dict], complete: bool = False, earlier: dict | None = None
) -> None:
    doc: dict = {
        "provenance": {
            "what": "ListWatch vs watchList informers (k8slearn.informer) against the local control plane",
            "command": "python benchmarks/bench_watchlist.py " + " ".join(sys.argv[1:]),
            "started": started,
            "finished": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if complete else None,
            "complete": complete,
            "machine": machine(),
            "programs": versions,
            "configmap_data_bytes": args.size,
            "informers_are": "threads of one Python process, each with its own connection (ApiClient)",
            "client_memory": "peak RSS (ru_maxrss) of that process, Python and the client included",
            "apiserver_memory": "RSS of the kube-apiserver process every 50 ms; go_memstats_heap_alloc_bytes "
            "from /metrics every 0.5 s (itself a 3-4 MB response); peaks are of those samples",
            "note": "the machine was shared with other work; each run's load average is recorded",
        },
        "runs": results,
    }
    if earlier is not None:  # --append: keep the earlier provenance, list this invocation beside it
        prov = dict(earlier["provenance"])
        prov["appended"] = [*prov.get("appended", []), doc["provenance"]]
        doc = {"provenance": prov, "runs": earlier["runs"] + results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
