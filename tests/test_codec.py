"""Behaviour of k8slearn.storage.codec on values built in the test (no shared data needed)."""

import json

import cbor2
import pytest

from k8slearn.storage import codec
from k8slearn.storage.codec import gotime
from k8slearn.storage.codec.envelope import build_envelope


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("K8SLEARN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def meta(name="x", ns="default", **extra):
    m = {
        "name": name,
        "namespace": ns,
        "uid": "0d5b4c1e-1111-2222-3333-444455556666",
        "creationTimestamp": "2024-05-01T10:00:00Z",
    }
    m.update(extra)
    return m


OBJECTS = [
    {
        "kind": "Endpoints",
        "apiVersion": "v1",
        "metadata": meta("web"),
        "subsets": [
            {
                "addresses": [
                    {
                        "ip": "10.0.0.5",
                        "nodeName": "n1",
                        "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1", "uid": "u"},
                    }
                ],
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }
        ],
    },
    {
        "kind": "EndpointSlice",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": meta("web-abc"),
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": ["10.0.0.5"],
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "nodeName": "n1",
                "zone": "z1",
            }
        ],
        "ports": [{"name": "http", "protocol": "TCP", "port": 8080}],
    },
    {"kind": "ServiceAccount", "apiVersion": "v1", "metadata": meta("default"), "automountServiceAccountToken": False},
    {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": meta("web.17a"),
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1"},
        "reason": "Pulled",
        "message": "ok",
        "source": {"component": "kubelet", "host": "n1"},
        "firstTimestamp": "2024-05-01T10:00:01Z",
        "lastTimestamp": "2024-05-01T10:00:02Z",
        "count": 2,
        "type": "Normal",
        "eventTime": None,
        "reportingComponent": "kubelet",
        "reportingInstance": "n1",
    },
    {
        "kind": "Event",
        "apiVersion": "events.k8s.io/v1",
        "metadata": meta("e1"),
        "eventTime": "2024-05-01T10:00:01.123456Z",
        "reportingController": "kubelet",
        "reportingInstance": "n1",
        "action": "Pulling",
        "reason": "Pulling",
        "regarding": {"kind": "Pod", "name": "web-1"},
        "note": "pulling",
        "type": "Normal",
        "deprecatedSource": {},
        "deprecatedFirstTimestamp": None,
        "deprecatedLastTimestamp": None,
    },
    {
        "kind": "Role",
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": meta("r"),
        "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}],
    },
    {
        "kind": "ClusterRole",
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": meta("agg", ns=None) | {"namespace": ""},
        "rules": None,
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]},
    },
    {
        "kind": "RoleBinding",
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": meta("rb"),
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
    },
    {
        "kind": "ClusterRoleBinding",
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": meta("crb", ns=""),
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
    },
    {
        "kind": "PriorityClass",
        "apiVersion": "scheduling.k8s.io/v1",
        "metadata": meta("system-node-critical", ns=""),
        "value": 2000001000,
        "description": "critical",
        "preemptionPolicy": "PreemptLowerPriority",
    },
    {
        "kind": "RangeAllocation",
        "apiVersion": "v1",
        "metadata": meta("", ns=""),
        "range": "10.96.0.0/12",
        "data": "AAAB",
    },
]


def _clean(obj):
    """Drop empty strings that omitempty removes (our sample objects use '' for 'unset')."""
    obj = json.loads(json.dumps(obj))
    for k in [k for k, v in obj["metadata"].items() if v in ("", None)]:
        del obj["metadata"][k]
    return obj


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: f"{o['apiVersion']}/{o['kind']}")
def test_builtin_types_round_trip(obj):
    obj = _clean(obj)
    value = codec.encode(obj)
    assert value.startswith(b"k8s\x00")
    d = codec.decode(value)
    assert d.encoding == "protobuf" and d.kind == obj["kind"] and d.raw_tree is None
    assert d.obj == obj
    assert codec.encode(d.obj) == value


def test_go_zero_value_rules():
    # An empty ConfigMap: Kubernetes writes metadata with creationTimestamp null.
    d = codec.decode(codec.encode({"kind": "ConfigMap", "apiVersion": "v1"}))
    assert d.obj == {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"creationTimestamp": None}}
    # Non-omitempty slices are null when empty (ClusterRole.rules), structs are always there.
    d = codec.decode(codec.encode({"kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1"}))
    assert d.obj["rules"] is None
    d = codec.decode(codec.encode({"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1"}))
    assert d.obj["roleRef"] == {"apiGroup": "", "kind": "", "name": ""}
    assert "subjects" not in d.obj
    # Pointers keep zero values (immutable: false), omitempty scalars drop them.
    d = codec.decode(codec.encode({"kind": "Secret", "apiVersion": "v1", "immutable": False, "type": ""}))
    assert d.obj["immutable"] is False and "type" not in d.obj


