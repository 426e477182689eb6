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


def _one_line_error(capsys, start: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith(f"k8slearn: {start}"), err
    assert err.count("\n") == 1, err
    return err


def test_inputs_that_are_not_objects_fail_with_one_line(tmp_path, capsys):
    cases = {
        b"k8s\x00": "the protobuf envelope names no kind",
        b"[1, 2]": "the value is a JSON list, not an object",
        b'{"kind": "ConfigMap", "n": NaN}': "looks like JSON but is not valid JSON: NaN is not JSON",
        b"[" * 2000 + b"]" * 2000: "looks like JSON but is not valid JSON: nested more than",
        b"kind: x\na: &x [*x]\n": "the value expands to more than",
    }
    for value, start in cases.items():
        f = tmp_path / "v.bin"
        f.write_bytes(value)
        assert cli.main(["decode", str(f)]) == 1
        _one_line_error(capsys, start)


def test_a_300_byte_alias_bomb_is_refused(tmp_path, capsys):
    lines = ["kind: x", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 8)]
    bomb = ("\n".join(lines) + "\n").encode()
    assert len(bomb) < 450  # 9^8 = 43 million strings once expanded
    f = tmp_path / "bomb.yaml"
    f.write_bytes(bomb)
    assert cli.main(["decode", str(f), "-o", "yaml"]) == 1
    _one_line_error(capsys, "the value expands to more than")
    assert cli.main(["encode", str(f)]) == 1
    _one_line_error(capsys, "invalid YAML: the value expands to more than")


def test_inputs_larger_than_etcd_holds_are_refused(tmp_path, capsys, monkeypatch):
    from k8slearn.storage.codec.detect import MAX_VALUE_BYTES

    big = tmp_path / "big.json"
    big.write_bytes(b'{"kind": "x", "pad": "' + b"x" * MAX_VALUE_BYTES + b'"}')
    assert cli.main(["decode", str(big)]) == 1
    err = _one_line_error(capsys, f"{big} is larger than etcd can hold ({MAX_VALUE_BYTES} bytes")
    assert "--max-bytes" in err
    assert cli.main(["decode", str(big), "--max-bytes", str(2 * MAX_VALUE_BYTES)]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "x"
    monkeypatch.setattr(sys, "stdin", _Stdin(b"y" * (MAX_VALUE_BYTES + 10)))
    assert cli.main(["encode"]) == 1
    _one_line_error(capsys, "the input is larger than etcd can hold")
    cm = json.dumps(dict(CM, data={"k": "v" * 100})).encode()
    monkeypatch.setattr(sys, "stdin", _Stdin(cm))
    assert cli.main(["encode", "--max-bytes", "50"]) == 1
    _one_line_error(capsys, "the input is larger than etcd can hold (50 bytes")
    monkeypatch.setattr(sys, "stdin", _Stdin(cm))
    assert cli.main(["encode", "--max-bytes", str(len(cm)), "--media-type", "application/json"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["k"] == "v" * 100


def test_encode_shows_where_yaml_and_json_are_wrong(tmp_path, capsys):
    src = tmp_path / "bad.yaml"
    src.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: indent\n")
    assert cli.main(["encode", str(src)]) == 1
    _one_line_error(capsys, "invalid YAML at line 5, column 7: mapping values are not allowed in this context")
    src.write_text('{"apiVersion": "v1",\n "kind": "ConfigMap",,}')
    assert cli.main(["encode", str(src)]) == 1
    _one_line_error(capsys, "invalid JSON at line 2, column 22: Expecting property name")
