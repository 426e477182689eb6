"""Recording some notebooks into an existing recording keeps the others, and each re-recorded
notebook carries its own run's base and provenance."""

from __future__ import annotations

from k8slearn.recording.record import _merge_alone


def _recording(root, notebooks, tag):
    root.mkdir(parents=True)
    for f in ("base.jsonl", "cluster.yaml", "provenance.yaml"):
        (root / f).write_text(f"{f} of {tag}\n")
    for nb in notebooks:
        (root / "notebooks" / nb).mkdir(parents=True)
        (root / "notebooks" / nb / "api.yaml").write_text(f"{nb} of {tag}\n")


def test_alone_replaces_only_its_folder_and_carries_its_run(tmp_path):
    final, out = tmp_path / "local-v1", tmp_path / ".local-v1.partial"
    _recording(final, ["00-a", "01-b"], "old run")
    _recording(out, ["01-b"], "new run")
    _merge_alone(out, final, ["01-b"])
    assert not out.exists()
    assert (final / "notebooks" / "00-a" / "api.yaml").read_text() == "00-a of old run\n"
    assert not (final / "notebooks" / "00-a" / "base.jsonl").exists()
    b = final / "notebooks" / "01-b"
    assert (b / "api.yaml").read_text() == "01-b of new run\n"
    for f in ("base.jsonl", "cluster.yaml", "provenance.yaml"):
        assert (b / f).read_text() == f"{f} of new run\n"
        assert (final / f).read_text() == f"{f} of old run\n"
