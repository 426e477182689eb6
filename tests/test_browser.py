"""The lab as a learner uses it: `make lab` in headless Chromium, every notebook run from the page,
every widget clicked and typed into. Assertions are on what the page shows.

Marker `browser`: `make test` runs these on their own, serially, after the replay tests (they
skip, saying why, without Chromium; in CI they fail instead). `make browser` runs only these.
Screenshots: build/browser/<notebook>.png and build/browser/<notebook>-<widget>.png.
"""

from __future__ import annotations

import json
import re

import pytest

from browserlab import NOTEBOOKS, SHOTS, LabSession, require_chromium
from conftest import notebook_names

pytestmark = pytest.mark.browser

NAMES = notebook_names()
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PROGRESS_BAR = re.compile(r"\d+%.*\[\d+:\d+(<|\])", re.S)  # tqdm: "create ns: 100% 300/300 [00:01<00:00, ...]"
# how ipywidgets shows a widget when the lab cannot render it: its Python repr as plain text
WIDGET_REPR = re.compile(r"^[A-Z]\w*\((children|value|options|description|layout|min|max)=")
# a cell that displays a widget: display(browser.widget), display(widgets.VBox(...)), ...
DISPLAYS_WIDGET = re.compile(r"display\([^)]*?(\.widget\b|widgets\.[A-Z])")


class Reporter:
    """Prints the run's wall time and peak memory at the end of pytest's report."""

    def __init__(self, session: LabSession):
        self.session = session
        self.problems: list[str] = []

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("-", "browser run (JupyterLab + kernels + Chromium)")
        terminalreporter.write_line(self.session.figures())
        terminalreporter.write_line(f"screenshots: {SHOTS}")
        for p in self.problems:
            terminalreporter.write_line(f"cleanup: {p}")


@pytest.fixture(scope="session")
def lab(request):
    """JupyterLab started by `make lab` (replay) and a headless Chromium on it; everything stops
    at the end of the session, even after a failure."""
    require_chromium()
    session = LabSession()
    reporter = Reporter(session)
    request.config.pluginmanager.register(reporter, "k8slearn-browser-figures")
    session.ran = {}  # notebook -> the page's state after Run All
    try:
        session.start()
        yield session
    finally:
        reporter.problems = session.stop()
        (SHOTS / "run.txt").parent.mkdir(parents=True, exist_ok=True)
        (SHOTS / "run.txt").write_text(session.figures() + "\n")
        print("\n" + session.figures())
    assert not reporter.problems, reporter.problems


def notebook(name: str) -> dict:
    return json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())


def numbered(prefix: str) -> str | None:
    """The notebook whose name starts with `prefix` (e.g. "07"), if the series has it."""
    return next((n for n in NAMES if n.startswith(prefix + "-")), None)


def run_in_browser(lab: LabSession, name: str) -> dict:
    """Open `name` (00 is the page `make lab` opens; the others from the file browser), Run All,
    and return the page's state; once per session."""
    if name in lab.ran:
        lab.show_tab(f"{name}.ipynb")
        return lab.ran[name]
    if not lab.page.url.startswith("http"):
        lab.open_first_page()
    if lab.active_tab_title() != f"{name}.ipynb":
        lab.open_from_file_browser(f"{name}.ipynb")
    lab.ran[name] = state = lab.run_all()
    return state


# ------------------------------------------------------------------ the first page


def test_make_lab_opens_00_preflight(lab):
    lab.open_first_page()
    assert lab.first_url.startswith("file:"), "make lab hands the browser its redirect page"
    assert lab.page.url.split("?")[0].endswith("/lab/tree/00-preflight.ipynb"), lab.page.url
    assert lab.active_tab_title() == "00-preflight.ipynb"
    title = lab.active_notebook().locator(".jp-MarkdownCell h1").first.inner_text()
    assert title.startswith("00 · Preflight"), title
    lab.page.screenshot(path=str(SHOTS / "00-preflight-first-page.png"))


