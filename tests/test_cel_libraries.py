"""Kubernetes CEL library functions, checked on the examples of
https://kubernetes.io/docs/reference/using-api/cel/ (expected values from that page's
descriptions; where the page only states a purpose, the expected value follows from it)."""

import datetime
import math

import pytest

import k8slearn.cel as kc

V = {
    "names": ["a", "should-be-first", "z"],
    "items": [{"weight": 0.25}, {"weight": 0.75}],
    "lowPriorities": [{"priority": 1}, {"priority": 3}],
    "highPriorities": [{"priority": 5}, {"priority": 9}],
}

DOC_EXAMPLES = [
    # list library
    ("names.isSorted()", True),
    ("items.map(x, x.weight).sum() == 1.0", True),
    ("lowPriorities.map(x, x.priority).max() < highPriorities.map(x, x.priority).min()", True),
    ("names.indexOf('should-be-first') == 1", True),
    # regex library
    ("\"abc 123\".find('[0-9]+')", "123"),
    ("\"1, 2, 3, 4\".findAll('[0-9]+').map(x, int(x)).sum() < 100", True),
    # URL library
    ("url('https://example.com:80/').getHost()", "example.com:80"),
    ("url('https://example.com/path with spaces/').getEscapedPath()", "/path%20with%20spaces/"),
    # IP library
    ("isIP('127.0.0.1')", True),
    ("ip.isCanonical('2001:db8::abcd')", True),
    ("ip.isCanonical('2001:DB8::ABCD')", False),
    ("ip('127.0.0.1').family() == 4", True),
    ("ip('::1').isLoopback()", True),
    ("ip('192.168.0.1').isGlobalUnicast()", True),
    # CIDR library
    ("isCIDR('192.168.0.0/16')", True),
    ("isCIDR('::1/128')", True),
    ("isCIDR('192.168.0.0/33')", False),
    ("isCIDR('::1/129')", False),
    ("cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))", True),
    ("cidr('192.168.0.0/24').containsIP(ip('192.168.1.1'))", False),
    ("cidr('192.168.0.0/24').containsIP('192.168.0.1')", True),
    ("cidr('192.168.0.0/24').containsIP('192.168.1.1')", False),
    ("cidr('192.168.0.0/16').containsCIDR(cidr('192.168.10.0/24'))", True),
    ("cidr('192.168.1.0/24').containsCIDR(cidr('192.168.2.0/24'))", False),
    ("cidr('192.168.0.0/16').containsCIDR('192.168.10.0/24')", True),
    ("cidr('192.168.1.0/24').containsCIDR('192.168.2.0/24')", False),
    ("cidr('192.168.0.1/24').ip().family()", 4),
    ("cidr('::1/128').ip().family()", 6),
    ("cidr('192.168.0.0/24') == cidr('192.168.0.0/24').masked()", True),
    ("cidr('192.168.0.1/24') == cidr('192.168.0.1/24').masked()", False),
    ("cidr('192.168.0.0/16').prefixLength()", 16),
    ("cidr('::1/128').prefixLength()", 128),
    # quantity library
    ('quantity("500000G").isInteger()', True),
    ('quantity("50k").asInteger()', 50000),
    ('quantity("50k").add(quantity("20k")) == quantity("70k")', True),
    ('quantity("50k").sub(20000) == quantity("30k")', True),
    ('quantity("50k").add(20).sub(quantity("100k")).sub(-50000) == quantity("20")', True),
    ('quantity("200M").compareTo(quantity("0.2G"))', 0),
    ('quantity("150Mi").isGreaterThan(quantity("100Mi"))', True),
    ('quantity("50M").isLessThan(quantity("100M"))', True),
    # semver library
    ("isSemver('1.0.0')", True),
    ("isSemver('v1.0', true)", True),
    ("semver('1.2.3').major()", 1),
    ("semver('1.2.3').compareTo(semver('2.0.0')) < 0", True),
    # sets (cel-go ext.Sets, in the base environment since 1.29)
    ("sets.contains([1, 2, 3, 4], [2, 3])", True),
    ("sets.equivalent([1, 2, 3], [3, 2, 1, 1])", True),
    ("sets.intersects([1], [2])", False),
    # extended strings and string.format
    ("'hello'.charAt(1)", "e"),
    ("'a,b'.split(',')", ["a", "b"]),
    ("['a', 'b'].join('-')", "a-b"),
    ("' x '.trim().upperAscii()", "X"),
    ("'%s has %d pods'.format(['web', 3])", "web has 3 pods"),
    # two-variable comprehensions (base environment since 1.32)
    ("[10, 20].all(i, v, v == (i + 1) * 10)", True),
    ("{'a': 1, 'b': 2}.exists(k, v, k == 'b' && v == 2)", True),
    ("[1, 2, 3].existsOne(i, v, v == 2)", True),
    ("[1, 2].transformList(i, v, i + v)", [1, 3]),
]


