"""`schema fetch` against a local HTTP server serving small files written here."""

import functools
import http.server
import json
import threading

import pytest

from k8slearn import cli
from k8slearn.storage import codec
from k8slearn.storage.codec import schema
from k8slearn.storage.codec.jsonnames import parse_types_go

VERSION = "1.36.0"

META_PROTO = """
syntax = "proto2";
package k8s.io.apimachinery.pkg.apis.meta.v1;
option go_package = "v1";
message ObjectMeta {
  optional string name = 1;
  optional string namespace = 3;
  optional string uid = 5;
  optional Time creationTimestamp = 8;
  map<string, string> labels = 11;
}
message Time {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}
"""

META_GO = """
package v1

type ObjectMeta struct {
	// Name is unique.
	Name string `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"`
	Namespace string `json:"namespace,omitempty" protobuf:"bytes,3,opt,name=namespace"`
	UID types.UID `json:"uid,omitempty" protobuf:"bytes,5,opt,name=uid,casttype=k8s.io/kubernetes/pkg/types.UID"`
	CreationTimestamp Time `json:"creationTimestamp,omitempty" protobuf:"bytes,8,opt,name=creationTimestamp"`
	Labels map[string]string `json:"labels,omitempty" protobuf:"bytes,11,rep,name=labels"`
}
"""

CORE_PROTO = """
syntax = "proto2";
package k8s.io.api.core.v1;
import "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto";
message Gadget {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional KeyRef ref = 2;
  map<string, ExtraValue> extra = 3;
  optional string aPIGroup = 4;
  optional LocalObjectReference localObjectReference = 5;
  optional int32 count = 6;
  optional string uID = 7;
}
message KeyRef {
  optional LocalObjectReference localObjectReference = 1;
  optional string key = 2;
}
message LocalObjectReference {
  optional string name = 1;
}
message ExtraValue {
  repeated string items = 1;
}
"""

