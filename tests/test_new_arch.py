"""Notebook 06's machinery: platform lists, image indexes, ELF headers, cross-builds, qemu-user.

The tests on real cross-built programs need `make cross` (or `k8slearn arch build`) and, for the
emulated runs, qemu-user (`make qemu`); they skip, saying why, without them — except in CI
(K8SLEARN_REQUIRE_LIVE=1), where .ci/run builds both and a skip is a failure.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from k8slearn.cluster import binaries, crossbuild, platforms
from k8slearn.errors import K8sLearnError, NotRecorded

OLD_STYLE = """
if [[ -n "${KUBE_FASTBUILD:-}" ]]; then
  readonly KUBE_SERVER_PLATFORMS=(linux/amd64)
else
  readonly KUBE_SERVER_PLATFORMS=(
    linux/amd64
    linux/arm   # 32-bit
    linux/arm64
  )
  readonly KUBE_CLIENT_PLATFORMS=(linux/amd64 darwin/amd64)
fi
"""
NEW_STYLE = """
readonly KUBE_SUPPORTED_SERVER_PLATFORMS=(
  linux/amd64
  linux/arm64
  linux/s390x
  linux/ppc64le
)
"""


def test_server_platforms_takes_the_release_list_not_the_fast_build_one():
    got = platforms.server_platforms(OLD_STYLE)
    assert got["server"] == ["linux/amd64", "linux/arm", "linux/arm64"]
    assert got["client"] == ["linux/amd64", "darwin/amd64"]
    assert platforms.server_platforms(NEW_STYLE)["server"] == [
        "linux/amd64",
        "linux/arm64",
        "linux/s390x",
        "linux/ppc64le",
    ]
    assert platforms.server_platforms("echo nothing here") == {}


def test_release_data_file_has_provenance_and_the_pinned_release():
    data = platforms.release_platforms()
    prov = data["provenance"]
    for field in ("how", "source", "extracted", "go"):
        assert prov.get(field), f"provenance lacks {field}"
    rel = data["releases"]
    assert rel["v1.37.2"]["server"] == ["linux/amd64", "linux/arm64", "linux/s390x", "linux/ppc64le"]
    assert len(rel) >= 20
    assert not any("riscv64" in p or "loong64" in p for r in rel.values() for ps in r.values() for p in ps)


def test_pinned_release_list_matches_the_module_cache_when_present():
    """The data file's v1.37.2 row against hack/lib/golang.sh in the module cache (if it is there)."""
    gomodcache = os.popen("go env GOMODCACHE 2>/dev/null").read().strip() if shutil.which("go") else ""
    f = os.path.join(gomodcache, "k8s.io", "kubernetes@v1.37.2", "hack", "lib", "golang.sh")
    if not os.path.isfile(f):
        pytest.skip("k8s.io/kubernetes@v1.37.2 is not in the Go module cache (make cluster downloads it)")
    row = platforms.release_platforms()["releases"]["v1.37.2"]
    assert platforms.server_platforms(open(f).read()) == {k: row[k] for k in platforms.server_platforms(open(f).read())}


def test_release_data_was_read_from_the_module_go_sum_pins():
    """The v1.37.2 module zip the data file was read from is the one controlplane/kubernetes/go.sum pins."""
    gosum = (binaries.MODULES / "kubernetes" / "go.sum").read_text()
    pinned = [line.split()[2] for line in gosum.splitlines() if line.startswith("k8s.io/kubernetes v1.37.2 ")]
    assert platforms.release_platforms()["releases"]["v1.37.2"]["module_sum"] == pinned[0]


