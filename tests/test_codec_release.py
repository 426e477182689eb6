"""Every type of the pinned release: `schema fetch` from a loopback copy, then k8s.io/api's own
serialization test data (testdata/HEAD: `.pb` -> exactly `.json`, same key order, and back).

The loopback server serves the Go module cache's copies of k8s.io/api, apimachinery,
apiextensions-apiserver and kube-aggregator at v0.37.2, laid out like the default base URL
(``/kubernetes/<repo>/kubernetes-<version>/<path>``). Without the modules in the cache the
test downloads them with ``go mod download`` (the Go module proxy), or skips saying why.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import LIVE
from k8slearn import cli
from k8slearn.storage import codec
from k8slearn.storage.codec import schema

KUBERNETES = "1.37.2"
MODULES = {
    "api": "k8s.io/api@v0.37.2",
    "apimachinery": "k8s.io/apimachinery@v0.37.2",
    "apiextensions-apiserver": "k8s.io/apiextensions-apiserver@v0.37.2",
    "kube-aggregator": "k8s.io/kube-aggregator@v0.37.2",
}

# testdata/HEAD files that are not objects with a type of their own in the envelope:
# a watch event is a frame of a watch stream, serialized with an empty TypeMeta (its kind
# lives in the stream, k8s.io/apimachinery/pkg/apis/meta/v1/watch.go), and never stored.
NOT_OBJECTS = {"core.v1.WatchEvent": "a watch stream frame with an empty TypeMeta, never stored"}


def _module_dirs() -> dict[str, Path] | str:
    """repo -> module folder, or why they are not available."""
    gomodcache = os.environ.get("GOMODCACHE") or str(Path.home() / "go" / "pkg" / "mod")
    dirs = {repo: Path(gomodcache) / mod for repo, mod in MODULES.items()}
    if all(d.is_dir() for d in dirs.values()):
        return dirs
    go = shutil.which("go")
    if go is None:
        return f"the k8s.io modules at v0.37.2 are not in {gomodcache} and Go is not installed to download them"
    env = dict(os.environ, GOTOOLCHAIN="local", GOWORK="off", GOFLAGS="-mod=readonly")
    proc = subprocess.run(
        [go, "mod", "download", "-json", *MODULES.values()], capture_output=True, text=True, env=env, timeout=600
    )
    if proc.returncode != 0:
        return f"go mod download of the k8s.io modules failed: {(proc.stderr or proc.stdout).strip()[:200]}"
    found: dict[str, Path] = {}
    decoder = json.JSONDecoder()
    text, pos = proc.stdout, 0
    while pos < len(text.rstrip()):
        info, end = decoder.raw_decode(text, pos)
        pos = end + (len(text[end:]) - len(text[end:].lstrip()))
        for repo, mod in MODULES.items():
            if f"{info.get('Path')}@{info.get('Version')}" == mod and info.get("Dir"):
                found[repo] = Path(info["Dir"])
    if set(found) != set(MODULES):
        return "go mod download did not report every k8s.io module's folder"
    return found


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    dirs = _module_dirs()
    if isinstance(dirs, str):
        pytest.skip(dirs)
    return dirs


@pytest.fixture(scope="module")
def release_server(modules, tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    for repo, folder in modules.items():
        (root / "kubernetes" / repo).mkdir(parents=True)
        (root / "kubernetes" / repo / f"kubernetes-{KUBERNETES}").symlink_to(folder)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def fetched(release_server, tmp_path_factory):
    """The release schema, fetched as a learner would: `k8slearn schema fetch --base-url`."""
    schema.builtin()  # compiled (and kept) in the session's cache, which later tests look at
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("K8SLEARN_CACHE", str(tmp_path_factory.mktemp("cache")))
        assert cli.main(["schema", "fetch", "--kubernetes-version", KUBERNETES, "--base-url", release_server]) == 0
        yield schema.load(KUBERNETES)


def _testdata(modules) -> list[Path]:
    return sorted((modules["api"] / "testdata" / "HEAD").glob("*.pb"))


def test_fetch_takes_every_group_version(fetched, modules):
    info = json.loads((schema.cache_dir() / "schemas" / KUBERNETES / "fetched.json").read_text())
    assert info["index"] == "k8s.io/api/roundtrip_test.go"
    files = set(info["files"])
    # every k8s.io/api group version the release's round-trip test imports, alpha and beta too
    indexed = schema.index_roots((modules["api"] / "roundtrip_test.go").read_text())
    assert len(indexed) > 50
    assert {f"k8s.io/api/{path}" for _, path in indexed} <= files
    assert "k8s.io/api/resource/v1beta2/generated.proto" in files
    assert "k8s.io/api/admissionregistration/v1alpha1/generated.proto" in files
    assert "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1/generated.proto" in files
    assert "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1/generated.proto" in files


def test_every_type_decodes_to_exactly_its_json(fetched, modules):
    files = _testdata(modules)
    assert len(files) > 150, "k8s.io/api's testdata/HEAD should hold every served type"
    wrong: list[str] = []
    for pb in files:
        if pb.stem in NOT_OBJECTS:
            continue
        want_text = pb.with_suffix(".json").read_text()
        try:
            got = codec.decode(pb.read_bytes(), schema=fetched)
        except codec.DecodeError as e:
            wrong.append(f"{pb.stem}: {e}")
            continue
        # same values and the same key order as Go's encoding/json
        if got.raw_tree is not None or json.dumps(got.obj) != json.dumps(json.loads(want_text)):
            wrong.append(pb.stem)
    assert wrong == []


def test_every_type_encodes_to_exactly_its_pb(fetched, modules):
    wrong = []
    for pb in _testdata(modules):
        if pb.stem in NOT_OBJECTS:
            continue
        want = json.loads(pb.with_suffix(".json").read_text())
        if codec.encode(want, schema=fetched) != pb.read_bytes():
            wrong.append(pb.stem)
    assert wrong == []


def test_not_objects_are_what_we_say(fetched, modules):
    for stem in NOT_OBJECTS:
        value = (modules["api"] / "testdata" / "HEAD" / f"{stem}.pb").read_bytes()
        with pytest.raises(codec.DecodeError, match="names no kind"):
            codec.decode(value, schema=fetched)


def test_stored_pod_template_flattens_inline_fields(fetched, modules):
    """EphemeralContainerCommon (json:"", protobuf without name=) is inlined, as in Go."""
    pod = codec.decode((modules["api"] / "testdata" / "HEAD" / "core.v1.Pod.pb").read_bytes(), schema=fetched).obj
    eph = pod["spec"]["ephemeralContainers"][0]
    assert "ephemeralContainerCommon" not in eph
    assert list(eph)[:2] == ["name", "image"] and eph["targetContainerName"] == "targetContainerNameValue"


def test_decode_uses_the_newest_fetched_schema_by_default(fetched, modules, tmp_path, capsys):
    pb = modules["api"] / "testdata" / "HEAD" / "apps.v1.Deployment.pb"
    assert cli.main(["decode", "-v", str(pb)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == json.loads(pb.with_suffix(".json").read_text())
    assert err.strip() == f"k8slearn: decoded with schema kubernetes-{KUBERNETES}"
    assert codec.decode(pb.read_bytes()).obj == json.loads(out)


@LIVE
def test_every_value_a_real_kube_apiserver_stored_decodes_with_the_fetched_schema(fetched, live_etcd):
    """The suite's control plane runs the pinned release: with its fetched schema no stored
    protobuf value is of an unknown type, and each re-encodes byte for byte."""
    unknown, checked = [], 0
    for kv in live_etcd.iter_range(""):
        try:
            d = codec.decode(kv.value, schema=fetched)
        except codec.DecodeError as e:
            pytest.fail(f"{kv.key}: {e}")
        if d.encoding != "protobuf":
            continue
        checked += 1
        if d.raw_tree is not None:
            unknown.append(f"{kv.key} ({d.kind})")
        assert codec.encode(d.obj, schema=fetched) == kv.value, kv.key
    assert checked > 100 and unknown == []
