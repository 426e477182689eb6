"""Shared fixtures: the repo's paths, the shared test data, and executed notebooks."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build" / "notebooks"
SHARED = ROOT.parent / "shared" / "testdata"
RECORD_MIME = "application/vnd.k8slearn.recording.record+json"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory) -> Path:
    """Every test run gets its own K8SLEARN_CACHE (compiled schemas, fetched schemas), so no
    test depends on, or writes into, the learner's ~/.cache/k8slearn. The control plane's
    programs stay reachable through K8SLEARN_BIN_DIR, which tests/with_control_plane.py sets."""
    cache = tmp_path_factory.mktemp("k8slearn-cache")
    old = os.environ.get("K8SLEARN_CACHE")
    os.environ["K8SLEARN_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("K8SLEARN_CACHE", None)
    else:
        os.environ["K8SLEARN_CACHE"] = old


@pytest.fixture(scope="session")
def shared_testdata() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared test data not found at {SHARED} (it sits beside the project in CI and on dev machines)")
    return SHARED


def notebook_names() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def pytest_configure(config):
    # one id per test run, so each notebook executes once per run, with or without xdist
    # (xdist's workers share PYTEST_XDIST_TESTRUNUID; a plain run gets its own id here)
    import uuid

    os.environ.setdefault("K8SLEARN_TEST_RUN", uuid.uuid4().hex)


def _run_id() -> str:
    return os.environ.get("PYTEST_XDIST_TESTRUNUID") or os.environ["K8SLEARN_TEST_RUN"]


def execute_notebook(
    name: str, mode: str = "replay", env: dict | None = None, tag: str | None = None
) -> tuple[dict, float, Path]:
    """Execute notebooks/<name>.ipynb once per test run; return (records, seconds, path).

    `mode` is the notebook's parameter ("replay" or "live"); `env` adds environment variables
    for the kernel (e.g. which recording to replay). The executed copy is kept in
    build/notebooks/<tag or mode>/ for inspection. Several xdist workers may ask for the same
    notebook: a file lock makes the first one run it and the others reuse it.
    """
    import papermill as pm

    folder = BUILD / (tag or mode)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}.ipynb"
    meta = folder / f"{name}.run.json"
    with open(folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if meta.is_file() and out.is_file():
            info = json.loads(meta.read_text())
            if info.get("run") == _run_id():
                if info.get("error"):
                    raise RuntimeError(f"{name} ({tag or mode}) failed earlier in this run: {info['error']}")
                return read_records(out), info["seconds"], out
        env_backup = dict(os.environ)
        # a kernel spec named python3 in the user's own Jupyter folder could point at another
        # Python; an empty data dir makes Jupyter use this environment's kernel
        os.environ["JUPYTER_DATA_DIR"] = str(BUILD / "jupyter-data")  # inside build/: no temporary folder left
        os.environ.pop("K8SLEARN_MODE", None)
        os.environ.update(env or {})
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(
                str(NOTEBOOKS / f"{name}.ipynb"),
                str(out),
                parameters={"mode": mode},
                cwd=str(NOTEBOOKS),
                kernel_name="python3",
                progress_bar=False,
                execution_timeout=300,
            )  # a stuck cell fails the run instead of stalling CI
        except Exception as e:
            meta.write_text(
                json.dumps(
                    {
                        "run": _run_id(),
                        "seconds": time.perf_counter() - t0,
                        "error": f"{type(e).__name__}: {str(e)[-600:]}",
                    }
                )
            )
            raise
        finally:
            os.environ.clear()
            os.environ.update(env_backup)
        seconds = time.perf_counter() - t0
        meta.write_text(json.dumps({"run": _run_id(), "seconds": seconds}))
    return read_records(out), seconds, out


def read_records(path: Path) -> dict:
    """The values a notebook kept with lab.record(), read from its executed copy."""
    nb = json.loads(Path(path).read_text())
    records = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RECORD_MIME in data:
                records.update(data[RECORD_MIME])
    return records


@pytest.fixture(scope="session")
def executed():
    """executed(name) -> records of the notebook run in replay mode."""
    return lambda name: execute_notebook(name)[0]


def pytest_terminal_summary(terminalreporter):
    rows = []
    for rep in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for key, value in getattr(rep, "user_properties", []):
            if key == "notebook_seconds":
                test = rep.nodeid.split("::")[-1].split("[")[0].replace("test_notebook_", "")
                rows.append((f"{rep.nodeid.split('[')[-1].rstrip(']')} ({test})", value))
    if rows:
        terminalreporter.write_sep("-", "notebook wall times (papermill)")
        for name, secs in sorted(rows):
            terminalreporter.write_line(f"{name:<58} {secs:6.1f} s")
        terminalreporter.write_line(f"{'total':<58} {sum(s for _, s in rows):6.1f} s")


# ------------------------------------------------------------------ the suite's real control plane


def live_or_skip() -> str:
    """The URL of the suite's local control plane (tests/with_control_plane.py), or skip saying why.

    With K8SLEARN_REQUIRE_LIVE=1 (CI) a missing control plane is a failure, not a skip.
    """
    url = os.environ.get("K8SLEARN_LIVE")
    if url:
        return url
    why = os.environ.get("K8SLEARN_LIVE_SKIP") or (
        "no local control plane for this run: run the suite with `make test` (tests/with_control_plane.py starts one)"
    )
    if os.environ.get("K8SLEARN_REQUIRE_LIVE") == "1":
        pytest.fail(f"live runs are required (K8SLEARN_REQUIRE_LIVE=1) but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def live_url() -> str:
    return live_or_skip()


@pytest.fixture(scope="session")
def live_api(live_url):
    """An official ApiClient logged in to the suite's real kube-apiserver as its admin."""
    from k8slearn.cluster import live

    return live.api_client(live.LOCAL_CONTEXT)


@pytest.fixture(scope="session")
def live_etcd(live_url):
    """A k8slearn.cluster.etcd.Etcd over the suite's real etcd (what kube-apiserver stores)."""
    from k8slearn.cluster import etcd as etcdmod
    from k8slearn.cluster import local

    return etcdmod.Etcd(local.etcd_client(), label="suite")


# Tests on the suite's one control plane carry LIVE (the `live` marker). `make test` runs them
# after the others, one after another in one process (`-m live`, no xdist), so notebooks that
# count what etcd holds are not disturbed by other tests' writes, and a test that restarts
# kube-apiserver stops no other test. (xdist's loadgroup does not group tests under pytest 9.)
LIVE = pytest.mark.live


def raw_get(api, path: str, params=()) -> tuple[int, bytes]:
    """GET `path` through the official client's connection (its TLS and credentials), unparsed."""
    from k8slearn.lab import get_raw

    return get_raw(api, path, **dict(params))


def one_context_kubeconfig(path: Path, context: str, server: str) -> Path:
    """A kubeconfig with one context and no credentials, TLS unchecked (/version is public)."""
    import yaml

    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": context,
                "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
                "users": [{"name": "u", "user": {}}],
                "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    return path
