"""Every notebook runs end to end under papermill — live on the suite's real control plane, recorded
and replayed from that fresh recording, and replayed from the committed recording — and is
committed clean."""

from __future__ import annotations

import json

import pytest

from conftest import BUILD, LIVE, NOTEBOOKS, execute_notebook, notebook_names

NAMES = notebook_names()


def test_the_series_is_complete():
    for n in (
        "00-preflight",
        "01-etcd-contents",
        "02-resource-version",
        "03-listwatch-vs-watchlist",
        "04-cel",
        "05-encryption-at-rest",
        "06-new-architectures",
        "07-etcd-time-machine",
    ):
        assert n in NAMES, f"notebooks/{n}.ipynb is missing"


def _no_errors(out):
    nb = json.loads(out.read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_in_replay(name, record_property):
    """From the committed recording in data/recordings (made from the real kube-apiserver)."""
    records, seconds, out = execute_notebook(name)
    record_property("notebook_seconds", seconds)
    _no_errors(out)


# Every notebook runs live once, in record mode (below): that run is live — the suite's own
# control plane answers and every assertion in the notebook runs — with the recorder below the
# client. Plain live mode (no recorder) is run for the preflight notebook only, so `connect()`'s
# live path is covered without running each notebook live twice (docs/decisions.md).
PLAIN_LIVE = ["00-preflight"]


@LIVE
@pytest.mark.parametrize("name", PLAIN_LIVE)
def test_notebook_runs_live(name, live_url, record_property):
    """Live, on the suite's own local control plane, no recorder."""
    records, seconds, out = execute_notebook(name, mode="live")
    record_property("notebook_seconds", seconds)
    _no_errors(out)
    assert records.get("mode", "live") == "live"


@LIVE
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_live_recorded_and_replays(name, live_url, record_property):
    """`k8slearn record` on the real apiserver — a live run of the notebook, every assertion in
    it checked — then replay from what it wrote: recording and redaction must not break replay."""
    import os

    from k8slearn.recording import record

    fresh = BUILD / "fresh-recordings"
    old = os.environ.get("K8SLEARN_RECORDINGS")
    os.environ["K8SLEARN_RECORDINGS"] = str(fresh)
    try:
        folder = record.record_live([name], name=f"fresh-{name}")
    finally:
        if old is None:
            os.environ.pop("K8SLEARN_RECORDINGS", None)
        else:
            os.environ["K8SLEARN_RECORDINGS"] = old
    assert (folder / "notebooks" / name / "api.yaml").is_file()
    records, seconds, out = execute_notebook(
        name, env={"K8SLEARN_RECORDINGS": str(fresh), "K8SLEARN_RECORDING": f"fresh-{name}"}, tag="fresh-replay"
    )
    record_property("notebook_seconds", seconds)
    _no_errors(out)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_clean(name):
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
        "outputs are committed: clear them"
    )
    assert "parameters" in code[0].get("metadata", {}).get("tags", []), (
        "the first code cell must be tagged 'parameters'"
    )
    src = lambda c: "".join(c["source"])  # noqa: E731 - nbformat allows a string or a list of lines
    assert src(code[0]).strip().startswith('mode = "auto"'), 'the parameters cell must hold mode = "auto"'
    assert "k8slearn.connect(mode" in src(code[1]) and "lab.banner()" in src(code[1])
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    text = json.dumps(nb)
    for private in ("/home/", "/Users/", "/work/", "/tmp/", "C:\\\\"):
        assert private not in text, f"machine-specific path {private!r} in {name}"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_has_the_cookbook_structure(name):
    """Project Pythia cookbook conventions: numbered title, Overview, Prerequisites table, time to
    learn, one Imports cell, Exercises, Summary, What's next, Resources and references."""
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    md_cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert md_cells[0].startswith(f"# {name[:2]} · "), "the title is '# NN · <question>'"
    md = "\n".join(md_cells)
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    for heading in (
        "## Overview",
        "## Prerequisites",
        "## Imports",
        "## Exercises",
        "## Summary",
        "## What's next",
        "## Resources and references",
    ):
        assert heading in headings, f"{name} lacks {heading!r}"
    order = [
        headings.index(h)
        for h in ("## Overview", "## Prerequisites", "## Summary", "## What's next", "## Resources and references")
    ]
    assert order == sorted(order), "the cookbook's sections are in order"
    table_header = [c.strip() for c in md.split("## Prerequisites", 1)[1].split("|")[1:4]]
    assert table_header == ["Concept", "Importance", "Link"], "Prerequisites is a Concept | Importance | Link table"
    assert "**Time to learn**" in md


@pytest.mark.parametrize("name", NAMES)
def test_notebook_has_three_checked_exercises_with_hidden_solutions(name):
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    solutions = [c for c in nb["cells"] if c["cell_type"] == "code" and "solution" in c["metadata"].get("tags", [])]
    assert len(solutions) >= 3, f"{name} has {len(solutions)} exercises with solutions; at least three"
    for cell in solutions:
        src = "".join(cell["source"])
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True, "solutions are collapsed"
        assert "assert " in src and "check_" in src, "a solution proves itself with its check function"
