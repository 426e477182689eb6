"""The constructed recording is reproducible, and the committed one is up to date."""

import filecmp
import shutil
from pathlib import Path

import yaml

from conftest import ROOT


def test_construct_rebuilds_the_committed_recording(tmp_path, monkeypatch):
    from k8slearn import record

    shutil.copytree(ROOT / "data" / "seed", tmp_path / "data" / "seed")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    monkeypatch.setenv("K8SLEARN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    out = record.construct()
    committed = ROOT / "data" / "recordings" / "constructed"
    stale = []
    for f in sorted(p for p in committed.rglob("*") if p.is_file()):
        rel = f.relative_to(committed)
        if rel.name == "provenance.yaml":
            continue
        if not filecmp.cmp(f, out / rel, shallow=False):
            stale.append(str(rel))
    built = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    assert built == {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()}
    assert not stale, f"data/recordings/constructed is stale ({stale}); run `make construct` and commit"
    prov = yaml.safe_load((out / "provenance.yaml").read_text())
    assert prov["provenance"] == "constructed" and "NOT recorded from a real cluster" in prov["summary"]
    assert prov["versions"]["etcd"] and prov["versions"]["k8slearn"]


def test_every_recording_states_its_provenance():
    for prov_file in (ROOT / "data").rglob("provenance.yaml"):
        prov = yaml.safe_load(prov_file.read_text())
        kind = prov.get("provenance") or prov.get("kind")
        assert kind in ("recorded", "constructed", "seed"), f"{prov_file}: provenance must say recorded/constructed/seed"


def test_data_stays_small():
    size = sum(p.stat().st_size for p in (ROOT / "data").rglob("*") if p.is_file())
    assert size < 10 * 1024 * 1024, f"data/ is {size / 1e6:.1f} MB; keep it under 10 MB"
