"""The revision browser and the snapshot pictures, on hand-made revisions (no cluster needed)."""

from __future__ import annotations

import json

import pytest

from k8slearn.notebook import plots
from k8slearn.notebook.widgets import RevisionBrowser, WidgetError, render_revision, revision_diff
from k8slearn.storage.snapshot import StoredValue


def _v(rev: int, version: int, image: str | None, deleted: bool = False) -> StoredValue:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "managedFields": [{"manager": "x", "time": f"t{rev}"}]},
        "spec": {"image": image},
    }
    value = b"" if deleted else json.dumps(obj).encode()
    return StoredValue("/registry/deployments/ns/web", value, 0 if deleted else 5, rev, version, deleted=deleted)


HISTORY = [_v(5, 1, "a"), _v(7, 2, "a"), _v(9, 3, "b"), _v(12, 0, None, deleted=True)]


def test_slider_moves_through_revisions_and_shows_the_diff():
    b = RevisionBrowser(HISTORY)
    assert b.slider.description == "revision" and list(b.slider.options) == [5, 7, 9, 12]
    assert b.slider.value == 12 and "deleted" in b.text
    text = b.show(9)
    assert b.slider.value == 9 and "\n-  image: a\n+  image: b" in text
    assert "manager:" not in text and "managedFields left out" in text, "managedFields are left out by default"
    assert "(no change in the decoded object)" in b.show(7)
    assert "nothing to compare with" in b.show(5)
    b.slider.value = 9  # moving the slider re-renders through the observer
    assert "+  image: b" in b.output.value and "revision 9:" in b.output.value
    with pytest.raises(WidgetError):
        b.show(8)
    with pytest.raises(WidgetError):
        RevisionBrowser([])
    with pytest.raises(WidgetError):
        RevisionBrowser(HISTORY, initial=6)


def test_managed_fields_shown_when_asked():
    assert "t7" in render_revision(HISTORY, 1, managed_fields=True)
    assert revision_diff({"a": 1}, {"a": 1}) == ""
    assert "+a: 1" in revision_diff(None, {"a": 1})


def test_pictures_draw_and_refuse_empty_data():
    import matplotlib

    matplotlib.use("Agg")
    fig = plots.page_map(["meta", "meta", "leaf", "branch", "overflow", "unused"], source="test")
    assert fig.axes[0].get_title().startswith("6 pages")
    fig = plots.writes_by_resource([(1, "leases", False), (2, "pods", False), (3, "leases", False)])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["leases (2)", "pods (1)"]
    with pytest.raises(plots.PlotError):
        plots.page_map([])
    with pytest.raises(plots.PlotError):
        plots.page_map(["meta", "bogus"])
    with pytest.raises(plots.PlotError):
        plots.writes_by_resource([])
