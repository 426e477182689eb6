"""Notebook 03's charts and tables: informer timelines, and the benchmark's recorded figures.

Pure functions over the data the informer (k8slearn.informer) and the benchmark
(benchmarks/bench_watchlist.py) produce; the only I/O is reading the benchmark's results file.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from k8slearn.errors import FixtureMissing

COLORS = {"listwatch": "#4477aa", "watchlist": "#228833"}
BENCHMARK = "watchlist-local-v1.37.2.json"
MiB = 2**20


def benchmark_file(name: str = BENCHMARK) -> Path:
    from k8slearn.recording.layout import data_dir

    return data_dir() / "benchmarks" / name


def load_benchmark(name: str = BENCHMARK) -> dict:
    """The benchmark's results file (data/benchmarks/), with its provenance."""
    path = benchmark_file(name)
    if not path.is_file():
        raise FixtureMissing(
            f"the benchmark results {path.name} are missing from data/benchmarks/",
            hint="run `python benchmarks/bench_watchlist.py --out data/benchmarks/" + name + "`",
        )
    return json.loads(path.read_text())


def synced_at(timeline: list[dict]) -> float:
    return next(a["t"] for a in timeline if a["what"] == "SYNCED")


def arrivals_until_synced(timeline: list[dict]) -> list[dict]:
    """What came up to and including SYNCED (the initial state)."""
    out = []
    for a in timeline:
        out.append(a)
        if a["what"] == "SYNCED":
            break
    return out


def received_curve(timeline: list[dict]) -> list[tuple[float, int]]:
    """(milliseconds, objects of the initial state received so far) at each arrival up to SYNCED:
    a LIST page adds its items at once (its `name` is None: the page size is read from the next
    SYNCED or page), an ADDED event adds one."""
    pts: list[tuple[float, int]] = [(0.0, 0)]
    count = 0
    for a in arrivals_until_synced(timeline):
        if a["what"] == "ADDED":
            count += 1
        elif a["what"] == "LIST":
            count += a.get("items") or 0
        pts.append((a["t"] * 1000, count))
    return pts


def plot_timelines(runs: dict[str, dict], title: str = "") -> Any:
    """How many objects of the initial state each informer holds over time, and when it is synced.

    `runs` maps a label → a `start_together(..., keep_timelines=True)` result (its first informer)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    styles = ["-", "-.", "--", ":"]
    for (label, run), ls in zip(runs.items(), styles, strict=False):
        tl = run["timelines"][0]
        pts = received_curve(tl)
        color = COLORS[run["strategy"]]
        ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", color=color, ls=ls, label=label)
        synced = synced_at(tl) * 1000
        ax.plot([synced], [pts[-1][1]], marker="*", ms=12, color=color)
        ax.annotate(
            f"synced {synced:.0f} ms",
            (synced, pts[-1][1]),
            textcoords="offset points",
            xytext=(4, -12),
            fontsize=8,
            color=color,
        )
    ax.set_xlabel("milliseconds after the informer started")
    ax.set_ylabel("objects received (initial state)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def benchmark_rows(doc: dict) -> list[dict]:
    """One row per run: N, strategy, informers, median/slowest seconds to synced, MiB received per
    informer, client peak RSS, kube-apiserver RSS and heap (before, peak, increase), load."""
    rows = []
    for r in doc["runs"]:
        a = r["apiserver"]

        def mib(x: int | None) -> float | None:
            return round(x / MiB, 1) if x else None

        rows.append(
            {
                "n": r["n"],
                "strategy": r["strategy"],
                "informers": r["informers"],
                "synced_median_s": round(statistics.median(r["seconds_to_synced"]), 3),
                "synced_slowest_s": round(max(r["seconds_to_synced"]), 3),
                "received_mib": mib(int(statistics.median(r["bytes_received"]))),
                "client_peak_mib": mib(r["client_peak_rss"]),
                "apiserver_rss_mib": mib(a["rss_before"]),
                "apiserver_rss_peak_mib": mib(a["rss_peak"]),
                "apiserver_rss_increase_mib": mib((a["rss_peak"] or 0) - (a["rss_before"] or 0)),
                "apiserver_heap_mib": mib(a["heap_before"]),
                "apiserver_heap_peak_mib": mib(a["heap_peak"]),
                "apiserver_heap_increase_mib": mib(max(0, (a["heap_peak"] or 0) - (a["heap_before"] or 0))),
                "load": r["load_average_before"][0],
                "watch_timeout": r.get("watch_timeout"),
            }
        )
    return rows


def plot_benchmark(rows: list[dict], title: str = "") -> Any:
    """Four panels against N: apiserver heap peak, apiserver RSS peak, seconds to synced, client peak."""
    import matplotlib.pyplot as plt

    panels = [
        ("apiserver_heap_peak_mib", "kube-apiserver Go heap, peak (MiB)"),
        ("apiserver_rss_peak_mib", "kube-apiserver RSS, peak (MiB)"),
        ("synced_slowest_s", "slowest informer synced (s)"),
        ("client_peak_mib", "client process peak RSS (MiB)"),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    ks = sorted({r["informers"] for r in rows})
    styles = dict(zip(ks, ["o", "s", "^", "D", "v"], strict=False))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for strategy in COLORS:
            for k in ks:
                pts = sorted((r["n"], r[key]) for r in rows if r["strategy"] == strategy and r["informers"] == k)
                pts = [p for p in pts if p[1] is not None]
                if pts:
                    ax.plot(
                        [p[0] for p in pts],
                        [p[1] for p in pts],
                        marker=styles[k],
                        color=COLORS[strategy],
                        ls="-" if strategy == "listwatch" else "--",
                        label=f"{strategy}, {k} informer{'s' if k > 1 else ''}",
                    )
        ax.set_xscale("log")
        ax.set_xlabel("ConfigMaps (N)")
        ax.set_title(label, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
