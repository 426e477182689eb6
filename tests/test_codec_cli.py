"""The decode and encode verbs, called through the k8slearn command line's parser."""

import io
import json
import sys

import pytest

from k8slearn import cli
from k8slearn.storage import codec


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("K8SLEARN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


CM = {
    "kind": "ConfigMap",
    "apiVersion": "v1",
    "metadata": {"name": "c", "namespace": "default", "creationTimestamp": "2024-01-01T00:00:00Z"},
    "data": {"k": "v"},
}


class _Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def test_encode_then_decode_via_files(tmp_path, capsysbinary):
    src = tmp_path / "cm.json"
    src.write_text(json.dumps(CM))
    assert cli.main(["encode", str(src)]) == 0
    value = capsysbinary.readouterr().out
    assert value == codec.encode(CM)
    stored = tmp_path / "cm.bin"
    stored.write_bytes(value)
    assert cli.main(["decode", str(stored)]) == 0
    assert json.loads(capsysbinary.readouterr().out) == CM
    assert cli.main(["decode", str(stored), "-o", "yaml"]) == 0
    assert b"kind: ConfigMap" in capsysbinary.readouterr().out
    assert cli.main(["decode", str(stored), "-o", "raw"]) == 0
    assert b"typeMeta.kind = 'ConfigMap'" in capsysbinary.readouterr().out


def test_decode_from_stdin_and_media_types(monkeypatch, capsysbinary):
    monkeypatch.setattr(sys, "stdin", _Stdin(b"kind: ConfigMap\napiVersion: v1\n"))
    assert cli.main(["encode", "--media-type", "application/json"]) == 0
    assert capsysbinary.readouterr().out == b'{"kind":"ConfigMap","apiVersion":"v1"}\n'
    monkeypatch.setattr(sys, "stdin", _Stdin(b"k8s:enc:secretbox:v1:key2:\x00\x01"))
    assert cli.main(["decode"]) == 0
    shown = json.loads(capsysbinary.readouterr().out)
    assert shown == {"encrypted": True, "provider": "secretbox", "keyName": "key2", "size": 28}


def test_undecodable_input_gives_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\xff\x10garbage")
    assert cli.main(["decode", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("k8slearn: not a Kubernetes storage value") and err.count("\n") == 1
    assert cli.main(["decode", str(tmp_path / "missing.bin")]) == 1
    assert capsys.readouterr().err.startswith("k8slearn: cannot read")
    src = tmp_path / "x.json"
    src.write_text('{"kind": "Widget", "apiVersion": "example.com/v1"}')
    assert cli.main(["encode", str(src)]) == 1
    assert "no protobuf type" in capsys.readouterr().err
    src.write_text("[1, 2]")
    assert cli.main(["encode", str(src)]) == 1
    assert capsys.readouterr().err.startswith("k8slearn: the input is json but not an object")


def test_decode_accepts_what_etcdctl_prints(tmp_path, capsys):
    # `etcdctl get KEY --print-value-only` adds a newline after the value
    stored = codec.encode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}})
    printed = tmp_path / "etcdctl-output.bin"
    printed.write_bytes(stored + b"\n")
    assert cli.main(["decode", str(printed)]) == 0
    assert json.loads(capsys.readouterr().out)["data"] == {"k": "v"}
    printed.write_bytes(b"k8s\x00\x12\xff\xff" + b"\n")  # damaged: still a clear one-line error
    assert cli.main(["decode", str(printed)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("k8slearn: ") and err.count("\n") == 1
