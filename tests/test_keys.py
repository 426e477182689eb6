"""Tests for k8slearn.storage.keys: parsing and composing kube-apiserver etcd keys."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from k8slearn.storage import keys
from k8slearn.storage.keys import KeyFormatError, compose, parse


@pytest.mark.parametrize(
    "key, resource, key_resource, namespace, name",
    [
        ("/registry/services/specs/default/kubernetes", "services", "services/specs", "default", "kubernetes"),
        (
            "/registry/services/endpoints/kube-system/kube-dns",
            "endpoints",
            "services/endpoints",
            "kube-system",
            "kube-dns",
        ),
        ("/registry/minions/kind-control-plane", "nodes", "minions", None, "kind-control-plane"),
        ("/registry/controllers/default/rc1", "replicationcontrollers", "controllers", "default", "rc1"),
        ("/registry/ingress/default/web", "ingresses", "ingress", "default", "web"),
        ("/registry/podsecuritypolicy/restricted", "podsecuritypolicies", "podsecuritypolicy", None, "restricted"),
    ],
)
def test_special_prefixes(key, resource, key_resource, namespace, name):
    k = parse(key)
    assert (k.resource, k.key_resource, k.namespace, k.name) == (resource, key_resource, namespace, name)
    assert k.special is None
    assert k.prefix == "/registry"


def test_builtin_keys_carry_no_group_but_report_it():
    k = parse("/registry/deployments/kube-system/coredns")
    assert (k.resource, k.key_resource, k.group) == ("deployments", "deployments", "apps")
    assert (k.namespace, k.name) == ("kube-system", "coredns")
    lease = parse("/registry/leases/kube-node-lease/kind-control-plane")
    assert lease.group == "coordination.k8s.io"
    assert parse("/registry/clusterroles/system:discovery").namespace is None
    assert parse("/registry/clusterroles/system:discovery").name == "system:discovery"


def test_custom_prefix_from_the_seed_document():
    k = parse("/dev/20230902/0952/services/specs/kube-system/kube-dns", prefix="/dev/20230902/0952")
    assert (k.resource, k.namespace, k.name, k.special) == ("services", "kube-system", "kube-dns", None)
    assert k.prefix == "/dev/20230902/0952"
    # the same key read with the default prefix is outside it
    assert parse(k.key).special == "outside-prefix"


def test_prefix_given_with_trailing_slash_or_without_leading_slash():
    assert parse("/p/x/configmaps/a/b", prefix="p/x/").name == "b"


def test_group_qualified_keys():
    crd = parse("/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com")
    assert (crd.resource, crd.group, crd.namespace, crd.name) == (
        "customresourcedefinitions",
        "apiextensions.k8s.io",
        None,
        "widgets.example.com",
    )
    assert crd.key_resource == "apiextensions.k8s.io/customresourcedefinitions"
    api = parse("/registry/apiregistration.k8s.io/apiservices/v1.apps")
    assert (api.resource, api.group, api.name) == ("apiservices", "apiregistration.k8s.io", "v1.apps")


def test_custom_resource_keys():
    ns = parse("/registry/example.com/widgets/default/w1")
    assert (ns.resource, ns.group, ns.namespace, ns.name, ns.special) == (
        "widgets",
        "example.com",
        "default",
        "w1",
        None,
    )
    cl = parse("/registry/example.com/gadgets/g1")
    assert (cl.resource, cl.group, cl.namespace, cl.name) == ("gadgets", "example.com", None, "g1")


def test_compact_rev_key_is_outside_the_prefix():
    k = parse("compact_rev_key")
    assert k.special == "compact_rev_key"
    assert k.resource == "" and k.namespace is None
    assert parse(b"compact_rev_key", prefix="/dev/20230902/0952").special == "compact_rev_key"


def test_range_allocations():
    ips = parse("/registry/ranges/serviceips")
    assert (ips.special, ips.name, ips.resource) == ("range", "serviceips", "serviceipallocations")
    ports = parse("/registry/ranges/servicenodeports")
    assert (ports.special, ports.resource) == ("range", "servicenodeportallocations")


def test_master_leases():
    k = parse("/registry/masterleases/172.18.0.2")
    assert (k.special, k.name, k.resource) == ("masterleases", "172.18.0.2", "endpoints")


def test_bytes_input():
    k = parse(b"/registry/configmaps/kube-system/coredns")
    assert k.key == "/registry/configmaps/kube-system/coredns"
    assert (k.resource, k.namespace, k.name) == ("configmaps", "kube-system", "coredns")
    assert parse(memoryview(b"/registry/namespaces/default")).name == "default"


def test_unknown_but_well_formed_keys_do_not_raise():
    k = parse("/registry/frobnicators/ns1/f1")
    assert k.special == "unknown-resource"
    assert (k.resource, k.namespace, k.name) == ("frobnicators", "ns1", "f1")
    one = parse("/registry/frobnicators/f1")
    assert (one.namespace, one.name, one.special) == (None, "f1", "unknown-resource")
    # nodes are not stored under "nodes": a key there is not a node key
    assert parse("/registry/nodes/x").special == "unknown-resource"


def test_shape_mismatch_is_reported():
    k = parse("/registry/namespaces/a/b")  # namespaces are cluster-scoped
    assert k.special == "unexpected-shape"
    assert k.resource == "namespaces"


def test_collection_prefixes():
    assert parse("/registry/configmaps/").special == "collection"
    k = parse("/registry/configmaps/kube-system")
    assert (k.special, k.namespace, k.name) == ("collection", "kube-system", None)


@pytest.mark.parametrize("bad", ["", b"", "/registry", "/registry/", "/registry//x", b"\xff\xfe/registry/pods/a/b"])
def test_invalid_keys_raise_keyformaterror(bad):
    with pytest.raises(KeyFormatError) as caught:
        parse(bad)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value)


def test_non_text_key_raises():
    with pytest.raises(KeyFormatError, match="str or bytes"):
        parse(42)


def test_empty_prefix_raises():
    with pytest.raises(KeyFormatError, match="prefix"):
        parse("/registry/pods/a/b", prefix="/")


def test_compose_special_and_plain():
    assert compose("services", "kube-dns", "kube-system") == "/registry/services/specs/kube-system/kube-dns"
    assert compose("endpoints", "kubernetes", "default") == "/registry/services/endpoints/default/kubernetes"
    assert compose("nodes", "n1") == "/registry/minions/n1"
    assert compose("replicationcontrollers", "rc", "default") == "/registry/controllers/default/rc"
    assert compose("ingresses", "web", "default", group="networking.k8s.io") == "/registry/ingress/default/web"
    assert compose("events", "e1", "default", group="events.k8s.io") == "/registry/events/default/e1"
    assert compose("deployments", "d", "ns", group="apps") == "/registry/deployments/ns/d"
    assert (
        compose("customresourcedefinitions", "widgets.example.com")
        == "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com"
    )
    assert compose("widgets", "w1", "default", group="example.com") == "/registry/example.com/widgets/default/w1"
    assert (
        compose("services", "kube-dns", "kube-system", prefix="/dev/20230902/0952")
        == "/dev/20230902/0952/services/specs/kube-system/kube-dns"
    )


def test_compose_errors():
    with pytest.raises(KeyFormatError, match="namespaced"):
        compose("configmaps", "x")
    with pytest.raises(KeyFormatError, match="cluster-scoped"):
        compose("nodes", "x", namespace="default")
    with pytest.raises(KeyFormatError, match="name"):
        compose("configmaps", "", "default")
    with pytest.raises(KeyFormatError, match="segment"):
        compose("configmaps", "a/b", "default")


def test_every_table_entry_round_trips():
    for resource, info in keys.RESOURCES.items():
        ns = "ns1" if info.namespaced else None
        key = compose(resource, "obj1", ns, group=info.group)
        k = parse(key)
        assert (k.resource, k.group, k.namespace, k.name, k.special) == (resource, info.group, ns, "obj1", None), key
        assert k.key_resource == info.key_path


_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.:", min_size=1, max_size=30).filter(
    lambda s: s not in (".", "..")
)


@given(
    resource=st.sampled_from(sorted(keys.RESOURCES)),
    name=_segment,
    ns=_segment,
    prefix=st.sampled_from(["/registry", "/dev/20230902/0952", "/kubernetes.io"]),
)
def test_round_trip_property(resource, name, ns, prefix):
    info = keys.RESOURCES[resource]
    namespace = ns if info.namespaced else None
    k = parse(compose(resource, name, namespace, prefix=prefix), prefix=prefix)
    assert (k.resource, k.namespace, k.name) == (resource, namespace, name)


@given(
    group=st.from_regex(r"[a-z]{1,8}\.[a-z]{2,5}", fullmatch=True),
    plural=st.from_regex(r"[a-z]{3,12}", fullmatch=True),
    name=_segment,
    ns=st.one_of(st.none(), _segment),
)
def test_custom_resource_round_trip_property(group, plural, name, ns):
    k = parse(compose(plural, name, ns, group=group))
    assert (k.group, k.resource, k.namespace, k.name) == (group, plural, ns, name)


def test_resource_table_facts():
    from k8slearn.errors import K8sLearnError
    from k8slearn.storage import resources

    assert keys.RESOURCES is resources.RESOURCES
    assert issubclass(KeyFormatError, K8sLearnError) and issubclass(KeyFormatError, ValueError)
    # every built-in group kube-apiserver itself serves has a k8s.io/api folder
    served_elsewhere = {"apiextensions.k8s.io", "apiregistration.k8s.io"}
    assert {i.group for i in resources.RESOURCES.values()} - served_elsewhere <= set(resources.API_GROUPS)
    # a cohabiting group's copy is stored where the resource is
    assert keys.key_path("replicationcontrollers", "extensions") == "controllers"
    assert keys.key_path("events", "events.k8s.io") == "events"
    assert resources.info("deployments", "extensions") is resources.RESOURCES["deployments"]
    assert resources.info("deployments", "batch") is None
