"""`connect()` and the `Lab`: one object through which a notebook reaches everything.

    lab = k8slearn.connect(mode, notebook="02-resource-version")
    lab.api      the official kubernetes ApiClient (live cluster, or answered from a recording)
    lab.etcd     the cluster's etcd keyspace (live, or a real local etcd loaded from a recording)
    lab.sandbox  a fresh real local etcd that is yours to break
    lab.etcd_snapshot()  a snapshot file of the cluster's etcd (live) or the recorded one (replay)
    lab.source   where the data comes from (provenance)
    lab.cross_build(arch), lab.run_emulated(arch, program), lab.source_survey(arch)
                 measured on this machine (live), kept in the recording (record), read back (replay)

Notebook code is the same in every mode: only `connect` knows which one is in use.
Modes: "live" (the curriculum's local control plane or Kind cluster), "replay" (recordings in data/), "auto"
(live when the curriculum cluster answers, else replay; on Binder and in CI, replay
unless K8SLEARN_MODE says otherwise), and "record", used by `k8slearn record` only.
"""

from __future__ import annotations

import atexit
import contextlib
import html
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from k8slearn import __version__
from k8slearn.errors import FixtureMissing, K8sLearnError
from k8slearn.recording.layout import choose_recording

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

    from k8slearn.cluster.etcd import Etcd
    from k8slearn.cluster.live import Runtime
    from k8slearn.cluster.localetcd import LocalEtcd
    from k8slearn.storage.snapshot import Snapshot

MODES = ("auto", "live", "replay", "record")
RECORD_MIME = "application/vnd.k8slearn.recording.record+json"
REPLAY_HOST = "https://k8slearn-replay.invalid"

_F = TypeVar("_F", bound=Callable[[], object])


def resolve_mode(mode: str) -> tuple[str, str]:
    """The mode to use and why."""
    if mode not in MODES:
        raise K8sLearnError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    if mode != "auto":
        return mode, "asked for explicitly"
    forced = os.environ.get("K8SLEARN_MODE")
    if forced in ("live", "replay"):
        return forced, f"K8SLEARN_MODE={forced}"
    if forced:
        raise K8sLearnError(f"K8SLEARN_MODE={forced!r} is not a mode: set it to live or replay, or unset it")
    if os.environ.get("BINDER_REPO_URL") or os.environ.get("BINDER_SERVICE_HOST"):
        return "replay", "running on Binder (no cluster there)"
    if os.environ.get("CI"):
        return "replay", "running in CI (CI is set)"
    from k8slearn.cluster import live

    ctx, why = live.answers()
    return ("live", why) if ctx else ("replay", f"{why}; replaying recorded data")


# ------------------------------------------------------------------ helpers shown in notebooks


class ExpectedError:
    """Context manager: the block must raise one of `types`; the error is shown, not raised."""

    def __init__(self, types):
        self.types = types or (Exception,)
        self.error: BaseException | None = None

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if ev is None:
            raise AssertionError(f"expected {' or '.join(t.__name__ for t in self.types)}, but nothing was raised")
        if not isinstance(ev, self.types):
            return False
        self.error = ev
        print(f"Expected error: {describe_error(ev)}")
        return True

    @property
    def status(self) -> int | None:
        """The HTTP status of the caught error (None when it has none)."""
        return getattr(self.error, "status", None)

    @property
    def body(self) -> dict | None:
        """The caught error's JSON body (an API Status), or None."""
        try:
            return json.loads(getattr(self.error, "body", ""))
        except Exception:
            return None


def describe_error(e: BaseException) -> str:
    """A one-paragraph description of an error, with the API's Status message when there is one."""
    body = getattr(e, "body", None)
    if body:
        try:
            s = json.loads(body)
            return f"HTTP {getattr(e, 'status', '?')} {s.get('reason', '')}: {s.get('message', '')}"
        except (ValueError, TypeError):
            pass
    return f"{type(e).__name__}: {e}"


def get_raw(api: ApiClient, path: str, **params: Any) -> tuple[int, bytes]:
    """GET `path?params` through `api` (its TLS, credentials and, in replay, its transcript),
    unparsed: (HTTP status, body bytes). For what the typed API methods hide: a watch stream as
    sent, error Statuses, byte counts (uncompressed JSON is asked for, so they are the body's own).
    """
    from urllib.parse import urlencode

    url = api.configuration.host + path + (f"?{urlencode(params)}" if params else "")
    resp = api.call_api("GET", url, header_params={"Accept": "application/json", "Accept-Encoding": "identity"})
    return resp.status, resp.read()