@pytest.mark.parametrize("expr,expected", DOC_EXAMPLES, ids=[e for e, _ in DOC_EXAMPLES])
def test_documented_example(expr, expected):
    assert kc.evaluate(expr, V) == expected


def test_quantity_float_and_sign():
    assert kc.evaluate('quantity("9999999999999999999999999999999999999G").asApproximateFloat()') == pytest.approx(1e46)
    assert kc.evaluate('sign(quantity("-1m"))') == -1
    assert kc.evaluate("isQuantity('1.5Gi')") is True and kc.evaluate("isQuantity('1.5x')") is False
    with pytest.raises(kc.CELError, match="cannot convert value to integer"):
        kc.evaluate('quantity("1.5").asInteger()')


def test_masked_value_and_url_parts():
    assert str(kc.evaluate("cidr('192.168.0.1/24').masked()")) == "192.168.0.0/24"
    assert kc.evaluate("url('https://u@[::1]:8443/p?q=1&q=2').getHostname()") == "::1"
    assert kc.evaluate("url('https://u@[::1]:8443/p?q=1&q=2').getPort()") == "8443"
    assert kc.evaluate("url('https://x/p?q=1&q=2').getQuery()") == {"q": ["1", "2"]}
    assert kc.evaluate("isURL('not a url')") is False


def test_invalid_inputs_raise():
    for expr in [
        "ip('::ffff:1.2.3.4')",
        "ip('fe80::1%eth0')",
        "ip('01.2.3.4')",
        "cidr('::1/129')",
        "url('relative')",  # '/relative' is a valid request URI (an absolute path), as the apiserver says
        "semver('1.0')",
        "quantity('12x')",
    ]:
        with pytest.raises(kc.CELError):
            kc.evaluate(expr)


@pytest.mark.parametrize(
    "text,value",
    [
        ("1.5Gi", 1610612736),
        ("0.2G", 200000000),
        ("1E", 10**18),
        ("1Ei", 2**60),
        ("1e+3", 1000),
        (".5k", 500),
        ("0.1n", 1e-9),
        ("-1.5n", -2e-9),  # ParseQuantity rounds away from zero to a whole nano
        ("16Ei", 2**63 - 1),  # and caps binarySI at the int64 maximum
        ("+", 0),
        ("k", 0),  # its scanner lets the digits be empty
    ],
)
def test_quantity_reads_like_resource_parse_quantity(text, value):
    assert kc.evaluate(f"quantity('{text}').compareTo(quantity('{value!r}'))") == 0


@pytest.mark.parametrize("text", ["1K", "Infinity", "1_000", " 1", "1e3k", "1.2.3", "", "12x"])
def test_quantity_refuses_what_kubernetes_refuses(text):
    # kubernetes.utils.quantity.parse_quantity (Python's Decimal) would take all but the last three
    assert kc.evaluate(f"isQuantity('{text}')") is False


