"""A picture of encrypted values: one bar per value, one coloured block per part (prefix, IV, ...)."""

from __future__ import annotations

from collections.abc import Mapping

COLOURS = {
    "prefix": "#9e9e9e",
    "IV": "#4e79a7",
    "nonce": "#4e79a7",
    "ciphertext": "#f28e2b",
    "AES-CBC": "#f28e2b",
    "AES-GCM": "#f28e2b",
    "XSalsa20": "#f28e2b",
    "tag": "#e15759",
    "GCM tag": "#e15759",
    "Poly1305": "#e15759",
    "protobuf": "#76b7b2",
}


def _colour(label: str) -> str:
    for word, colour in COLOURS.items():
        if label.startswith(word):
            return colour
    return "#bab0ac"


def _short(label: str) -> str:
    """A part's name short enough for its block: prefix, IV, nonce, tag, or the cipher's name."""
    first = label.split(" ")[0]
    return {"GCM": "tag", "Poly1305": "tag", "protobuf": "EncryptedObject"}.get(first, first)


def layout_figure(values: Mapping[str, bytes]):
    """A matplotlib Figure: for each named value, its parts as `k8slearn.storage.encryption.inspect` reads them."""
    import matplotlib.pyplot as plt

    from k8slearn.storage.encryption import inspect

    rows = [(name, inspect(v), len(v)) for name, v in values.items()]
    fig, ax = plt.subplots(figsize=(10, 0.9 * len(rows) + 0.8))
    for y, (_, enc, _n) in enumerate(reversed(rows)):
        for part in enc.parts:
            width = part.end - part.start
            ax.barh(y, width, left=part.start, color=_colour(part.label), edgecolor="white", height=0.6)
            ax.text(part.start + width / 2, y, f"{_short(part.label)}\n{width} B", ha="center", va="center", fontsize=7)
    ax.set_yticks(range(len(rows)), [f"{name}\n({n} bytes)" for name, _, n in reversed(rows)])
    ax.set_xlabel("byte offset in the value etcd holds (prefix: provider and key; then what each cipher stores)")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
