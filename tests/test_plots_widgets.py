"""k8slearn.notebook.plots and k8slearn.notebook.widgets: the summaries are right, the figures hold what they should,
the browser shows what it is asked for and says so when it cannot decode."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from k8slearn.cluster.etcd import KeyValue  # noqa: E402
from k8slearn.notebook import plots, widgets  # noqa: E402
from k8slearn.storage import codec  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def frame():
    return pd.DataFrame(
        [
            {"key": "/registry/configmaps/a/x", "resource": "configmaps", "namespace": "a", "size": 100},
            {"key": "/registry/configmaps/b/y", "resource": "configmaps", "namespace": "b", "size": 50},
            {"key": "/registry/namespaces/a", "resource": "namespaces", "namespace": None, "size": 300},
            {"key": "/registry/events/a/e", "resource": "events", "namespace": "a", "size": 10},
        ]
    )


# ---------------------------------------------------------------- plots: summaries


def test_summarize_counts_and_sums_per_column_largest_bytes_first():
    t = plots.summarize(frame(), "resource")
    assert list(t.index) == ["namespaces", "configmaps", "events"]
    assert t.loc["configmaps"].tolist() == [2, 150]
    assert t["keys"].sum() == 4 and t["bytes"].sum() == 460


def test_summarize_groups_cluster_scoped_rows_under_a_label():
    t = plots.summarize(frame(), "namespace")
    assert t.loc["(none)"].tolist() == [1, 300]
    assert t.loc["a"].tolist() == [2, 110]


def test_summarize_names_the_missing_column():
    with pytest.raises(plots.PlotError, match="size"):
        plots.summarize(frame().drop(columns=["size"]))


def test_managed_fields_share_sums_per_label_and_sorts_by_share():
    t = plots.managed_fields_share([("a", 100, 50), ("a", 100, 10), ("b", 10, 9)])
    assert list(t.index) == ["b", "a"]
    assert t.loc["a", "total"] == 200 and t.loc["a", "managed"] == 60
    assert t.loc["a", "share"] == pytest.approx(0.3) and t.loc["b", "share"] == pytest.approx(0.9)


@pytest.mark.parametrize("row", [("x", 10, 11), ("x", 0, 0), ("x", 10, -1)])
def test_managed_fields_share_rejects_impossible_rows(row):
    with pytest.raises(plots.PlotError, match="managed"):
        plots.managed_fields_share([row])


# ---------------------------------------------------------------- plots: figures


def test_count_and_bytes_draws_one_bar_per_group_in_each_panel():
    fig = plots.count_and_bytes(frame(), "resource")
    counts, sizes = fig.axes
    assert [p.get_width() for p in counts.patches] == [1, 2, 1]  # events, configmaps, namespaces (bottom up)
    assert [p.get_width() for p in sizes.patches] == [10, 150, 300]
    assert [t.get_text() for t in counts.get_yticklabels()] == ["events", "configmaps", "namespaces"]


def test_count_and_bytes_folds_the_tail_into_one_bar():
    fig = plots.count_and_bytes(frame(), "resource", top=1)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["(2 others)", "namespaces"]
    assert [p.get_width() for p in fig.axes[1].patches] == [160, 300]


def test_count_and_bytes_refuses_an_empty_frame():
    with pytest.raises(plots.PlotError, match="no rows"):
        plots.count_and_bytes(frame().iloc[0:0])


def test_share_bars_stacks_managed_and_the_rest_to_the_total():
    fig = plots.share_bars(plots.managed_fields_share([("a", 100, 25)]))
    (ax,) = fig.axes
    managed, rest = ax.patches
    assert (managed.get_width(), rest.get_x(), rest.get_width()) == (25, 25, 75)


def test_byte_ranges_draws_each_range_at_its_offset():
    value = codec.encode(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "d"}, "data": {"k": "v"}}
    )
    ranges = codec.annotate_envelope(value)
    fig = plots.byte_ranges(ranges, len(value))
    bars = fig.axes[0].patches
    assert len(bars) == len(ranges)
    assert [b.get_x() for b in bars] == [s for s, _, _ in ranges]


def test_byte_ranges_rejects_ranges_outside_the_value():
    with pytest.raises(plots.PlotError, match="outside"):
        plots.byte_ranges([(0, 20, "too long")], 10)
    with pytest.raises(plots.PlotError):
        plots.byte_ranges([], 10)


# ---------------------------------------------------------------- widgets.render

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "demo"}, "data": {"k": "v"}}


def test_render_protobuf_shows_object_and_labelled_hex():
    value = codec.encode(CM)
    text = widgets.render("/registry/configmaps/demo/cm", value, mod_revision=7)
    assert "encoding: protobuf, v1 ConfigMap" in text and "mod_revision (= resourceVersion): 7" in text
    assert "kind: ConfigMap" in text and "name: cm" in text
    assert "magic 'k8s\\0'" in text and "6b 38 73 00" in text


def test_render_json_has_no_envelope_labels():
    text = widgets.render("/registry/example.com/widgets/d/w", codec.encode(CM, "application/json"))
    assert "encoding: json" in text and "kind: ConfigMap" in text and "magic" not in text


def test_render_encrypted_names_the_provider_and_decrypts_nothing():
    text = widgets.render("/registry/secrets/d/s", b"k8s:enc:aescbc:v1:key1:" + bytes(range(20)))
    assert "encrypted at rest by provider 'aescbc' (key 'key1')" in text


def test_render_plain_text_value():
    text = widgets.render("compact_rev_key", b"42")
    assert "encoding: text" in text and "\n42\n" in text


def test_render_says_why_when_it_cannot_decode():
    text = widgets.render("/registry/x/y", b"\x00\xff\x10garbage")
    assert "not decodable:" in text and "--- hex view ---" in text


def test_render_cuts_the_hex_view_of_long_values():
    value = codec.encode(dict(CM, data={"k": "v" * 500}))
    text = widgets.render("/registry/configmaps/demo/cm", value, hex_bytes=32)
    hex_lines = text.split("--- hex view ---\n")[1].splitlines()
    assert len(hex_lines) == 3 and hex_lines[-1] == f"... {len(value) - 32} more bytes"


def test_render_wants_bytes():
    with pytest.raises(widgets.WidgetError, match="bytes"):
        widgets.render("/k", "text")


def test_render_a_real_serialized_service(shared_testdata):
    value = (shared_testdata / "k8s-serialization" / "core.v1.Service.pb").read_bytes()
    text = widgets.render("/registry/services/specs/ns/svc", value)
    assert "encoding: protobuf, v1 Service" in text and "kind: Service" in text


# ---------------------------------------------------------------- widgets.KeyBrowser


def kvs():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "demo"},
        "data": {"p": base64.b64encode(b"fake").decode()},
    }
    return [
        KeyValue("/registry/configmaps/demo/cm", codec.encode(CM), 5, 9, 2),
        KeyValue("/registry/secrets/demo/s", codec.encode(secret), 6, 6, 1),
    ]


def test_browser_starts_on_the_initial_key_and_shows_it():
    b = widgets.KeyBrowser(kvs(), initial="/registry/secrets/demo/s")
    assert b.dropdown.value == "/registry/secrets/demo/s"
    assert "kind: Secret" in b.text
    assert b.keys == ["/registry/configmaps/demo/cm", "/registry/secrets/demo/s"]


def test_browser_show_selects_and_returns_the_text():
    b = widgets.KeyBrowser(kvs())
    text = b.show("/registry/secrets/demo/s")
    assert b.dropdown.value == "/registry/secrets/demo/s" and text == b.text
    assert "kind: Secret" in text and "mod_revision (= resourceVersion): 6" in text


def test_browser_follows_the_dropdown():
    b = widgets.KeyBrowser(kvs())
    b.dropdown.value = "/registry/secrets/demo/s"  # what a learner's click does
    assert "kind: Secret" in b.text
    b.dropdown.value = "/registry/configmaps/demo/cm"
    assert "kind: ConfigMap" in b.text


def test_browser_errors_name_the_problem():
    with pytest.raises(widgets.WidgetError, match="no keys"):
        widgets.KeyBrowser([])
    with pytest.raises(widgets.WidgetError, match="initial key"):
        widgets.KeyBrowser(kvs(), initial="/registry/nope")
    with pytest.raises(widgets.WidgetError, match="not among"):
        widgets.KeyBrowser(kvs()).show("/registry/nope")