def test_quantity_stays_exact_past_28_digits():
    assert (
        kc.evaluate(
            "quantity('9999999999999999999999999999999999999G').sub(quantity('1G'))"
            " == quantity('9999999999999999999999999999999999998G')"
        )
        is True
    )
    assert str(kc.evaluate("quantity('50k').add(quantity('1500m'))")) == "50001500m"


@pytest.mark.parametrize(
    "text,normalized",
    [
        # semverlib.go normalizeAndParse: "v" prefix, missing minor/patch, leading zeros
        ("v1.0", "1.0.0"),
        ("1", "1.0.0"),
        ("01.01.01", "1.1.1"),
        ("v1.00.0-alpha", "1.0.0-alpha"),
        ("1.0.01-rc.1", "1.0.1-rc.1"),
    ],
)
def test_semver_normalize(text, normalized):
    assert str(kc.evaluate(f"semver('{text}', true)")) == normalized
    assert kc.evaluate(f"isSemver('{text}')") is False


@pytest.mark.parametrize("text", ["1.0-alpha", "1.0.0-01", "vv1.0", "1.0.0.0", " 1.0.0", "18446744073709551616.0.0"])
def test_semver_normalize_still_refuses(text):
    # a short version with pre-release, a numeric pre-release with a leading zero, uint64 overflow
    assert kc.evaluate(f"isSemver('{text}', true)") is False


def test_semver_precedence():
    assert kc.evaluate("semver('1.0.0-alpha').isLessThan(semver('1.0.0'))") is True
    assert kc.evaluate("semver('1.0.0-alpha.1').isLessThan(semver('1.0.0-alpha.beta'))") is True
    assert kc.evaluate("semver('v01.2', true).minor()") == 2


def test_mixed_opaque_types_do_not_compare():
    # refused at compile time, as cel-go does (quantity.go and semverlib.go declare same-type pairs)
    with pytest.raises(
        kc.CELError,
        match=r"found no matching overload for .compareTo. applied to .kubernetes.Quantity.\(kubernetes.Semver\).",
    ):
        kc.evaluate("quantity('1').compareTo(semver('1.0.0'))")


def test_list_edge_cases():
    assert kc.evaluate("[].sum()") == 0
    # a Python function cannot return a duration as dyn: sum() over durations is rewritten
    # into a CEL comprehension (the checked AST says which sum() calls)
    assert kc.evaluate("[duration('1s'), duration('2s')].sum()") == datetime.timedelta(seconds=3)
    assert kc.evaluate("[1, 2, 1].lastIndexOf(1)") == 2
    with pytest.raises(kc.CELError, match="empty list"):
        kc.evaluate("[].min()")
    assert math.isclose(kc.evaluate("[0.5, 1.5].max()"), 1.5)


def test_lists_v3():
    # cel-go ext.Lists(ListsVersion(3)), enabled by Kubernetes from 1.34 (base.go L175-L181)
    assert kc.evaluate("[3, 1, 2].sort()") == [1, 2, 3]
    assert kc.evaluate("lists.range(3)") == [0, 1, 2]
    assert kc.evaluate("[1, 1, 2].distinct()") == [1, 2]
    assert kc.evaluate("[[[1]], [[2, 3]]].flatten(2)") == [1, 2, 3]
    assert kc.evaluate("[1, 2, 3, 4].slice(1, 3)") == [2, 3]
    assert kc.evaluate("[{'n': 2}, {'n': 1}].sortBy(e, e.n)") == [{"n": 1}, {"n": 2}]
    with pytest.raises(kc.CELError, match="start index must be less than or equal to end index"):
        kc.evaluate("[1, 2].slice(2, 1)")
    with pytest.raises(kc.CELError, match="applied to 'string.\\(\\)'"):
        kc.evaluate("'abc'.reverse()")  # Kubernetes enables strings version 2: no string reverse()
