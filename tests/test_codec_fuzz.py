"""Robustness: random and mutated inputs only ever give an object or one DecodeError line
(EncodeError for `encode`), within the size limit.

The seeds are real: every value of the recording's etcd keyspace (data/recordings/*/base.jsonl
and each notebook's etcd.jsonl), plus the shared oracle values when ../shared is present.

Short run (make test): 300 examples per target, derandomized (the same inputs every run).
Long run (make fuzz): ``K8SLEARN_FUZZ_INPUTS=100000`` spreads 10^5 inputs over the six
open-ended targets, with a random seed that hypothesis prints when it finds something.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8slearn.storage import codec
from k8slearn.storage.codec.detect import MAX_VALUE_BYTES, parse_object

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT.parent / "shared" / "testdata" / "k8s-serialization"
OPEN_ENDED_TARGETS = 6  # every target below but test_yaml_aliases, whose 264 cases all run
LONG = "K8SLEARN_FUZZ_INPUTS" in os.environ
PER_TARGET = max(1, int(os.environ.get("K8SLEARN_FUZZ_INPUTS", 300 * OPEN_ENDED_TARGETS)) // OPEN_ENDED_TARGETS)
FUZZ = settings(
    max_examples=PER_TARGET,
    deadline=None,
    derandomize=not LONG,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def _recorded_values() -> list[bytes]:
    values: list[bytes] = []
    for path in sorted((ROOT / "data" / "recordings").glob("*/**/*.jsonl")):
        for line in path.read_text().splitlines():
            op = json.loads(line) if line.strip() else {}
            if op.get("b64"):
                values.append(base64.b64decode(op["b64"]))
    return values


SEEDS = _recorded_values()
if ORACLE.is_dir():
    SEEDS += [p.read_bytes() for p in sorted(ORACLE.glob("*.pb"))]
    SEEDS += [p.read_bytes() for p in sorted(ORACLE.glob("*.json"))]


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("K8SLEARN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        codec.schema.builtin.cache_clear()
        codec.schema.builtin()  # compile once before the hypothesis examples
        yield
    codec.schema.builtin.cache_clear()


def test_seeds_are_the_recordings_values():
    assert len(SEEDS) > 200
    kinds = {codec.decode(v).kind for v in SEEDS[:200] if not v.startswith(b"k8s:enc:")}
    assert {"Namespace", "ConfigMap", "ClusterRole"} <= kinds


def _check(value: bytes) -> None:
    try:
        d = codec.decode(value)
    except codec.DecodeError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert d.encoding in {"protobuf", "json", "yaml", "cbor", "text", "encrypted"}
    if d.encoding in ("protobuf", "json", "yaml", "cbor"):
        assert isinstance(d.obj, dict)
        # valid JSON, writable as UTF-8: no NaN; invalid UTF-8 and lone surrogates as U+FFFD, like Go
        json.loads(codec.to_json(d.obj).encode("utf-8"))
        try:  # and encodable again, or one EncodeError
            codec.encode(d.obj, "application/json")
            codec.encode(d.obj)
        except codec.EncodeError as e:
            assert "\n" not in str(e)


def _check_encode_input(data: bytes) -> None:
    try:
        _, obj = parse_object(data)
    except codec.EncodeError as e:
        assert str(e) and "\n" not in str(e)
        return
    for media in codec.detect.MEDIA_TYPES:
        try:
            codec.encode(obj, media)
        except codec.EncodeError as e:
            assert "\n" not in str(e)


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
    _check_encode_input(text.encode("utf-8"))


@FUZZ
@given(st.data())
def test_mutated_recorded_values(data):
    """Bit flips, byte overwrites, insertions, truncations and splices of real stored values."""
    value = bytearray(data.draw(st.sampled_from(SEEDS)))
    for _ in range(data.draw(st.integers(1, 6))):
        how = data.draw(st.sampled_from(["flip", "byte", "insert", "delete", "splice"]))
        pos = data.draw(st.integers(0, max(0, len(value) - 1)))
        if how == "flip" and value:
            value[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "byte" and value:
            value[pos] = data.draw(st.sampled_from([0x00, 0x80, 0xFF, 0xC3, 0xED, 0x7F, 0x0A]))
        elif how == "insert":
            value[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        elif how == "delete":
            del value[pos : pos + data.draw(st.integers(1, 8))]
        else:
            other = data.draw(st.sampled_from(SEEDS))
            start = data.draw(st.integers(0, len(other)))
            value[pos:] = other[start:]
    _check(bytes(value))


JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@FUZZ
@given(JSON_VALUES, st.sampled_from(["json", "yaml"]), st.integers(0, 1200))
def test_structured_json_and_yaml(value, form, depth):
    """Objects with NaN and infinities, any shape, under deep nesting, as JSON and YAML."""
    import yaml

    obj = {"apiVersion": "v1", "kind": "ConfigMap", "data": value}
    if form == "json":
        text = json.dumps(obj)  # writes NaN/Infinity, which Go refuses
        deep = "[" * depth + "1" + "]" * depth
    else:
        text = yaml.safe_dump(obj)
        deep = "[" * depth + "1" + "]" * depth
    for candidate in (
        text,
        text.replace('"data"', f'"deep": {deep}, "data"', 1) if form == "json" else text + f"deep: {deep}\n",
    ):
        raw = candidate.encode("utf-8")
        _check(raw)
        _check_encode_input(raw)


@FUZZ
@given(st.integers(1, 12), st.integers(2, 12), st.booleans())
def test_yaml_aliases(levels, fanout, self_reference):
    """Billion-laughs expansions and aliases that refer to themselves."""
    lines = ["kind: x", "a0: &a0 [lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fanout) + "]")
    if self_reference:
        lines.append("me: &me [*me]")
    raw = ("\n".join(lines) + "\n").encode()
    _check(raw)
    _check_encode_input(raw)


def test_known_crashers():
    """The inputs a 10^5-input fuzz run found raising something else, now one error line."""
    cm = codec.schema.builtin().find("v1", "ConfigMap")()
    cm.data["ok"] = "1"
    cm.data["zz"] = "2"
    raw = cm.SerializeToString().replace(b"zz", b"\xff\xfe")
    d = codec.decode(codec.detect.build_envelope("v1", "ConfigMap", raw))
    assert d.obj["data"] == {"ok": "1", "\ufffd\ufffd": "2"}  # Go writes U+FFFD for invalid bytes
    # a kind with a line break (a mutated envelope): the error quoting it is still one line
    with pytest.raises(codec.EncodeError) as e:
        codec.encode({"apiVersion": "v1", "kind": "Range\nAllocation"})
    assert "\n" not in str(e.value) and "Range\\nAllocation" in str(e.value)
    lone = codec.decode(b'{"kind": "x", "a": "\\ud800"}')
    assert json.loads(codec.to_json(lone.obj).encode("utf-8"))["a"] == "\ufffd"
    for value in (
        b"[" * 1500 + b"]" * 1500,
        b'{"a":' * 1500 + b"1" + b"}" * 1500,
        b"kind: x\na: &x [*x]\n",
        b"k8s\x00",
        b"[1, 2]",
        b'{"kind": "x", "n": NaN}',
        b"x" * (MAX_VALUE_BYTES + 1),
        b'{"kind": "x", "big": 1e400}',  # out of range for a float64, as Go says
        b"\xd9\xd9\xf7\x00",  # a CBOR scalar, not an object
        b"kind: x\na: 2001-02-30\n",  # PyYAML's constructors raise ValueError for these
        b"kind: x\na: !!int abc\n",
        b"kind: x\na: " + b"1" * 5000 + b"\n",
    ):
        with pytest.raises(codec.DecodeError) as e:
            codec.decode(value)
        assert "\n" not in str(e.value)