def test_empty_strings_are_written_like_gogo():
    # gogo-protobuf always writes non-pointer strings, even empty: name=1 -> 0a 00
    value = codec.encode({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": ""}})
    raw = value[value.index(b"Namespace") + len(b"Namespace") :]
    assert b"\x0a\x00\x12\x00\x1a\x00" in raw


def test_intorstring_and_quantity_values():
    svc = {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": "s", "creationTimestamp": None},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"name": "b", "port": 81, "targetPort": "http"}]},
        "status": {"loadBalancer": {}},
    }
    d = codec.decode(codec.encode(svc))
    assert d.obj["spec"]["ports"][0]["targetPort"] == 8080
    assert d.obj["spec"]["ports"][1]["targetPort"] == "http"


def test_microtime_and_time_formats():
    assert gotime.format_time(0) == "1970-01-01T00:00:00Z"
    assert gotime.format_micro_time(946688461, 3000) == "2000-01-01T01:01:01.000003Z"
    assert gotime.parse_time("2000-01-01T01:01:01.000003Z") == (946688461, 3000)
    assert gotime.parse_time("2000-01-01T02:01:01+01:00") == (946688461, 0)
    for ns, text in [
        (0, "0s"),
        (1, "1ns"),
        (1500, "1.5µs"),
        (300_000_000, "300ms"),
        (90 * 10**9, "1m30s"),
        (3600 * 10**9, "1h0m0s"),
        (-(10**9) // 2, "-500ms"),
        (3723_500_000_000, "1h2m3.5s"),
    ]:
        assert gotime.format_duration(ns) == text
        assert gotime.parse_duration(text) == ns


def test_lease_microtime_keeps_microseconds():
    lease = {
        "kind": "Lease",
        "apiVersion": "coordination.k8s.io/v1",
        "metadata": meta("kube-scheduler"),
        "spec": {
            "holderIdentity": "n1_abc",
            "leaseDurationSeconds": 15,
            "acquireTime": "2024-05-01T10:00:00.000000Z",
            "renewTime": "2024-05-01T10:05:00.123456Z",
            "leaseTransitions": 0,
        },
    }
    d = codec.decode(codec.encode(lease))
    assert d.obj == lease


def test_unknown_protobuf_type_gives_raw_tree():
    raw = bytes.fromhex("0a0b0a096d792d6f626a656374") + b"\x10\x07"
    value = build_envelope("example.com/v1", "Widget", raw)
    d = codec.decode(value)
    assert d.encoding == "protobuf" and d.kind == "Widget" and d.api_version == "example.com/v1"
    assert d.obj == {"kind": "Widget", "apiVersion": "example.com/v1"}
    assert d.raw_tree == [
        {"field": 1, "wire": "bytes", "value": [{"field": 1, "wire": "bytes", "value": "my-object"}]},
        {"field": 2, "wire": "varint", "value": 7},
    ]


def test_encrypted_value_is_recognised():
    d = codec.decode(b"k8s:enc:aescbc:v1:key1:\x8f\x00\x13binary")
    assert (d.encoding, d.provider, d.key_name, d.obj) == ("encrypted", "aescbc", "key1", None)
    d = codec.decode(b"k8s:enc:kms:v2:my-kms:\x0a\x01")
    assert (d.provider, d.key_name) == ("kms", "my-kms")


def test_text_value():
    d = codec.decode(b"1234")
    assert (d.encoding, d.obj) == ("text", "1234")


def test_cbor_value():
    obj = {b"apiVersion": b"example.com/v1", b"kind": b"Widget", b"metadata": {b"name": b"w"}, b"spec": {b"n": 3}}
    value = cbor2.dumps(cbor2.CBORTag(55799, obj))
    assert value.startswith(b"\xd9\xd9\xf7")
    d = codec.decode(value)
    assert d.encoding == "cbor" and d.kind == "Widget"
    assert d.obj == {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"n": 3}}


def test_json_escaping_like_go():
    value = codec.encode({"kind": "ConfigMap", "apiVersion": "v1", "data": {"a": "<b>&é"}}, "application/json")
    assert value == b'{"kind":"ConfigMap","apiVersion":"v1","data":{"a":"\\u003cb\\u003e\\u0026\xc3\xa9"}}\n'


@pytest.mark.parametrize(
    "value,reason",
    [
        (b"", "empty value"),
        (b"\x00\x01\x02\xff", "not a Kubernetes storage value"),
        (b"k8s\x00\xff\xff", "invalid protobuf envelope"),
        (b"{not json", "not valid JSON"),
        (b"\xd9\xd9\xf7\xff\xff", "invalid CBOR"),
    ],
)
def test_undecodable_values_raise_decode_error(value, reason):
    with pytest.raises(codec.DecodeError, match=reason):
        codec.decode(value)


def test_encode_errors():
    with pytest.raises(codec.EncodeError, match="no field 'bogus'"):
        codec.encode({"kind": "ConfigMap", "apiVersion": "v1", "bogus": 1})
    with pytest.raises(codec.EncodeError, match="no protobuf type"):
        codec.encode({"kind": "Widget", "apiVersion": "example.com/v1"})
    with pytest.raises(codec.EncodeError, match="unsupported media type"):
        codec.encode({"kind": "ConfigMap", "apiVersion": "v1"}, "text/plain")
    with pytest.raises(codec.EncodeError, match="base64"):
        codec.encode({"kind": "Secret", "apiVersion": "v1", "data": {"a": "!!"}})
    assert issubclass(codec.DecodeError, ValueError) and issubclass(codec.EncodeError, ValueError)


def test_builtin_schema_cached_on_disk():
    from k8slearn.storage.codec import schema

    schema.builtin.cache_clear()  # an earlier test module may have compiled it into another cache
    schema.builtin()
    files = list((schema.cache_dir() / "codec").glob("builtin-*.binpb"))
    assert files, "the built-in descriptor set should be cached"
    # recompiling gives the same descriptor set bytes
    again = schema.compile_builtin()
    assert again == files[0].read_bytes()
