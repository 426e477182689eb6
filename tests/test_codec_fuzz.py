"""Robustness: random and mutated values only ever raise codec.DecodeError."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8slearn.storage import codec

ORACLE = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "k8s-serialization"

SAMPLE = {
    "kind": "ConfigMap",
    "apiVersion": "v1",
    "metadata": {
        "name": "c",
        "namespace": "default",
        "uid": "u",
        "creationTimestamp": "2024-01-01T00:00:00Z",
        "labels": {"a": "b"},
        "managedFields": [
            {
                "manager": "kubectl",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2024-01-01T00:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {"f:k": {}}},
            }
        ],
    },
    "data": {"k": "v"},
}

FUZZ = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("K8SLEARN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        codec.schema.builtin()  # compile once before the timed hypothesis examples
        yield


@pytest.fixture(scope="module")
def valid_values():
    values = [codec.encode(SAMPLE), codec.encode(SAMPLE, "application/json")]
    if ORACLE.is_dir():
        values += [p.read_bytes() for p in sorted(ORACLE.glob("*.pb"))]
    return values


def _check(value):
    try:
        d = codec.decode(value)
    except codec.DecodeError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert d.encoding in {"protobuf", "json", "yaml", "cbor", "text", "encrypted"}
    if d.encoding not in ("text", "encrypted"):
        json.loads(codec.to_json(d.obj))  # always writable as JSON (invalid UTF-8 as U+FFFD, like Go)


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes(data):
    _check(data)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_after_magic(data):
    _check(b"k8s\x00" + data)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_after_cbor_tag(data):
    _check(b"\xd9\xd9\xf7" + data)


@FUZZ
@given(st.text(max_size=200))
def test_random_text(text):
    _check(text.encode("utf-8"))
    _check(("kind: x\n" + text).encode("utf-8"))


@FUZZ
@given(st.data())
def test_bit_flips_and_truncations(valid_values, data):
    value = bytearray(data.draw(st.sampled_from(valid_values)))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(value) - 1))
        value[pos] ^= 1 << data.draw(st.integers(0, 7))
    cut = data.draw(st.integers(0, len(value)))
    _check(bytes(value[:cut]))
