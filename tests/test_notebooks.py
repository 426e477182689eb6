"""Every notebook runs end to end under papermill — live on the suite's real control plane, recorded
and replayed from that fresh recording, and replayed from the committed recording — and is
committed clean."""

from __future__ import annotations

import json

import pytest

from conftest import BUILD, LIVE, NOTEBOOKS, execute_notebook, notebook_names

NAMES = notebook_names()


def test_the_series_is_complete():
    for n in ("00-preflight", "01-etcd-contents", "02-resource-version", "03-listwatch-vs-watchlist", "04-cel"):
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


@LIVE
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_live(name, live_url, record_property):
    """Live, on the suite's own local control plane (every assertion in the notebook runs)."""
    records, seconds, out = execute_notebook(name, mode="live")
    record_property("notebook_seconds", seconds)
    _no_errors(out)
    assert records.get("mode", "live") == "live"


@LIVE
@pytest.mark.parametrize("name", NAMES)
def test_notebook_fresh_recording_replays(name, live_url, record_property):
    """`k8slearn record` on the real apiserver, then replay from what it wrote: recording and
    redaction must not break replay."""
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
def test_notebook_has_the_standard_sections(name):
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for heading in (
        "**Overview",
        "**Prerequisites",
        "**Time to learn",
        "## Try it yourself",
        "## Summary",
        "## What's next",
        "## References",
    ):
        assert heading in md, f"{name} lacks {heading!r}"
    assert "k8slearn.selfcheck" in json.dumps(nb), f"{name} has no self-check"