# ------------------------------------------------------------------ every notebook


def _banner_checks(state: dict, name: str) -> None:
    from k8slearn.recording.layout import choose_recording

    texts = [o["text"] for c in state["cells"] for o in c.get("outputs", [])]
    banner = next((t for t in texts if t.lstrip().startswith("Mode") and "Data" in t), None)
    assert banner, f"{name}: no banner (Mode / Data / Runtime ...) on the page"
    rows = dict(line.split("\t", 1) for line in banner.splitlines() if "\t" in line)
    assert rows.get("Mode", "").startswith("replay — K8SLEARN_MODE=replay"), banner
    recording = choose_recording().name
    assert f"recording '{recording}'" in rows.get("Data", ""), f"the banner does not name {recording}: {banner}"


def check_rendered(state: dict, name: str) -> list[str]:
    """Everything the page shows after Run All is there and none of it is an error; returns the
    stderr texts that were not errors (warnings), for the report."""
    nb = notebook(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(state["cells"]) == len(nb["cells"]), f"the page shows {len(state['cells'])} cells of {len(nb['cells'])}"
    assert state["numbered"] == len(code), f"{name}: {len(code) - state['numbered']} code cells did not run: " + str(
        [c["index"] for c in state["cells"] if c["type"] == "code" and not c["ran"]][:10]
    )
    problems, warnings = [], []
    for cell, page_cell in zip(nb["cells"], state["cells"]):
        src = "".join(cell["source"])
        where = f"{name} cell {page_cell['index']} ({src.strip().splitlines()[0][:60] if src.strip() else ''})"
        outputs = page_cell.get("outputs", [])
        for o in outputs:
            if o["mime"] == "application/vnd.jupyter.stderr":
                if re.search(r"Traceback \(most recent call last\)|Javascript Error|^Cell In\[\d+\]", o["text"], re.M):
                    problems.append(f"{where}: error output: {o['text'][:800]}")
                else:
                    warnings.append(f"{where}: {o['text'][:200]}")
            if o["mime"] == WIDGET_MIME:
                w = o["widgets"]
                if w["error"] or not w["views"] or w["height"] <= 0:
                    problems.append(f"{where}: widget not rendered: {w} {o['text'][:300]!r}")
            if o["mime"] == "text/plain" and WIDGET_REPR.match(o["text"].strip()):
                problems.append(f"{where}: a widget shown as plain text (no widget renderer?): {o['text'][:200]!r}")
            for img in o["imgs"]:
                if not img["loaded"]:
                    problems.append(f"{where}: an image output did not load")
        if "plt.show()" in src and not any(i["loaded"] for o in outputs for i in o["imgs"]):
            problems.append(f"{where}: plt.show() but no chart on the page")
        if DISPLAYS_WIDGET.search(src) and not any(o["mime"] == WIDGET_MIME for o in outputs):
            problems.append(f"{where}: displays a widget, but no widget on the page")
    assert not problems, "\n".join(problems)
    return warnings


@pytest.mark.parametrize("name", NAMES)
def test_notebook_in_the_browser(lab, name, record_property):
    """Run All from the page (replay): every cell runs, no error output, every chart and widget is
    rendered, and the banner names the mode and the data."""
    import time

    t0 = time.perf_counter()
    logged = len(lab.console_errors)
    state = run_in_browser(lab, name)
    record_property("browser_seconds", time.perf_counter() - t0)
    lab.screenshot_notebook(SHOTS / f"{name}.png")  # and {name}.2.png ... for a long one
    warnings = check_rendered(state, name)
    _banner_checks(state, name)
    errors = lab.console_errors[logged:]
    for e in errors:
        print("browser console:", e[:300])
    bad = [e for e in errors if e.startswith("uncaught") or re.search(r"widget|view|model", e, re.I)]
    assert not bad, f"JavaScript errors on the page while {name} ran: {bad[:5]}"
    for w in warnings:
        print("stderr (not an error):", w)


# ------------------------------------------------------------------ each widget, used


def widget_output(lab: LabSession, has):
    """The rendered widget output (in the notebook on screen) that contains `has`."""
    out = lab.active_notebook().locator(".jp-OutputArea-output", has=has)
    out.first.scroll_into_view_if_needed()
    return out.first


def wait_text(locator, predicate, what: str, timeout: float = 60) -> str:
    """Wait until predicate(the locator's text) holds; fail saying what the page showed."""
    import time

    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = locator.inner_text(timeout=10_000) if locator.count() else "(nothing: no such element on the page)"
        if predicate(text):
            return text
        time.sleep(0.3)
    raise AssertionError(f"{what}; the page shows:\n{text[:1500]}")


def test_01_key_browser(lab):
    """Pick keys in the Dropdown labelled 'key'; the box below shows each one's decoded object."""
    name = numbered("01")
    if name is None:
        pytest.skip("notebook 01 not present")
    run_in_browser(lab, name)
    page = lab.page
    dropdown = page.locator(".widget-dropdown", has=page.locator("label", has_text=re.compile("^key$")))
    box = widget_output(lab, dropdown)
    select, shown = box.locator("select").first, box.locator(".widget-html").first
    keys = select.evaluate("s => [...s.options].map(o => o.value)")
    assert len(keys) > 10, f"the key browser offers {len(keys)} keys"
    # after Run All it shows what the notebook picked last (browser.show(secret_key))
    first = wait_text(shown, lambda t: t.startswith("key: "), "the key browser shows no key")
    assert first.splitlines()[0] == f"key: {select.input_value()}", "the box shows another key than the one selected"
    assert "kind: Secret" in first, first[:400]

    picks = [k for k in keys if "/configmaps/kube-system/" in k][:1] + [k for k in keys if "/services/specs/" in k][:1]
    assert len(picks) == 2, "no ConfigMap or Service key to pick"
    for key, kind in zip(picks, ("ConfigMap", "Service")):
        *_, namespace, obj_name = key.split("/")
        select.select_option(key)  # what a click on the option does: change + input events
        text = wait_text(shown, lambda t, key=key: t.startswith(f"key: {key}\n"), f"picking {key} did not show it")
        assert f"kind: {kind}" in text and f"name: {obj_name}" in text and f"namespace: {namespace}" in text, text[:800]
        assert "encoding: protobuf" in text and "--- hex view ---" in text, text[:800]
        box.screenshot(path=str(SHOTS / f"{name}-key-browser-{kind.lower()}.png"))


def test_04_cel_playground(lab):
    """Type an expression and a `self` object: the value appears; a bad expression: a compile error."""
    name = numbered("04")
    if name is None:
        pytest.skip("notebook 04 not present")
    run_in_browser(lab, name)
    page = lab.page
    box = widget_output(lab, page.locator(".widget-label", has_text="CEL expression"))
    expr, obj = box.locator("textarea").nth(0), box.locator("textarea").nth(1)
    shown = box.locator(".widget-html").first
    wait_text(shown, lambda t: t.strip() == "result: True", "the playground does not show the notebook's result")

    expr.fill("")
    expr.press_sequentially("self.spec.replicas * 2", delay=20)
    wait_text(shown, lambda t: t.strip() == "result: 6", "typing an expression did not show its value")
    box.screenshot(path=str(SHOTS / f"{name}-cel-playground-expression.png"))
    obj.fill("")
    obj.press_sequentially("metadata:\n  name: web-1\nspec:\n  replicas: 21\n", delay=20)
    wait_text(shown, lambda t: t.strip() == "result: 42", "typing another self did not change the value")
    box.screenshot(path=str(SHOTS / f"{name}-cel-playground-self.png"))

    bad = "self.spec.replicas +"
    expr.fill("")
    expr.press_sequentially(bad, delay=20)
    # each key press re-evaluates: wait for the error of the whole expression, at its end
    where = f"CELError (line 1, column {len(bad) + 1})"
    text = wait_text(shown, lambda t: where in t, f"a bad expression did not show {where!r}")
    assert "compile error" in text and "Syntax error" in text, text
    box.screenshot(path=str(SHOTS / f"{name}-cel-playground-error.png"))


def test_07_revision_slider(lab):
    """Step and drag the slider labelled 'revision': the revision and the object shown change."""
    name = numbered("07")
    if name is None:
        pytest.skip("notebook 07 not present")
    run_in_browser(lab, name)
    page = lab.page
    slider = page.locator(".widget-slider", has=page.locator(".widget-label", has_text=re.compile("^revision$")))
    box = widget_output(lab, slider)
    slider = box.locator(".widget-slider", has=page.locator(".widget-label", has_text=re.compile("^revision$"))).first
    readout = slider.locator(".widget-readout").first
    handle = slider.locator(".noUi-handle").first
    area = box.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea')][1]")  # the cell's outputs

    def shown() -> str:  # what the cell shows beside the slider itself
        return area.inner_text().replace(slider.inner_text(), "")

    def revision() -> int:
        return int(readout.inner_text().strip())

    before_rev, before = revision(), shown()
    minimum = float(handle.get_attribute("aria-valuemin") or before_rev)
    handle.focus()
    page.keyboard.press("ArrowLeft" if before_rev > minimum else "ArrowRight")
    wait_text(readout, lambda t: t.strip() != str(before_rev), "a key press on the slider did not move it")
    stepped = revision()
    wait_text(area, lambda _: shown() != before, f"revision {before_rev} -> {stepped}: the output did not change")
    after_step = shown()
    assert str(stepped) in after_step, f"revision {stepped} is not shown:\n{after_step[:800]}"
    box.screenshot(path=str(SHOTS / f"{name}-revision-slider-step.png"))

    # drag the handle to the other end of the rail
    rail = slider.locator(".noUi-base, .slider").first.bounding_box()
    grip = handle.bounding_box()
    assert rail and grip, "the slider has no size on the page"
    here = grip["x"] + grip["width"] / 2
    to_right = here < rail["x"] + rail["width"] / 2
    page.mouse.move(here, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(rail["x"] + (rail["width"] - 2 if to_right else 2), grip["y"] + grip["height"] / 2, steps=12)
    page.mouse.up()
    wait_text(readout, lambda t: t.strip() != str(stepped), "dragging the slider did not move it")
    dragged = revision()
    assert (dragged > stepped) == to_right, f"dragged {'right' if to_right else 'left'} but {stepped} -> {dragged}"
    wait_text(
        area,
        lambda _: shown() != after_step and str(dragged) in shown(),
        f"revision {stepped} -> {dragged} by dragging: the output did not change to show it",
    )
    box.screenshot(path=str(SHOTS / f"{name}-revision-slider-drag.png"))


INTERACTIONS = {"01": "key browser", "04": "CEL playground", "07": "revision slider"}


def test_every_widget_is_used(lab):
    """A notebook that shows widgets must have its interaction test above (run after the notebooks)."""
    unused = []
    for name in NAMES:
        state = lab.ran.get(name)
        if state is None:
            pytest.skip(f"{name} was not run in this session")
        shown = [o for c in state["cells"] for o in c.get("outputs", []) if o["mime"] == WIDGET_MIME]
        # a progress bar (tqdm's, as the bulk tool in 03 shows) is looked at, not used: it must
        # have reached its end; every other widget needs its interaction test
        bars = [o for o in shown if PROGRESS_BAR.search(o["text"])]
        unfinished = [o["text"][:120] for o in bars if "100%" not in o["text"]]
        assert not unfinished, f"{name}: progress bars that did not finish: {unfinished}"
        count = len(shown) - len(bars)
        if count and name[:2] not in INTERACTIONS:
            unused.append(f"{name} ({count} widget outputs)")
    assert not unused, f"widgets no browser test uses: {unused}; add an interaction to tests/test_browser.py"
