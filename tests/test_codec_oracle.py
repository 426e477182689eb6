"""Oracle tests: Kubernetes' own serializer output (shared read-only test data)."""

import json
from pathlib import Path

import pytest
import yaml

from k8slearn.storage import codec

ORACLE = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "k8s-serialization"
TYPES = [
    "core.v1.ConfigMap",
    "core.v1.Secret",
    "core.v1.Service",
    "core.v1.Namespace",
    "coordination.k8s.io.v1.Lease",
]


def _oracle(name: str, ext: str) -> Path:
    path = ORACLE / f"{name}.{ext}"
    if not path.is_file():
        pytest.skip(f"shared oracle data not found at {path} (needs ../shared/testdata next to the repo)")
    return path


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("K8SLEARN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.mark.parametrize("name", TYPES)
def test_protobuf_decodes_to_exact_json(name):
    value = _oracle(name, "pb").read_bytes()
    want = json.loads(_oracle(name, "json").read_text())
    got = codec.decode(value)
    assert got.encoding == "protobuf"
    assert (got.api_version, got.kind) == (want["apiVersion"], want["kind"])
    assert got.raw_tree is None
    assert got.size == len(value)
    assert got.obj == want
    # Same key order as Go's encoding/json (struct order, not proto field numbers).
    assert json.dumps(got.obj) == json.dumps(want)


@pytest.mark.parametrize("name", TYPES)
def test_json_encodes_to_exact_protobuf(name):
    value = _oracle(name, "pb").read_bytes()
    want = json.loads(_oracle(name, "json").read_text())
    assert codec.encode(want) == value
    assert codec.encode(codec.decode(value).obj) == value


@pytest.mark.parametrize("name", TYPES)
def test_yaml_oracle_is_same_object(name):
    text = _oracle(name, "yaml").read_bytes()
    want = json.loads(_oracle(name, "json").read_text())
    d = codec.decode(text)
    assert d.encoding == "yaml"
    assert d.obj == want
    assert yaml.safe_load(codec.encode(want, "application/yaml")) == want


@pytest.mark.parametrize("name", TYPES)
def test_json_value_round_trip(name):
    want = json.loads(_oracle(name, "json").read_text())
    stored = codec.encode(want, "application/json")
    assert stored.endswith(b"\n") and b"\n" not in stored[:-1]
    d = codec.decode(stored)
    assert d.encoding == "json" and d.obj == want and d.kind == want["kind"]


def test_annotate_envelope_covers_configmap():
    value = _oracle("core.v1.ConfigMap", "pb").read_bytes()
    ranges = codec.annotate_envelope(value)
    assert ranges[0] == (0, 4, "magic 'k8s\\0'")
    labels = [label for _, _, label in ranges]
    assert "typeMeta.apiVersion = 'v1'" in labels
    assert "typeMeta.kind = 'ConfigMap'" in labels
    assert any(label.startswith("raw: the ConfigMap message") for label in labels)
    assert any(label.startswith("contentEncoding") for label in labels)
    assert any(label.startswith("contentType") for label in labels)
    # ranges are ordered, do not overlap, and end at the end of the value
    flat = sorted(ranges)
    for (s1, e1, _), (s2, _, _) in zip(flat, flat[1:]):
        assert s1 < e1 <= s2
    assert flat[-1][1] == len(value)
    dump = codec.hexdump(value, ranges)
    assert dump.splitlines()[0].startswith("00000000  6b 38 73 00")
    assert "typeMeta.kind = 'ConfigMap'" in dump
