"""Range reads in pages, on a real local etcd: whole keyspaces beyond gRPC's 4 MiB receive
limit, at one revision, one replay pin per read."""

from __future__ import annotations

import grpc
import pytest

from k8slearn.cluster import etcd as etcdmod
from k8slearn.cluster.localetcd import LocalEtcd
from k8slearn.storage import codec


@pytest.fixture(scope="module")
def server():
    with LocalEtcd(name="paging") as server:
        yield server


@pytest.fixture(scope="module")
def client(server):
    return server.client()


def _put_many(client, prefix: str, n: int, value_of) -> None:
    for i in range(n):
        client.put(f"{prefix}{i:05d}", value_of(i))


def test_pages_cover_every_key_in_order(client):
    _put_many(client, "/registry/configmaps/p/cm-", 53, lambda i: f"v{i}")
    e = etcdmod.Etcd(client)
    got = list(e.iter_range("/registry/configmaps/p/", page_keys=7))
    assert [kv.key for kv in got] == [f"/registry/configmaps/p/cm-{i:05d}" for i in range(53)]
    assert [kv.value for kv in got] == [f"v{i}".encode() for i in range(53)]
    assert e.keys("/registry/configmaps/p/") == [kv.key for kv in got]


def test_pages_read_one_revision(client):
    _put_many(client, "/registry/configmaps/r/cm-", 20, lambda i: "before")
    e = etcdmod.Etcd(client)
    pages = e.iter_range("/registry/configmaps/r/", page_keys=3)
    first = next(pages)
    for i in range(20):  # writes after the read began are not seen by its later pages
        client.put(f"/registry/configmaps/r/cm-{i:05d}", "after")
    client.put("/registry/configmaps/r/cm-99999", "new")
    rest = list(pages)
    assert first.value == b"before" and {kv.value for kv in rest} == {b"before"} and len(rest) == 19


def test_a_keyspace_over_the_grpc_receive_limit(server, client):
    import pyetcd

    big = b"k" * (1024 * 1024)  # 1 MiB, under etcd's 1.5 MiB request limit
    _put_many(client, "/registry/secrets/big/s-", 6, lambda i: big)
    # a client with gRPC's default 4 MiB receive limit is refused one unpaged read of 6 MiB
    default = pyetcd.client(host="127.0.0.1", port=server.client_port, timeout=10)
    with pytest.raises(grpc.RpcError) as e:
        default.get_response(b"/registry/secrets/big/", range_end=etcdmod.prefix_end(b"/registry/secrets/big/"))
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # ... and the paged read asks again with fewer keys until the pages fit
    got = etcdmod.Etcd(default).range("/registry/secrets/big/")
    assert len(got) == 6 and all(kv.value == big for kv in got)
    default.close()
    # the project's clients (GRPC_OPTIONS) take the same 6 MiB as one page
    pages = list(etcdmod.Etcd(client)._pages("/registry/secrets/big/", False, None, etcdmod.PAGE_KEYS))
    assert [len(p) for p in pages] == [6]


def test_a_page_over_page_bytes_halves_the_next(client, monkeypatch):
    _put_many(client, "/registry/secrets/half/s-", 40, lambda i: b"h" * 1000)
    monkeypatch.setattr(etcdmod, "PAGE_BYTES", 4000)  # 16 keys = 16,000 bytes: over, so 8, 4 ...
    pages = list(etcdmod.Etcd(client)._pages("/registry/secrets/half/", False, None, 16))
    assert [len(p) for p in pages] == [16, 8, 4, 4, 4, 4]


def test_one_pin_per_paged_read(client):
    _put_many(client, "/registry/leases/pin/l-", 10, lambda i: "x")
    pins = etcdmod.ReadPins("record")
    e = etcdmod.Etcd(client, pins=pins)
    assert len(list(e.iter_range("/registry/leases/pin/", page_keys=2))) == 10
    assert len(pins.revisions) == 1
    replay = etcdmod.Etcd(client, pins=etcdmod.ReadPins("replay", [pins.revisions[0]]))
    client.put("/registry/leases/pin/l-00011", "later")
    assert len(replay.range("/registry/leases/pin/")) == 10  # served at the pinned revision


def test_dataframe_columns_without_decoding(client):
    value = codec.encode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "df"}})
    client.put("/registry/configmaps/df/a", value)
    client.put("/registry/configmaps/df/b", b"k8s\x00")  # an envelope without a kind
    client.put("/registry/configmaps/df/c", b"k8s:enc:aescbc:v1:key1:\x00")
    df = etcdmod.Etcd(client).dataframe("/registry/configmaps/df/")
    assert list(df["encoding"]) == ["protobuf", "undecodable", "encrypted"]
    assert list(df["name"]) == ["a", "b", "c"] and list(df["size"]) == [len(value), 4, 24]
    assert list(df.columns) == [
        "key",
        "resource",
        "group",
        "namespace",
        "name",
        "encoding",
        "size",
        "create_revision",
        "mod_revision",
        "version",
        "lease",
    ]
