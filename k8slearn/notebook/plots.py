"""Small matplotlib pictures for the notebooks: what the etcd keyspace holds, and where its bytes go.

Each function takes plain data (a pandas DataFrame from ``Etcd.dataframe()`` or a few
numbers), draws one figure and returns it; the summaries behind the pictures are pure
functions (``summarize``, ``managed_fields_share``) so tests can check them without drawing.
matplotlib and pandas load only when a function is called.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from k8slearn.errors import K8sLearnError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "PlotError",
    "provenance",
    "summarize",
    "count_and_bytes",
    "managed_fields_share",
    "share_bars",
    "byte_ranges",
    "page_map",
    "writes_by_resource",
]


class PlotError(K8sLearnError):
    """The data handed to a plotting helper cannot be drawn; the message says what is missing."""


def provenance(source: dict, cluster: dict) -> str:
    """Where a picture's data comes from, in one line: mode, recording, Kubernetes version.

    ``source`` and ``cluster`` are a Lab's ``lab.source`` and ``lab.cluster``.
    """
    kind = str(source.get("provenance") or "?")
    where = f"replay of recording {source['recording']!r}" if source.get("recording") else kind
    return f"data: {where}, Kubernetes {cluster.get('kubernetes_version', '?')}"


def _label(fig, source: str | None) -> None:
    if source:
        fig.text(0.99, 0.005, source, ha="right", va="bottom", fontsize=7, color="#555555")


def _need_columns(df, columns):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise PlotError(
            f"the DataFrame lacks column(s) {', '.join(missing)}; pass the frame "
            "`lab.etcd.dataframe()` returns (it has key, resource, namespace, size, ...)"
        )


def summarize(df: pd.DataFrame, by: str = "resource", *, missing: str = "(none)") -> pd.DataFrame:
    """Keys and bytes per value of column ``by``, largest byte total first.

    Returns a DataFrame indexed by ``by`` with columns ``keys`` and ``bytes``. Rows whose
    ``by`` is empty (cluster-scoped objects have no namespace) are grouped under ``missing``.
    """
    _need_columns(df, [by, "size"])
    col = df[by].fillna(missing).replace("", missing)
    out = df.assign(**{by: col}).groupby(by).agg(keys=("size", "size"), bytes=("size", "sum"))
    return out.sort_values(["bytes", "keys"], ascending=False)


def count_and_bytes(
    df: pd.DataFrame,
    by: str = "resource",
    *,
    top: int | None = 15,
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Two bar charts side by side: number of keys and bytes stored, per ``by``."""
    import matplotlib.pyplot as plt

    table = summarize(df, by)
    if table.empty:
        raise PlotError("nothing to draw: the DataFrame has no rows")
    if top is not None and len(table) > top:
        n_other = len(table) - top
        rest = table.iloc[top:].sum()
        table = table.iloc[:top].copy()
        table.loc[f"({n_other} others)"] = rest
    table = table.iloc[::-1]  # largest at the top of a horizontal bar chart
    height = 0.8 + 0.28 * len(table)
    fig, (ax_n, ax_b) = plt.subplots(1, 2, figsize=(10, height), sharey=True)
    labels = [str(i) for i in table.index]
    ax_n.barh(labels, table["keys"], color="#4477aa")
    ax_n.set_xlabel("keys")
    ax_b.barh(labels, table["bytes"], color="#ee6677")
    ax_b.set_xlabel("bytes stored (value sizes)")
    for ax, column in ((ax_n, "keys"), (ax_b, "bytes")):
        for y, v in enumerate(table[column]):
            ax.text(v, y, f" {int(v):,}", va="center", fontsize=8)
        ax.margins(x=0.18)
    fig.suptitle(title or f"etcd keys and bytes per {by}")
    fig.tight_layout(rect=(0, 0.03 if source else 0, 1, 1))
    _label(fig, source)
    return fig


def managed_fields_share(rows: Iterable[tuple[str, int, int]]) -> pd.DataFrame:
    """Total bytes and managedFields bytes from (label, total, managed) rows, per label.

    Returns a DataFrame indexed by label with columns ``total``, ``managed``, ``share``
    (managed / total), largest share first. Rejects managed > total: the managedFields of
    an object cannot outweigh the object.
    """
    import pandas as pd

    rows = list(rows)
    for label, total, managed in rows:
        if total <= 0 or managed < 0 or managed > total:
            raise PlotError(f"row {label!r}: need 0 <= managed ({managed}) <= total ({total}) and total > 0")
    frame = pd.DataFrame(rows, columns=["label", "total", "managed"]).groupby("label").sum()
    frame["share"] = frame["managed"] / frame["total"]
    return frame.sort_values("share", ascending=False)


def share_bars(
    table: pd.DataFrame,
    *,
    title: str = "Share of stored bytes that is metadata.managedFields",
    source: str | None = None,
) -> Figure:
    """Stacked horizontal bars (managed vs. the rest) from ``managed_fields_share``'s table."""
    import matplotlib.pyplot as plt

    if table.empty:
        raise PlotError("nothing to draw: no objects with a decoded size")
    t = table.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.3 * len(t)))
    labels = [str(i) for i in t.index]
    ax.barh(labels, t["managed"], color="#ccbb44", label="managedFields")
    ax.barh(labels, t["total"] - t["managed"], left=t["managed"], color="#bbbbbb", label="everything else")
    for y, (total, share) in enumerate(zip(t["total"], t["share"])):
        ax.text(total, y, f" {share:.0%}", va="center", fontsize=8)
    ax.margins(x=0.1)
    ax.set_xlabel("bytes")
    ax.set_title(title, pad=24)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.03 if source else 0, 1, 1))
    _label(fig, source)
    return fig