def test_index_platforms_and_pick():
    from k8slearn.recording.layout import data_dir

    index = json.loads((data_dir() / "platforms" / "oci-image-index.example.json").read_text())
    assert "ILLUSTRATIVE" in index["annotations"]["org.k8slearn.note"]
    rows = platforms.index_platforms(index)
    assert [r["architecture"] for r in rows] == ["amd64", "arm64", "s390x", "ppc64le"]
    assert platforms.pick(index, "linux", "arm64")["digest"].startswith("sha256:")
    assert platforms.pick(index, "linux", "riscv64") is None
    # a Docker manifest list is an index too; a plain manifest is not
    docker = {"schemaVersion": 2, "mediaType": platforms.DOCKER_LIST, "manifests": index["manifests"]}
    assert len(platforms.index_platforms(docker)) == 4
    with pytest.raises(K8sLearnError, match="not an image index"):
        platforms.index_platforms({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"})
    with pytest.raises(K8sLearnError, match="no manifests"):
        platforms.index_platforms({"schemaVersion": 2})


def test_illustrative_digests_hash_the_text_they_name():
    import hashlib

    from k8slearn.recording.layout import data_dir

    index = json.loads((data_dir() / "platforms" / "oci-image-index.example.json").read_text())
    for m in index["manifests"]:
        text = m["annotations"]["org.k8slearn.digest-of"].encode()
        assert m["digest"] == "sha256:" + hashlib.sha256(text).hexdigest() and m["size"] == len(text)


def test_unknown_arch_and_missing_qemu_are_one_line_errors(monkeypatch):
    with pytest.raises(crossbuild.UnknownArch, match="unknown architecture 'sparc'"):
        crossbuild.arch("sparc")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(crossbuild.QemuMissing) as caught:
        crossbuild.require_qemu("loong64")
    assert "qemu-loongarch64 is not installed" in str(caught.value) and "make qemu" in caught.value.hint
    assert "\n" not in str(caught.value)


def test_cli_says_what_is_missing(monkeypatch, tmp_path, capsys):
    from k8slearn.cli import main

    monkeypatch.setenv("K8SLEARN_CROSS_DIR", str(tmp_path))
    assert main(["arch", "inspect", "riscv64"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("k8slearn: kube-apiserver is not built for linux/riscv64") and "Traceback" not in err
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["arch", "build", "riscv64"]) == 1
    assert "Go is not installed" in capsys.readouterr().err


def test_replayed_measure(tmp_path):
    from k8slearn.lab import replayed_measure

    f = tmp_path / "measured.json"
    f.write_text(
        json.dumps(
            {
                "ok": {"value": {"a": 1}},
                "qemu": {
                    "error": {"type": "QemuMissing", "message": "qemu-riscv64 is not installed", "hint": "make qemu"}
                },
            }
        )
    )
    assert replayed_measure(f, "ok") == {"a": 1}
    with pytest.raises(crossbuild.QemuMissing, match="qemu-riscv64") as caught:
        replayed_measure(f, "qemu")
    assert caught.value.hint == "make qemu"
    with pytest.raises(NotRecorded, match="no measurement 'other'"):
        replayed_measure(f, "other")
    with pytest.raises(NotRecorded):
        replayed_measure(None, "ok")


def test_committed_recording_holds_notebook_06_measurements():
    """What replay shows came from a real run: two foreign architectures built, read and emulated."""
    from k8slearn.recording.layout import choose_recording

    f = choose_recording() / "notebooks" / "06-new-architectures" / "measured.json"
    kept = json.loads(f.read_text())
    for arch, em in (("riscv64", 243), ("loong64", 258)):
        b = kept[f"cross_build {arch} kube-apiserver etcd"]["value"]
        assert b["binaries"], f"nothing was built for {arch} in the recorded run"
        for info in b["binaries"].values():
            assert info["elf"]["machine"] == crossbuild.ARCHES[arch].elf_machine
            assert int.from_bytes(bytes.fromhex(info["elf"]["header_hex"])[18:20], "little") == em
            assert info["buildinfo"]["GOARCH"] == arch and info["buildinfo"]["CGO_ENABLED"] == "0"
        if "kube-apiserver" in b["binaries"]:
            run = kept[f"run_emulated {arch} kube-apiserver --version"]["value"]
            assert run["emulated"]["output"] == "Kubernetes v1.37.2"
        if "etcd" in b["binaries"]:
            refused = kept[f"run_emulated {arch} etcd --version"]["value"]
            assert refused["emulated"]["returncode"] == 1 and refused["qemu"].startswith("qemu-")
            allowed = kept[f"run_emulated {arch} etcd --version ETCD_UNSUPPORTED_ARCH={arch}"]["value"]
            assert allowed["emulated"]["returncode"] == 0 and f"linux/{arch}" in allowed["emulated"]["output"]
    text = f.read_text()
    for private in ("/root/", "/home/", "/work/", "/tmp/"):
        assert private not in text


# ------------------------------------------------------------------ on the real cross-built programs


def _need(arch: str, program: str = "kube-apiserver"):
    why = None
    if not (crossbuild.target_dir(binaries.PROGRAMS[program], arch) / program).is_file():
        why = f"{program} is not cross-built for linux/{arch}: run `make cross`"
    elif binaries.find(program) is None:
        why = f"the native {program} is not built: run `make cluster`"
    if why:
        if os.environ.get("K8SLEARN_REQUIRE_LIVE") == "1":
            pytest.fail(f"K8SLEARN_REQUIRE_LIVE=1 but {why}")
        pytest.skip(why)


ARCH_PROGRAM = [(a, p) for a in crossbuild.DEFAULT_ARCHES for p in crossbuild.PROGRAMS]


@pytest.mark.parametrize(("arch", "program"), ARCH_PROGRAM)
def test_cross_built_elf_headers(arch, program):
    _need(arch, program)
    e = crossbuild.elf_facts(crossbuild.program_path(arch, program))
    assert e["machine"] == crossbuild.ARCHES[arch].elf_machine
    assert e["class"] == "ELFCLASS64" and e["data"] == "ELFDATA2LSB" and e["static"]
    native = crossbuild.elf_facts(crossbuild.program_path(crossbuild.native(), program))
    assert native["machine"] != e["machine"]
    settings = crossbuild.go_buildinfo(crossbuild.program_path(arch, program))
    assert settings["GOARCH"] == arch and settings["CGO_ENABLED"] == "0"


def _need_qemu(arch):
    if crossbuild.qemu_path(arch) is None:
        if os.environ.get("K8SLEARN_REQUIRE_LIVE") == "1":
            pytest.fail(f"K8SLEARN_REQUIRE_LIVE=1 but qemu-{crossbuild.ARCHES[arch].qemu} is missing: make qemu")
        pytest.skip(f"qemu-{crossbuild.ARCHES[arch].qemu} is not installed: make qemu")


@pytest.mark.parametrize("arch", crossbuild.DEFAULT_ARCHES)
def test_emulated_kube_apiserver(arch):
    _need(arch, "kube-apiserver")
    _need_qemu(arch)
    api = crossbuild.run_emulated(arch, "kube-apiserver", repeat=1)
    assert api["emulated"]["returncode"] == 0 and api["emulated"]["output"] == "Kubernetes v1.37.2"


@pytest.mark.parametrize("arch", crossbuild.DEFAULT_ARCHES)
def test_emulated_etcd_refuses_then_runs(arch):
    _need(arch, "etcd")
    _need_qemu(arch)
    refused = crossbuild.run_emulated(arch, "etcd", repeat=1)
    assert refused["emulated"]["returncode"] == 1
    assert "unsupported architecture" in refused["emulated"]["output"]
    assert refused["native"]["returncode"] == 0
    allowed = crossbuild.run_emulated(arch, "etcd", env={"ETCD_UNSUPPORTED_ARCH": arch}, repeat=1)
    assert allowed["emulated"]["returncode"] == 0 and "etcd Version: 3.7.0" in allowed["emulated"]["output"]
    assert f"Go OS/Arch: linux/{arch}" in allowed["emulated"]["output"]


def test_notebook_06_is_in_the_series():
    from conftest import NOTEBOOKS

    assert (NOTEBOOKS / "06-new-architectures.ipynb").is_file()


def test_lab_keeps_measurements_in_record_mode_and_replays_them(tmp_path):
    """One call, three modes: record computes and keeps (errors too), replay gives back the same."""
    from k8slearn.lab import Lab

    f = tmp_path / "measured.json"
    rec = Lab("record", "test", "06-new-architectures")
    rec._measured_file = f
    calls = []
    assert rec._measure("m", lambda: calls.append(1) or {"seconds": 1.5}) == {"seconds": 1.5}
    assert rec._measure("m", lambda: calls.append(1) or {"seconds": 9}) == {"seconds": 1.5}, "asked again: same answer"
    assert calls == [1]

    def missing():
        raise crossbuild.QemuMissing("qemu-riscv64 is not installed", hint="make qemu")

    with pytest.raises(crossbuild.QemuMissing):
        rec._measure("q", missing)
    rec.close()
    play = Lab("replay", "test", "06-new-architectures")
    play._measured_file = f
    assert play._measure("m", lambda: pytest.fail("replay never computes")) == {"seconds": 1.5}
    with pytest.raises(crossbuild.QemuMissing, match="qemu-riscv64"):
        play._measure("q", lambda: pytest.fail("replay never computes"))
    live = Lab("live", "test", "06-new-architectures")
    assert live._measure("m", lambda: 7) == 7 and not (tmp_path / "other.json").exists()
    play.close()
    live.close()