def replayed_measure(file: Path | None, key: str) -> Any:
    """What record mode kept under ``key`` in a notebook's measured.json; a kept error is raised
    again as the same K8sLearnError subclass (QemuMissing, BuildFailed, ...)."""
    from k8slearn.errors import NotRecorded

    kept = json.loads(file.read_text()) if file is not None and file.is_file() else {}
    if key not in kept:
        raise NotRecorded(
            f"the recording holds no measurement {key!r} (recorded: {', '.join(sorted(kept)) or 'none'}); "
            "run the notebook live, or record it again with `k8slearn record`"
        )
    entry = kept[key]
    if "error" in entry:
        from k8slearn.cluster import binaries, crossbuild

        err = entry["error"]
        types: dict[str, type[K8sLearnError]] = {
            "QemuMissing": crossbuild.QemuMissing,
            "UnknownArch": crossbuild.UnknownArch,
            "BuildFailed": binaries.BuildFailed,
            "ToolchainMissing": binaries.ToolchainMissing,
        }
        raise types.get(err["type"], K8sLearnError)(err["message"], hint=err.get("hint"))
    return entry["value"]


class Lab:
    """Everything a notebook needs; see the module docstring."""

    def __init__(self, mode: str, reason: str, notebook: str):
        self.mode, self.reason, self.notebook = mode, reason, notebook
        self.source: dict = {}
        self.cluster: dict = {}
        self.api: ApiClient | None = None
        self.etcd: Etcd | None = None
        self.runtime: Runtime | None = None
        # what connect() and lab.sandbox() set up, undone last and in reverse order
        self._resources = contextlib.ExitStack()
        self._namespaces: list[str] = []
        self._cleanups: list = []
        self._recorded: dict = {}
        self._remembered: dict[str, list] = {}  # record: values kept by remember(); replay: read back
        self._measured_file: Path | None = None  # record: written to; replay: read from
        self._memo: dict[str, Any] = {}
        self._closed = False
        atexit.register(self.close)

    # -------------------------------------------------------------- display
    def banner(self) -> None:
        """Show which mode is in use and where the data comes from."""
        from IPython.display import display

        src = self.source
        runtimes = {
            "local": "the local control plane (real kube-apiserver, etcd, controller-manager, scheduler; kwok)",
            "kind": "a Kind cluster",
            "other": "a cluster you opted into",
        }
        rows = [
            ("Mode", f"<b>{self.mode}</b> — {html.escape(self.reason)}"),
            ("Data", html.escape(src.get("summary", ""))),
            ("Runtime", html.escape(runtimes.get(str(src.get("runtime")), str(src.get("runtime"))))),
            ("Kubernetes", html.escape(str(self.cluster.get("kubernetes_version", "?")))),
            ("etcd", html.escape(src.get("etcd", ""))),
            ("k8slearn", __version__),
        ]
        table = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{k}</th><td style='text-align:left'>{v}</td></tr>"
            for k, v in rows
        )
        text = "\n".join(f"{k:<11} {html.unescape(v).replace('<b>', '').replace('</b>', '')}" for k, v in rows)
        display(
            {
                "text/html": f"<div style='border:1px solid #888;padding:6px'><table>{table}</table></div>",
                "text/plain": text,
            },
            raw=True,
        )

    def record(self, name: str, value: Any) -> None:
        """Keep a key result so that tests can read it back from the executed notebook."""
        from IPython.display import display

        json.dumps(value)  # must be JSON-able
        self._recorded[name] = value
        display({RECORD_MIME: {name: value}, "text/plain": f"recorded {name} = {value!r}"}, raw=True)

    @staticmethod
    def expect_error(*types: type[BaseException]) -> ExpectedError:
        """`with lab.expect_error(ApiException) as caught: ...` — the block must fail."""
        return ExpectedError(types)

    # -------------------------------------------------------------- resources
    def sandbox(self, snapshot: str | os.PathLike | None = None) -> LocalEtcd:
        """A fresh, empty, real etcd on loopback (stopped by `lab.close()`): `.client()`, `.endpoint`.
        With `snapshot` (a snapshot file's path), it starts holding that snapshot's keyspace and history."""
        from k8slearn.cluster.localetcd import LocalEtcd, restore_snapshot

        s = restore_snapshot(snapshot, name="sandbox") if snapshot else LocalEtcd(name="sandbox").start()
        self._resources.callback(s.stop)
        return s

    def etcd_snapshot(self) -> Snapshot:
        """A snapshot of the cluster's etcd opened with k8slearn's reader (closed by `lab.close()`).

        Live: taken now through etcd's Maintenance/Snapshot stream (what `etcdctl snapshot save`
        does). Record: the same, and a redacted, compressed copy goes into the recording.
        Replay: the recorded one.
        """
        import shutil
        import tempfile

        from k8slearn.cluster.etcd import save_snapshot
        from k8slearn.recording import snapshot as recsnap
        from k8slearn.storage.snapshot import Snapshot

        tmp = Path(tempfile.mkdtemp(prefix="k8slearn-snapshot-"))
        self._resources.callback(shutil.rmtree, tmp, ignore_errors=True)
        if self.mode == "replay":
            path = recsnap.load(Path(self.source["notebook_dir"]), tmp)
        else:
            if self.etcd is None:
                raise K8sLearnError("this lab has no etcd client: it is closed, or connect() did not finish")
            from datetime import UTC, datetime

            taken = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            path = save_snapshot(self.etcd.client, tmp / "etcd-snapshot.db")
            if self.mode == "record":
                info = {
                    "provenance": "recorded",
                    "how": "etcd Maintenance/Snapshot stream (as `etcdctl snapshot save`), by lab.etcd_snapshot()",
                    "taken": taken,
                    "etcd_version": self.etcd.client.status().version,
                    "runtime": self.source.get("runtime"),
                    "kubernetes": self.cluster.get("kubernetes_version"),
                    "redaction": "k8slearn.recording.snapshot.redact_snapshot: Secret data outside k8slearn-* "
                    "namespaces replaced at every revision, unreachable pages zeroed, SHA-256 recomputed",
                }
                recsnap.store(path, Path(self.source["record_dir"]), info)
        snap = Snapshot(path)
        self._resources.callback(snap.close)
        return snap

    def namespace(self, name: str) -> str:
        """Create (if needed) a `k8slearn-` namespace for this notebook; deleted by `lab.close()`."""
        from kubernetes import client

        from k8slearn.cluster.live import guard_namespace

        guard_namespace(name)
        v1 = client.CoreV1Api(self.api)
        body = {"metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "k8slearn"}}}
        for _ in range(180):
            try:
                # a plain dict on purpose: the client sends it as written, and replay matches those bytes
                v1.create_namespace(body)  # type: ignore[arg-type]
                break
            except client.ApiException as e:
                if e.status != 409:
                    raise
            # it exists; if an earlier run's copy is still being deleted, wait until it is gone
            try:
                phase = getattr(v1.read_namespace(name).status, "phase", None)
            except client.ApiException as e:
                if e.status != 404:
                    raise
                phase = None
            if phase == "Active":
                break
            self.pause(1)
        else:
            raise K8sLearnError(
                f"namespace {name} is still being deleted after 3 minutes",
                "is kube-controller-manager running? `k8slearn cluster status`",
            )
        self._namespaces.append(name)
        return name

    def on_close(self, fn: _F) -> _F:
        """Run `fn()` at `lab.close()`, before namespaces are deleted (for cluster-scoped objects)."""
        self._cleanups.append(fn)
        return fn

    def restart_apiserver(self, **options: Any) -> None:
        """Restart kube-apiserver with other `local.Options` (e.g. ``storage_media_type=...``).

        Live and record mode, local runtime only; the options it found are restored at
        `lab.close()`, so the cluster is left as found. In replay it does nothing: what the
        restarted apiserver wrote is in the recording.
        """
        if self.mode == "replay":
            return
        if self.runtime is None or self.runtime.name != "local":
            raise K8sLearnError(
                "restarting kube-apiserver with other options needs the local runtime "
                "(`k8slearn cluster up --runtime local`), or mode='replay'"
            )
        from dataclasses import fields

        from k8slearn.cluster import local

        known = {f.name for f in fields(local.Options)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise K8sLearnError(f"unknown kube-apiserver option(s) {unknown}; known: {sorted(known)}")
        current = dict(local.require_state()["options"])
        if not hasattr(self, "_apiserver_options_found"):
            self._apiserver_options_found = dict(current)

            def restore() -> None:
                if local.require_state()["options"] != self._apiserver_options_found:
                    local.restart_apiserver(local.Options(**self._apiserver_options_found), log=lambda _: None)

            self.on_close(restore)
        local.restart_apiserver(local.Options(**{**current, **options}), log=lambda _: None)

    def get_raw(self, path: str, **params: Any) -> tuple[int, bytes]:
        """GET `path` with query `params` through the official client, unparsed: see `get_raw`."""
        if self.api is None:
            raise K8sLearnError("this lab has no API client: it is closed, or connect() did not finish")
        return get_raw(self.api, path, **params)

    def remember(self, name: str, fn: Callable[[], Any]) -> Any:
        """`fn()` live; in record mode also kept in the recording, and in replay read back from it
        (the n-th call with `name` gets the n-th value). For what is neither API nor etcd: a KMS
        plugin's log."""
        if self.mode == "replay":
            kept = self._remembered.get(name) or []
            if not kept:
                from k8slearn.errors import NotRecorded

                raise NotRecorded(f"the recording holds no (more) values for {name!r}; record this notebook again")
            return kept.pop(0)
        value = fn()
        if self.mode == "record":
            self._remembered.setdefault(name, []).append(json.loads(json.dumps(value)))
        return value

    def use_encryption(self, config: dict | None) -> None:
        """Restart kube-apiserver with this EncryptionConfiguration (None: decrypt every Secret and
        restore what was found); see k8slearn.lab.encryption. No restart in replay."""
        from k8slearn.lab import encryption

        encryption.use_encryption(self, config)

    def kms_plugin(self, name: str, keks: dict[str, bytes]):
        """Start the notebook's KMS v2 plugin (k8slearn.cluster.kmsplugin) beside kube-apiserver;
        stopped by `close()`. In replay its log comes from the recording."""
        from k8slearn.lab import encryption

        return encryption.kms_plugin(self, name, keks)

    def rewrite_secrets(self, namespace: str | None = None) -> list[dict]:
        """A no-op update of every Secret (of `namespace`): re-encrypts the stale ones."""
        from k8slearn.lab import encryption

        return encryption.rewrite_secrets(self, namespace)

    def timed(self, name: str, measure: Callable[[ApiClient], Any]) -> dict:
        """Run a timing measurement `measure(api)` (JSON-able result), the same in every mode.

        Live: measured now. Record: measured now on a client that bypasses the recorder (which
        would deliver each stream whole at its end), and kept in the recording's `timed.json`.
        Replay: the kept result. Returns {"value": ..., "source": "measured in this run" or
        "recorded <date> on <machine>"}, so a notebook can label what it shows."""
        import platform
        from datetime import UTC, datetime

        if self.mode == "replay":
            kept = self._timed_file()
            data = json.loads(kept.read_text()) if kept and kept.is_file() else {}
            if name not in data:
                raise FixtureMissing(
                    f"the recording holds no timing {name!r} for notebook {self.notebook!r}",
                    hint=f"re-record it with `k8slearn record {self.notebook}`",
                )
            entry = data[name]
            return {"value": entry["value"], "source": f"recorded {entry['when']} on {entry['machine']}"}
        if self.api is None:
            raise K8sLearnError("this lab has no API client: it is closed, or connect() did not finish")
        api = self.api
        if self.mode == "record":
            from k8slearn.recording.transcript import unrecorded_api_client

            api = unrecorded_api_client(self.api)
        load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
        value = measure(api)
        machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, load average {load[0]:.2f}"
        if self.mode == "record":
            kept = self._timed_file()
            assert kept is not None
            data = json.loads(kept.read_text()) if kept.is_file() else {}
            when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            data[name] = {"value": value, "when": when, "machine": machine}
            kept.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        return {"value": value, "source": f"measured in this run ({machine})"}

    def _timed_file(self) -> Path | None:
        if self.mode == "record":
            return Path(os.environ["K8SLEARN_RECORD_DIR"]) / "notebooks" / self.notebook / "timed.json"
        rec = self.source.get("recording")
        from k8slearn.recording.layout import recordings_dir

        return recordings_dir() / rec / "notebooks" / self.notebook / "timed.json" if rec else None

    def pause(self, seconds: float) -> None:
        """Wait for a live cluster to catch up (a no-op in replay, where the answers are recorded)."""
        import time

        if self.mode != "replay":
            time.sleep(seconds)

    # -------------------------------------------------------------- measured on this machine
    def _measure(self, key: str, compute: Callable[[], Any]) -> Any:
        """Live: ``compute()``. Record: the same, kept under ``key`` in the notebook's
        measured.json (errors k8slearn raises on purpose too). Replay: what was kept. Asked
        again in the same Lab (an exercise's check, say), the first answer is returned."""
        if key in self._memo:
            return self._memo[key]
        if self.mode == "replay":
            value = replayed_measure(self._measured_file, key)
        else:
            try:
                value = compute()
            except K8sLearnError as e:
                self._keep(key, {"error": {"type": type(e).__name__, "message": str(e), "hint": e.hint}})
                raise
            self._keep(key, {"value": value})
        self._memo[key] = value
        return value

    def _keep(self, key: str, entry: dict) -> None:
        if self.mode != "record" or self._measured_file is None:
            return
        f = self._measured_file
        kept = json.loads(f.read_text()) if f.is_file() else {}
        kept[key] = entry
        f.write_text(json.dumps(kept, indent=1, sort_keys=True) + "\n")

    def cross_build(self, arch: str, programs: tuple[str, ...] = ("kube-apiserver", "etcd")) -> dict:
        """Build ``programs`` for linux/``arch`` with Go (once; then a timed rebuild from Go's
        build cache) and read their ELF headers: `k8slearn.cluster.crossbuild.report`.

        Record mode does not start a first build (it takes minutes, longer than a recorded cell
        may run): what `k8slearn arch build` has not built is recorded as missing, and said so."""
        from k8slearn.cluster import crossbuild

        return self._measure(
            f"cross_build {arch} {' '.join(programs)}",
            lambda: crossbuild.report(arch, list(programs), build_missing=self.mode != "record"),
        )

    def run_emulated(
        self, arch: str, program: str, args: tuple[str, ...] = ("--version",), env: dict | None = None
    ) -> dict:
        """Run the linux/``arch`` build of ``program`` under qemu-user, timed beside the native
        build; QemuMissing (saying what to install) when the emulator is absent."""
        from k8slearn.cluster import crossbuild

        env = dict(env or {})
        key = f"run_emulated {arch} {program} {' '.join(args)}" + "".join(f" {k}={v}" for k, v in sorted(env.items()))
        return self._measure(key, lambda: crossbuild.run_emulated(arch, program, args, env=env))

    def source_survey(self, arch: str, program: str = "kube-apiserver") -> dict:
        """What in ``program``'s source depends on the architecture (assembly, per-arch files, cgo),
        asked of `go list`: `k8slearn.cluster.crossbuild.source_survey`."""
        from k8slearn.cluster import crossbuild

        return self._measure(f"source_survey {arch} {program}", lambda: crossbuild.source_survey(arch, program))

    def close(self) -> None:
        """Clean up: delete this notebook's objects, write recordings, stop local etcds."""
        if self._closed:
            return
        self._closed = True
        for fn in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                fn()
        if self.api is not None and self._namespaces:
            from kubernetes import client

            for ns in self._namespaces:
                with contextlib.suppress(Exception):
                    client.CoreV1Api(self.api).delete_namespace(ns)
        self._resources.close()


# ------------------------------------------------------------------ the three ways to build a Lab


def _replay(lab: Lab):
    from k8slearn.cluster import etcd as etcdmod
    from k8slearn.cluster.localetcd import LocalEtcd, etcd_version
    from k8slearn.recording import etcdlog, transcript

    rec = choose_recording()
    nb = rec / "notebooks" / lab.notebook
    if not nb.is_dir():
        raise FixtureMissing(
            f"the recording {rec.name!r} holds nothing for notebook {lab.notebook!r}; "
            f"record it with `k8slearn record {lab.notebook}`"
        )

    # A notebook recorded alone (`k8slearn record NAME`) carries its own run's base, cluster
    # facts and provenance; the others share the recording's.
    def own(name: str) -> Path:
        return nb / name if (nb / name).is_file() else rec / name

    prov = yaml.safe_load(own("provenance.yaml").read_text())
    lab.cluster = yaml.safe_load(own("cluster.yaml").read_text()) if own("cluster.yaml").is_file() else {}
    server = LocalEtcd(name="replay").start()
    lab._resources.callback(server.stop)
    client = server.client()
    base = etcdlog.read_ops(own("base.jsonl"))
    mine = etcdlog.read_ops(nb / "etcd.jsonl")
    final = etcdlog.apply_ops(client, base + mine)
    reads = json.loads((nb / "reads.json").read_text()) if (nb / "reads.json").is_file() else []
    if (nb / "values.json").is_file():
        lab._remembered = json.loads((nb / "values.json").read_text())
    lab.etcd = etcdmod.Etcd(
        client,
        prefix=lab.cluster.get("etcd_prefix", "/registry"),
        pins=etcdmod.ReadPins("replay", reads),
        label="replayed",
    )
    lab._measured_file = nb / "measured.json"
    cas = transcript.cassette(nb / "api.yaml", record=False)
    lab._resources.enter_context(cas)
    lab.api = transcript.replay_api_client(REPLAY_HOST, lab.notebook)
    lab.source = dict(
        prov,
        recording=rec.name,
        summary=f"{prov.get('provenance')} recording {rec.name!r}: {prov.get('summary', '')}",
        etcd=f"local etcd {etcd_version(server.binary)} on loopback, loaded with "
        f"{len(base) + len(mine)} recorded writes (revision {final})",
        notebook_dir=str(nb),
    )


def _live(lab: Lab):
    from k8slearn.cluster import etcd as etcdmod
    from k8slearn.cluster import live

    rt = live.runtime()
    lab.runtime = rt
    lab.api = rt.api_client()
    lab.cluster = rt.facts(lab.api)
    lab.etcd = etcdmod.Etcd(rt.etcd_client(), prefix=lab.cluster.get("etcd_prefix", "/registry"), label=rt.name)
    lab.source = {
        "provenance": "live",
        "runtime": rt.name,
        "summary": f"live: {rt.describe()}",
        "etcd": rt.etcd_description(),
    }


def _record(lab: Lab):
    """Record mode (`k8slearn record` only): run live and write what the cluster answered into
    $K8SLEARN_RECORD_DIR, which `record.run_notebook` sets for the notebook's kernel."""
    from k8slearn.cluster import etcd as etcdmod
    from k8slearn.cluster import live
    from k8slearn.recording import etcdlog, transcript

    folder = Path(os.environ["K8SLEARN_RECORD_DIR"])
    out = folder / "notebooks" / lab.notebook
    out.mkdir(parents=True, exist_ok=True)
    rt = live.runtime()
    lab.runtime = rt
    lab.cluster = yaml.safe_load((folder / "cluster.yaml").read_text())
    api = rt.api_client()
    etcd_client = rt.etcd_client()
    pins = etcdmod.ReadPins("record")
    start = etcdmod.current_revision(etcd_client)
    ops = etcdlog.OpsRecorder(etcd_client, start + 1)
    lab._measured_file = out / "measured.json"
    lab._measured_file.unlink(missing_ok=True)
    cas = transcript.cassette(out / "api.yaml", record=True)
    cas.__enter__()

    def finish():
        end = etcdmod.current_revision(etcd_client)
        cas.__exit__(None, None, None)
        if not (out / "api.yaml").is_file():  # vcrpy writes nothing when no request was made
            (out / "api.yaml").write_text("interactions: []\nversion: 1\n")
        etcdlog.write_ops(out / "etcd.jsonl", ops.stop(end))
        (out / "reads.json").write_text(json.dumps(pins.revisions) + "\n")
        if lab._remembered:
            (out / "values.json").write_text(json.dumps(lab._remembered, indent=1) + "\n")

    lab._resources.callback(finish)
    lab.api = api
    lab.etcd = etcdmod.Etcd(
        etcd_client, prefix=lab.cluster.get("etcd_prefix", "/registry"), pins=pins, label="recording"
    )
    lab.source = {
        "provenance": "recording",
        "runtime": rt.name,
        "summary": f"recording {rt.describe()} into {out}",
        "etcd": rt.etcd_description(),
        "record_dir": str(out),
    }


def connect(mode: str = "auto", notebook: str | None = None) -> Lab:
    """Build the notebook's Lab in the given mode ("auto", "live", "replay")."""
    notebook = notebook or "scratch"
    chosen, reason = resolve_mode(mode)
    lab = Lab(chosen, reason, notebook)
    try:
        {"live": _live, "replay": _replay, "record": _record}[chosen](lab)
    except K8sLearnError as e:
        lab.close()
        if not (mode == "auto" and chosen == "live"):
            raise
        # auto chose live because a cluster answered /version, but the rest of live mode
        # (etcd access, say) could not be set up: replay, and say why
        lab = Lab("replay", f"{reason}, but live mode could not start ({e}); replaying recorded data", notebook)
        try:
            _replay(lab)
        except BaseException:
            lab.close()
            raise
    except BaseException:
        lab.close()
        raise
    # the codec decodes with the cluster's own release schema when it has been fetched
    from k8slearn.storage.codec import schema

    schema.prefer(str(lab.cluster.get("kubernetes_version") or "") or None)
    return lab