_RANGE_COLOURS = ["#4477aa", "#66ccee", "#228833", "#ccbb44", "#ee6677", "#aa3377", "#bbbbbb"]


def byte_ranges(
    ranges: Iterable[tuple[int, int, str]],
    size: int,
    *,
    title: str = "Where the bytes of one stored value go",
    source: str | None = None,
) -> Figure:
    """A map of one value: each (start, end, label) byte range at its offset, and its size.

    ``ranges`` is what ``codec.annotate_envelope`` returns (or a selection of it). The left
    panel draws each range at its offset on a linear axis (where it sits); the right panel
    draws its length on a log axis, so that 1-byte tags and 2-byte strings stay as visible as
    the message of several hundred bytes. Zero-length ranges get a thin tick on the left and
    no bar on the right.
    """
    import matplotlib.pyplot as plt

    if size <= 0:
        raise PlotError("size must be positive")
    ranges = list(ranges)
    if not ranges:
        raise PlotError("no ranges to draw")
    bad = [r for r in ranges if not (0 <= r[0] <= r[1] <= size)]
    if bad:
        raise PlotError(f"range(s) {bad[:3]} fall outside 0..{size}")
    fig, (ax, ax_len) = plt.subplots(
        1, 2, figsize=(12, 1.1 + 0.32 * len(ranges)), sharey=True, gridspec_kw={"width_ratios": [3, 2]}
    )
    for i, (start, end, _label_text) in enumerate(ranges):
        colour = _RANGE_COLOURS[i % len(_RANGE_COLOURS)]
        width = max(end - start, size / 400)
        ax.barh(i, width, left=start, color=colour)
        if end > start:
            ax_len.barh(i, end - start, color=colour)
            ax_len.text(end - start, i, f" {end - start} B", va="center", fontsize=8)
        else:
            ax_len.text(1, i, " 0 B", va="center", fontsize=8)
    ax.set_yticks(range(len(ranges)), [f"[{s}:{e}] {label}"[:60] for s, e, label in ranges], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, size * 1.02)
    ax.set_xlabel(f"byte offset (the value is {size} bytes)")
    ax_len.set_xscale("log")
    ax_len.set_xlim(0.8, size * 4)
    ax_len.set_xlabel("length in bytes (log scale)")
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.03 if source else 0, 1, 1))
    _label(fig, source)
    return fig


PAGE_COLOURS = {
    "meta": "#cc3311",
    "freelist": "#ee7733",
    "branch": "#0077bb",
    "leaf": "#33bbee",
    "overflow": "#009988",
    "unused": "#dddddd",
}


def page_map(kinds: list[str], *, source: str | None = None, width: int = 64) -> Figure:
    """The pages of a bbolt file as a grid of coloured cells, one per page, in file order
    (``BoltFile.page_kinds()``)."""
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    if not kinds:
        raise PlotError("no pages to draw")
    names = list(PAGE_COLOURS)
    unknown = sorted(set(kinds) - set(names))
    if unknown:
        raise PlotError(f"unknown page kinds {unknown}; known: {names}")
    rows = -(-len(kinds) // width)
    grid = np.full(rows * width, np.nan)
    grid[: len(kinds)] = [names.index(k) for k in kinds]
    fig, ax = plt.subplots(figsize=(8, max(1.2, 0.14 * rows + 0.8)))
    ax.imshow(
        grid.reshape(rows, width),
        cmap=ListedColormap(list(PAGE_COLOURS.values())),
        vmin=0,
        vmax=len(names) - 1,
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{len(kinds)} pages, {width} per row, in file order")
    counts = {k: kinds.count(k) for k in names}
    ax.legend(
        handles=[Patch(color=PAGE_COLOURS[k], label=f"{k} ({counts[k]})") for k in names if counts[k]],
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize=8,
        frameon=False,
    )
    _label(fig, source)
    fig.tight_layout()
    return fig


def writes_by_resource(timeline: list[tuple[int, str, bool]], *, top: int = 6, source: str | None = None) -> Figure:
    """Cumulative changes per resource against the revision (``Snapshot.timeline()``): who writes most."""
    from collections import Counter

    import matplotlib.pyplot as plt

    if not timeline:
        raise PlotError("no changes to draw")
    busiest = [r for r, _ in Counter(r for _, r, _ in timeline).most_common(top)]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for res in busiest:
        revs = [rev for rev, r, _ in timeline if r == res]
        ax.step(revs, range(1, len(revs) + 1), where="post", label=f"{res} ({len(revs)})")
    ax.set_xlabel("etcd revision")
    ax.set_ylabel("changes so far")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(f"the {len(busiest)} resources with the most changes in the snapshot")
    _label(fig, source)
    fig.tight_layout()
    return fig
