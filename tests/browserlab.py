"""JupyterLab as `make lab` starts it, driven in Debian's Chromium by Playwright (tests/test_browser.py).

`LabSession` starts the lab through `make lab` itself (extra flags go through LAB_ARGS) on a free
loopback port in replay mode, records the URL the lab asks a web browser to open, and opens that
URL in a headless Chromium with a fresh profile. A sampler thread measures the memory of every
process the run started (JupyterLab, its kernels and their etcd servers, Chromium, the Playwright
driver), and `stop()` ends them all, even when a test failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SHOTS = ROOT / "build" / "browser"
CHROMIUM = Path(os.environ.get("K8SLEARN_CHROMIUM", "/usr/bin/chromium"))
# headless, and nothing that reaches out to the network or depends on a desktop
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# a loaded 2-core machine: generous defaults, each can be raised from the environment
NOTEBOOK_TIMEOUT = float(os.environ.get("K8SLEARN_BROWSER_NOTEBOOK_TIMEOUT", "900"))  # seconds for Run All
ACTION_TIMEOUT_MS = float(os.environ.get("K8SLEARN_BROWSER_ACTION_TIMEOUT", "90")) * 1000
# JupyterLab's own settings for the run (LabApp.user_settings_dir): no autosave, so running the
# notebooks never writes outputs into notebooks/; no news pop-up over the page; every cell attached
# to the page (no windowing), so each cell's outputs can be read and screenshotted
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def in_ci() -> bool:
    return os.environ.get("K8SLEARN_REQUIRE_LIVE") == "1" or os.environ.get("CI", "").lower() == "true"


def require_chromium() -> None:
    """Skip, saying why, when Chromium or Playwright is missing; in CI that is a failure."""
    why = None
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        why = f"Chromium not found at {CHROMIUM}: apt-get install chromium (CI installs it)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "the playwright package is not installed: make install (it is in the test extra)"
    if why is None:
        return
    if in_ci():
        pytest.fail(f"browser tests are required in CI (CI=true or K8SLEARN_REQUIRE_LIVE=1) but {why}")
    pytest.skip(why)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ memory of the run's processes


def _group(proc) -> str:
    try:
        name = proc.name()
        cmd = " ".join(proc.cmdline())
    except Exception:
        return "other"
    if "chrom" in name or "chrom" in cmd.split(" ", 1)[0]:
        return "Chromium"
    if "ipykernel" in cmd:
        return "kernels"
    if name == "etcd" or "/etcd " in cmd + " ":
        return "kernels' etcd"
    if "jupyter" in cmd:
        return "JupyterLab server"
    if "playwright" in cmd or name == "node":
        return "Playwright driver"
    return "other"


class MemorySampler(threading.Thread):
    """Samples the proportional set size (PSS: shared pages divided among their users, so the sum
    over processes is honest) of every descendant of this test process, every `interval` s."""

    def __init__(self, interval: float = 1.0):
        super().__init__(daemon=True, name="browser-memory")
        import psutil

        self.me = psutil.Process()
        self.interval = interval
        self.peak_total = 0
        self.peak_by_group: dict[str, int] = {}
        self.at_peak: dict[str, int] = {}
        self.samples = 0
        self.seen: dict[int, float] = {}  # pid -> create_time, to stop leftovers by id at the end
        self._stop_event = threading.Event()

    def sample(self) -> None:
        total, by_group = 0, {}
        for proc in self.me.children(recursive=True):
            try:
                self.seen.setdefault(proc.pid, proc.create_time())
                mem = proc.memory_full_info()
                size = getattr(mem, "pss", mem.rss)
            except Exception:
                continue  # ended meanwhile, or not readable
            group = _group(proc)
            by_group[group] = by_group.get(group, 0) + size
            total += size
        self.samples += 1
        for group, size in by_group.items():
            self.peak_by_group[group] = max(size, self.peak_by_group.get(group, 0))
        if total > self.peak_total:
            self.peak_total, self.at_peak = total, by_group

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def leftovers(self) -> list:
        """Processes seen during the run that are still alive (same pid and start time)."""
        import psutil

        alive = []
        for pid, created in self.seen.items():
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.Error:
                pass
        return alive


# ------------------------------------------------------------------ the lab and the browser


class LabSession:
    """`make lab` on a free loopback port, in replay, and a headless Chromium showing it."""

    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="k8slearn-browser-"))
        self.port = free_port()
        self.make: subprocess.Popen | None = None
        self.pw = None
        self.context = None
        self.page = None
        self.first_url = ""  # the URL the lab asked a web browser to open
        self.sampler = MemorySampler()
        self.t0 = time.perf_counter()
        self.seconds = 0.0
        self.notebooks_before = self._notebook_bytes()
        self.log = self.tmp / "lab.log"

    @staticmethod
    def _notebook_bytes() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in NOTEBOOKS.glob("*.ipynb")}

    # -------------------------------------------------------------- start
    def start(self) -> LabSession:
        self.sampler.start()
        self._start_lab()
        self._start_browser()
        return self

    def _start_lab(self) -> None:
        settings = self.tmp / "lab-settings"
        for rel, value in LAB_SETTINGS.items():
            (settings / rel).parent.mkdir(parents=True, exist_ok=True)
            (settings / rel).write_text(json.dumps(value))
        opened = self.tmp / "browser-was-asked-to-open.txt"
        recorder = f"import sys, pathlib; pathlib.Path({str(opened)!r}).write_text(sys.argv[1])"
        # the lab's own browser: a command that writes down the URL it is given (%s)
        browser = shlex.join([sys.executable, "-c", recorder]) + " %s"
        lab_args = [
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.browser={browser}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.tmp / 'workspaces'}",
        ]
        env = dict(os.environ)
        for var in ("K8SLEARN_RECORDING", "K8SLEARN_RECORDINGS", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH"):
            env.pop(var, None)  # the committed recording, this environment's Jupyter
        env.update(
            K8SLEARN_MODE="replay",  # never a curriculum cluster running elsewhere on the machine
            JUPYTER_CONFIG_DIR=str(self.tmp / "jupyter-config"),
            JUPYTER_DATA_DIR=str(self.tmp / "jupyter-data"),
            JUPYTER_RUNTIME_DIR=str(self.tmp / "jupyter-runtime"),
            PYTHONUNBUFFERED="1",
        )
        # `make lab`, with its own recipe: -o keeps make from reinstalling during a test run, and
        # BIN points at the environment running the tests (the project's .venv under make test)
        cmd = [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.k8slearn-installed",
            "lab",
            f"BIN={Path(sys.executable).parent}",
            f"LAB_ARGS={shlex.join(lab_args)}",
        ]
        self.make = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=open(self.log, "w"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped by id at the end
        )
        deadline = time.monotonic() + 180
        while not opened.is_file():
            if self.make.poll() is not None:
                raise RuntimeError(f"`make lab` exited with {self.make.returncode}:\n{self.lab_log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"`make lab` did not ask for a browser within 180 s:\n{self.lab_log()}")
            time.sleep(0.25)
        time.sleep(0.2)  # the recorder writes in one call; let it finish
        self.first_url = opened.read_text().strip()
        self.token = self._token()

    def _token(self) -> str:
        runtime = self.tmp / "jupyter-runtime"
        for info in runtime.glob("jpserver-*.json"):
            return json.loads(info.read_text()).get("token", "")
        raise RuntimeError(f"no jpserver-*.json in {runtime}")

    def lab_log(self, tail: int = 4000) -> str:
        try:
            return self.log.read_text()[-tail:]
        except OSError:
            return ""

    def _start_browser(self) -> None:
        from playwright.sync_api import sync_playwright

        self.pw = sync_playwright().start()
        self.context = self.pw.chromium.launch_persistent_context(
            str(self.tmp / "chromium-profile"),  # a fresh profile
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        self.context.set_default_timeout(ACTION_TIMEOUT_MS)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        # uncaught exceptions and console.error lines of the page (a widget view that cannot be
        # created is only logged there: its box just lacks it)
        self.console_errors: list[str] = []
        self.page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))
        self.page.on(
            "console", lambda m: self.console_errors.append(f"console: {m.text}") if m.type == "error" else None
        )

    # -------------------------------------------------------------- stop
    def api(self, method: str, path: str) -> bytes:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read()

    def stop(self) -> list[str]:
        """Stop Chromium, the lab and its kernels; return what had to be killed (should be nothing)."""
        self.seconds = time.perf_counter() - self.t0
        with contextlib.suppress(Exception):
            self.sampler.sample()
        problems = []
        if self.context is not None:
            with contextlib.suppress(Exception):
                self.context.close()
        if self.pw is not None:
            with contextlib.suppress(Exception):
                self.pw.stop()
        if self.make is not None and self.make.poll() is None:
            with contextlib.suppress(Exception):
                self.api("POST", "/api/shutdown")  # shuts the kernels down, then the server
            try:
                self.make.wait(timeout=60)
            except subprocess.TimeoutExpired:
                problems.append("`make lab` did not stop after /api/shutdown: SIGTERM to its process group")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.make.pid, signal.SIGTERM)
                try:
                    self.make.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.make.pid, signal.SIGKILL)
                    self.make.wait(timeout=30)
        self.sampler.stop()
        deadline = time.monotonic() + 20
        while (left := self.sampler.leftovers()) and time.monotonic() < deadline:
            time.sleep(0.5)
        for proc in left:
            problems.append(f"left running, killed: pid {proc.pid} {' '.join(proc.cmdline())[:160]}")
            with contextlib.suppress(Exception):
                proc.kill()
        if self._notebook_bytes() != self.notebooks_before:
            problems.append("the browser run changed files in notebooks/ (autosave?)")
        import shutil

        with contextlib.suppress(OSError):
            SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.log, SHOTS / "jupyterlab.log")  # the lab's own log, for a failed run
        shutil.rmtree(self.tmp, ignore_errors=True)
        return problems

    def figures(self) -> str:
        mib = 1024 * 1024
        parts = ", ".join(f"{g} {b / mib:.0f}" for g, b in sorted(self.sampler.at_peak.items(), key=lambda x: -x[1]))
        return (
            f"browser run: {self.seconds:.0f} s wall; peak memory {self.sampler.peak_total / mib:.0f} MiB PSS "
            f"over JupyterLab, kernels, Chromium and the Playwright driver ({parts}; MiB at the peak; "
            f"{self.sampler.samples} samples)"
        )

    # -------------------------------------------------------------- what a learner does
    def open_first_page(self) -> None:
        """Open what `make lab` asked a web browser to open, as the learner's browser does."""
        self.page.goto(self.first_url)
        self.page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/lab"), timeout=ACTION_TIMEOUT_MS)
        self.active_notebook().locator(".jp-Cell").first.wait_for()
        self.wait_kernel_idle(timeout=180)  # Run All before the kernel is up asks which kernel to use

    def active_notebook(self):
        return self.page.locator("#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)")

    def active_tab_title(self) -> str:
        tab = self.page.locator(CURRENT_TAB)
        return tab.first.inner_text().strip()

    def open_from_file_browser(self, filename: str) -> None:
        """Double-click `filename` in the lab's file browser (its folder is the lab's root)."""
        if not self.page.locator(".jp-DirListing").first.is_visible():
            self.page.locator(".jp-SideBar [data-id='filebrowser']").first.click()  # show the file browser
        text = self.page.locator(".jp-DirListing-itemText", has_text=re.compile(f"^{re.escape(filename)}$"))
        self.page.locator(".jp-DirListing-item", has=text).first.dblclick()
        self.page.wait_for_function(
            CURRENT_TAB_IS,
            arg=filename,
            timeout=ACTION_TIMEOUT_MS,
        )
        self.active_notebook().locator(".jp-Cell").first.wait_for()
        self.wait_kernel_idle(timeout=180)

    def show_tab(self, filename: str) -> None:
        tab = self.page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=filename)
        tab.first.click()
        self.page.wait_for_function(
            CURRENT_TAB_IS,
            arg=filename,
        )

    def kernel_status(self) -> str:
        ind = self.active_notebook().locator(".jp-Notebook-ExecutionIndicator")
        return (ind.first.get_attribute("data-status") or "") if ind.count() else ""

    def status_bar_kernel(self) -> str:
        """The status bar's kernel item, e.g. "Python 3 (ipykernel) | Idle" (it says Initializing
        while the toolbar's indicator may already say idle)."""
        item = self.page.locator(".jp-StatusBar-TextItem", has_text="(ipykernel) |")
        return item.first.inner_text().strip() if item.count() else ""

    def wait_kernel_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.kernel_status() != "idle" or not self.status_bar_kernel().endswith("| Idle"):
            if time.monotonic() > deadline:
                raise AssertionError(f"the kernel is {self.kernel_status()!r}, not idle, after {timeout:.0f} s")
            time.sleep(0.5)

    def menu(self, *labels: str) -> None:
        """Click a menu bar item, then the menu entries `labels` in turn."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(labels[0])}$")).first.click()
        for label in labels[1:]:
            entry = self.page.locator(
                ".lm-Menu:visible .lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")
            )
            entry.first.click()

    def run_all(self, timeout: float = NOTEBOOK_TIMEOUT) -> dict:
        """Run > Run All Cells, then wait until no cell is queued or running and the kernel is idle;
        return the page's state (see `state`). Fails at once on a dialog or an input box."""
        self.active_notebook().locator(".jp-Cell").first.click()  # the notebook the menu acts on
        self.menu("Run", "Run All Cells")
        if not self._started(30):  # a menu click racing the lab's start-up: a learner clicks again
            self.active_notebook().locator(".jp-Cell").first.click()
            self.menu("Run", "Run All Cells")
            if not self._started(60):
                raise AssertionError("Run > Run All Cells started no cell (twice)")
        deadline = time.monotonic() + timeout
        settled = quiet = 0
        state = self.state()
        while time.monotonic() < deadline:
            time.sleep(1.0)
            dialog = self.page.locator(".jp-Dialog")
            if dialog.count():
                raise AssertionError(f"a dialog interrupts Run All: {dialog.first.inner_text()[:300]!r}")
            if self.active_notebook().locator(".jp-Stdin").count():
                raise AssertionError("a cell waits for the learner to type something (input box on the page)")
            state = self.state()
            idle = state["queued"] == 0 and state["kernel"] == "idle"
            done = idle and (state["numbered"] == state["code_cells"] or state["errors"])
            settled = settled + 1 if done else 0
            quiet = quiet + 1 if idle else 0
            # the same for three seconds: not a gap between two cells; idle for 30 s with cells
            # not run: Run All stopped (the caller's assertions say which cells)
            if settled >= 3 or quiet >= 30:
                return state
        raise AssertionError(
            f"Run All did not finish in {timeout:.0f} s: {state['numbered']}/{state['code_cells']} cells ran, "
            f"{state['queued']} queued or running, kernel {state['kernel']!r}"
        )

    def _started(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state = self.state()
            if state["queued"] or state["numbered"] or state["kernel"] == "busy":
                return True
            time.sleep(0.5)
        return False

    def state(self) -> dict:
        """What the notebook on screen shows, cell by cell."""
        return self.active_notebook().evaluate(STATE_JS)

    def screenshot_notebook(self, path: Path, tall: int = 8000) -> list[Path]:
        """The whole notebook, top to bottom: the window made `tall` px high, the notebook scrolled one
        screenful at a time; `path` is the top, then <stem>.2.png, <stem>.3.png, ... Returns the files."""
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(f"{path.stem}.[0-9]*.png"):
            old.unlink()
        scroller = self.active_notebook().locator(".jp-WindowedPanel-outer").first
        size = self.page.viewport_size
        shots = []
        try:
            self.page.set_viewport_size({"width": size["width"], "height": tall})
            self.page.wait_for_timeout(1500)  # let the lab lay itself out again
            total, screen = scroller.evaluate(CONTENT_HEIGHT_JS)
            top = 0
            while True:
                at = scroller.evaluate("(n, y) => { n.scrollTop = y; return n.scrollTop; }", top)
                self.page.wait_for_timeout(400)
                shot = path if not shots else path.with_name(f"{path.stem}.{len(shots) + 1}.png")
                self.page.screenshot(path=str(shot))
                shots.append(shot)
                if at + screen >= total - 1 or len(shots) >= 20:
                    break
                top = at + screen - 40  # a little overlap between two parts
        finally:
            self.page.set_viewport_size(size)
            self.page.wait_for_timeout(500)
        return shots


CURRENT_TAB = "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"
CURRENT_TAB_IS = (
    f"name => {{ const t = document.querySelector('{CURRENT_TAB}'); return t && t.textContent.trim() === name; }}"
)

# the notebook's height down to its last cell (scrollHeight adds the lab's "scroll past end" space)
CONTENT_HEIGHT_JS = """n => {
  const cells = n.querySelectorAll('.jp-Cell');
  const bottom = cells.length ? cells[cells.length - 1].getBoundingClientRect().bottom : 0;
  return [Math.ceil(bottom - n.getBoundingClientRect().top + n.scrollTop + 20), n.clientHeight];
}"""

# One pass over the notebook on screen (run in the page): per code cell its prompt and outputs.
STATE_JS = r"""
panel => {
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')];
  const out = {kernel: status ? status.getAttribute('data-status') : '', cells: [], code_cells: 0,
               numbered: 0, queued: 0, errors: 0};
  cells.forEach((cell, index) => {
    if (!cell.classList.contains('jp-CodeCell')) { out.cells.push({index, type: 'markdown'}); return; }
    out.code_cells += 1;
    const prompt = (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '';
    // a cell whose input is collapsed (the exercises' solutions) shows no prompt, only its outputs
    const hidden = !!cell.querySelector('.jp-InputPlaceholder');
    const ran = /\[\d+\]/.test(prompt) || (hidden && !!cell.querySelector('.jp-OutputArea-output'));
    if (ran) out.numbered += 1;
    if (prompt.includes('*')) out.queued += 1;
    const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => {
      // ipywidgets' renderer sets no data-mime-type: a widget output is one holding a widget view
      const widget = !!o.querySelector(':scope > .jupyter-widgets, :scope > .jupyter-widgets-error-widget');
      const mime = o.getAttribute('data-mime-type') || (widget ? 'application/vnd.jupyter.widget-view+json' : '');
      const text = (o.innerText || o.textContent || '').slice(0, 4000);
      const imgs = [...o.querySelectorAll('img')].map(i => ({
        loaded: i.complete && i.naturalWidth > 0, w: i.naturalWidth, h: i.naturalHeight}));
      const widgets = mime === 'application/vnd.jupyter.widget-view+json' ? {
        views: o.querySelectorAll('.jupyter-widgets').length,
        // ipywidgets' error view (a red box, "Click to show javascript error."), or its older texts
        error: !!o.querySelector('.jupyter-widgets-error-widget')
          || /Error displaying widget|Error rendering output|Click to show javascript error/.test(o.textContent || ''),
        height: o.getBoundingClientRect().height} : null;
      return {mime, text, imgs, widgets};
    });
    const src = (cell.querySelector('.jp-InputArea-editor') || {}).textContent || '';
    out.cells.push({index, type: 'code', prompt: prompt.trim(), hidden, ran, outputs, source: src.slice(0, 300)});
  });
  out.errors = out.cells.filter(c => (c.outputs || []).some(o => o.mime === 'application/vnd.jupyter.stderr'
      && /Traceback \(most recent call last\)|Javascript Error|^Cell In\[\d+\], line \d+/m.test(o.text))).length;
  return out;
}
"""