CORE_GO = """
package v1

// Gadget is a test type.
type Gadget struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Ref KeyRef `json:"ref" protobuf:"bytes,2,opt,name=ref"`
	Extra map[string]ExtraValue `json:"extra,omitempty" protobuf:"bytes,3,rep,name=extra"`
	APIGroup *string `json:"apiGroup,omitempty" protobuf:"bytes,4,opt,name=aPIGroup"`
	// A field that merely shares its type's name: not inlined.
	LocalObjectReference LocalObjectReference `json:"localObjectReference,omitempty" protobuf:"bytes,5,opt,name=localObjectReference"`
	Count int32 `json:"count" protobuf:"varint,6,opt,name=count"`
	UID string `json:"uid,omitempty" protobuf:"bytes,7,opt,name=uID"`
}

type KeyRef struct {
	// The ConfigMap to select from.
	LocalObjectReference `json:",inline" protobuf:"bytes,1,opt,name=localObjectReference"`
	Key string `json:"key" protobuf:"bytes,2,opt,name=key"`
}

type LocalObjectReference struct {
	Name string `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"`
}

// ExtraValue masks the value so protobuf can generate
// +protobuf.nullable=true
type ExtraValue []string
"""


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    files = {
        f"kubernetes/apimachinery/kubernetes-{VERSION}/pkg/apis/meta/v1/generated.proto": META_PROTO,
        f"kubernetes/apimachinery/kubernetes-{VERSION}/pkg/apis/meta/v1/types.go": META_GO,
        f"kubernetes/api/kubernetes-{VERSION}/core/v1/generated.proto": CORE_PROTO,
        f"kubernetes/api/kubernetes-{VERSION}/core/v1/types.go": CORE_GO,
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("K8SLEARN_CACHE", str(tmp_path / "cache"))


GADGET = {
    "kind": "Gadget",
    "apiVersion": "v1",
    "metadata": {
        "name": "g",
        "namespace": "default",
        "creationTimestamp": "2024-01-02T03:04:05Z",
        "labels": {"b": "2", "a": "1"},
    },
    "ref": {"name": "cm", "key": "k"},
    "extra": {"scopes": ["x", "y"]},
    "apiGroup": "grp",
    "localObjectReference": {"name": "n"},
    "count": 0,
    "uid": "u-1",
}


def test_fetch_compiles_and_decodes_with_go_facts(server):
    base, _ = server
    path = schema.fetch(VERSION, base_url=base)
    assert (path / "descriptors.binpb").is_file()
    fetched = json.loads((path / "fetched.json").read_text())
    assert fetched["files"] == [
        "k8s.io/api/core/v1/generated.proto",
        "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto",
    ]
    s = schema.load(VERSION)
    value = codec.encode(GADGET, schema=s)
    d = codec.decode(value, schema=s)
    want = dict(GADGET)
    want["metadata"] = dict(GADGET["metadata"], labels={"a": "1", "b": "2"})  # Go sorts map keys
    assert d.obj == want
    assert list(d.obj) == list(want)  # Go field order
    assert list(d.obj["metadata"]["labels"]) == ["a", "b"]
    assert codec.encode(d.obj, schema=s) == value
    # the built-in schema does not know Gadget: field-number tree instead
    d2 = codec.decode(value, schema=schema.builtin())
    assert d2.raw_tree is not None and d2.obj == {"kind": "Gadget", "apiVersion": "v1"}
    assert schema.cached_versions() == [VERSION]
    # after a fetch, the newest fetched schema is the default
    assert schema.default().name == f"kubernetes-{VERSION}"
    assert codec.decode(value).obj == want


def test_go_tag_parser_facts():
    facts = parse_types_go(CORE_GO, "k8s.io.api.core.v1")
    gadget = {f.proto_name: f for f in facts["k8s.io.api.core.v1.Gadget"].fields}
    assert gadget["aPIGroup"].json_name == "apiGroup" and gadget["aPIGroup"].pointer
    assert gadget["uID"].json_name == "uid"
    assert not gadget["localObjectReference"].inline
    assert not gadget["count"].omitempty
    assert "metadata" in gadget and gadget["metadata"].omitempty
    keyref = facts["k8s.io.api.core.v1.KeyRef"].fields
    assert keyref[0].inline and keyref[0].proto_name == "localObjectReference"
    assert facts["k8s.io.api.core.v1.ExtraValue"].list_wrapper


def test_cli_fetch_list_decode(server, capsys, tmp_path):
    base, _ = server
    assert cli.main(["schema", "fetch", "--kubernetes-version", VERSION, "--base-url", base]) == 0
    assert "schema for Kubernetes 1.36.0" in capsys.readouterr().out
    assert cli.main(["schema", "list"]) == 0
    assert capsys.readouterr().out.split() == [VERSION]
    value_file = tmp_path / "gadget.bin"
    value_file.write_bytes(codec.encode(GADGET, schema=schema.load(VERSION)))
    assert cli.main(["decode", str(value_file), "--kubernetes-version", VERSION]) == 0
    assert json.loads(capsys.readouterr().out)["apiGroup"] == "grp"


def test_fetch_404_is_a_clear_error(server):
    base, _ = server
    with pytest.raises(codec.SchemaError, match=r"not found \(HTTP 404\).*1\.35\.9"):
        schema.fetch("1.35.9", base_url=base)


def test_fetch_missing_import_is_a_clear_error(server):
    base, root = server
    (root / f"kubernetes/apimachinery/kubernetes-{VERSION}/pkg/apis/meta/v1/generated.proto").unlink()
    with pytest.raises(codec.SchemaError, match="imported by k8s.io/api/core/v1/generated.proto"):
        schema.fetch(VERSION, base_url=base)


def test_fetch_bad_version_and_no_network(capsys):
    with pytest.raises(codec.SchemaError, match="bad Kubernetes version"):
        schema.fetch("latest")
    with pytest.raises(codec.SchemaError, match="cannot reach"):
        schema.fetch(VERSION, base_url="http://127.0.0.1:9", timeout=5)
    assert cli.main(["schema", "fetch", "--kubernetes-version", "x.y", "--base-url", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("k8slearn: bad Kubernetes version") and err.count("\n") == 1
    assert cli.main(["schema", "fetch", "--kubernetes-version", VERSION, "--base-url", "notaurl"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("k8slearn: base URL 'notaurl' is not an http(s) URL") and err.count("\n") == 1


def test_load_without_fetch_says_what_to_do():
    with pytest.raises(codec.SchemaError, match="k8slearn schema fetch --kubernetes-version 1.30.0"):
        schema.load("1.30.0")


def test_prefer_picks_the_clusters_release_when_fetched(server):
    base, _ = server
    assert schema.default().name == "built-in"  # nothing fetched yet
    schema.fetch(VERSION, base_url=base)
    try:
        assert schema.prefer("v1.36.0").name == f"kubernetes-{VERSION}"
        assert schema.default().name == f"kubernetes-{VERSION}"
        assert schema.prefer("v1.99.0") is None  # not fetched: nothing downloaded, newest fetched used
        assert schema.prefer("not a version") is None
        assert schema.default().name == f"kubernetes-{VERSION}"
    finally:
        schema.prefer(None)
