"""Where recordings live and which one replay uses.

    data/recordings/<name>/   one recording (see k8slearn.recording.record for its files)
    data/seed/                the seed article's value

`data_dir()` is the project's data/ folder ($K8SLEARN_DATA, else found from the working
folder up); `recordings_dir()` is $K8SLEARN_RECORDINGS (the test suite's fresh recordings)
or data/recordings; `choose_recording()` is $K8SLEARN_RECORDING or the newest recording
made from a real cluster.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from k8slearn.errors import FixtureMissing


def data_dir() -> Path:
    """The project's data/ folder: $K8SLEARN_DATA, else found from the working folder up."""
    env = os.environ.get("K8SLEARN_DATA")
    if env:
        return Path(env)
    for base in [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[1]]:
        if (base / "data").is_dir() and (base / "notebooks").is_dir():
            return base / "data"
    raise FixtureMissing(
        "cannot find the project's data/ folder: run the notebook from the "
        "project's notebooks/ folder or set K8SLEARN_DATA to the data/ path"
    )


def recordings_dir() -> Path:
    """Where recordings live: $K8SLEARN_RECORDINGS (the test suite's fresh ones), else data/recordings."""
    env = os.environ.get("K8SLEARN_RECORDINGS")
    return Path(env) if env else data_dir() / "recordings"


def recordings() -> dict[str, dict]:
    """Every recording with its provenance."""
    out = {}
    for p in sorted(recordings_dir().glob("*/provenance.yaml")):
        out[p.parent.name] = yaml.safe_load(p.read_text())
    return out


def choose_recording() -> Path:
    """$K8SLEARN_RECORDING, else the newest recording recorded from a real cluster."""
    root = recordings_dir()
    name = os.environ.get("K8SLEARN_RECORDING")
    if name:
        if not (root / name / "provenance.yaml").is_file():
            raise FixtureMissing(f"K8SLEARN_RECORDING={name}: no such recording in {root}")
        return root / name
    real = sorted((p.get("date", ""), n) for n, p in recordings().items() if p.get("provenance") == "recorded")
    if real:
        return root / real[-1][1]
    raise FixtureMissing(
        f"no recording in {root}; make one with `make record` (or `k8slearn record` beside a running cluster)"
    )
