"""The agreement corpus: CEL cases that are sent to a real kube-apiserver and evaluated locally.

Every case is either a CRD case (rules on one property of a test CRD, an object to create, and
for transition rules an old object to update) or a ValidatingAdmissionPolicy case (a policy
with variables, params and matchConditions, and a ConfigMap to admit). Nothing here says what
the answer *should* be: the apiserver's answer is the truth, and k8slearn.cel's answer is
compared with it (k8slearn/cel/agreement.py). ``library`` names the Kubernetes or CEL library
a case exercises, ``kind`` the CEL feature (expression, transition rule, messageExpression, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STRING = {"type": "string", "maxLength": 64}
INT = {"type": "integer"}
NUMBER = {"type": "number"}
STRINGS = {"type": "array", "maxItems": 16, "items": STRING}
INTS = {"type": "array", "maxItems": 16, "items": INT}
OBJECT = {
    "type": "object",
    "properties": {"name": STRING, "replicas": INT, "tags": STRINGS, "limit": STRING},
}


@dataclass(frozen=True)
class CRDCase:
    id: str
    library: str
    kind: str
    rules: tuple[dict, ...]
    schema: dict = field(default_factory=lambda: dict(STRING))
    value: Any = "x"
    old: Any = None  # an old value: the case is an update of an object created with it


@dataclass(frozen=True)
class PolicyCase:
    id: str
    library: str
    kind: str
    policy: dict  # the ValidatingAdmissionPolicy spec, without matchConstraints
    data: dict  # the ConfigMap's data
    labels: dict = field(default_factory=dict)
    params: dict | None = None  # a param ConfigMap's data (paramKind ConfigMap), if any


# (library, [expressions]); each expression becomes the single rule of a string field "x"
EXPRESSIONS: list[tuple[str, list[str]]] = [
    (
        "CEL core",
        [
            "1 + 2 * 3 == 7",
            "7 / 2 == 3",
            "7 % 3 == 1",
            "-7 / 2 == -3",
            "1 / 0 == 1",
            "5 % 0 == 1",
            "9223372036854775807 + 1 > 0",
            "-9223372036854775808 - 1 < 0",
            "18446744073709551615u + 1u > 0u",
            "1u - 2u > 0u",
            "2.0 / 0.0 > 1.0",
            "int('12') == 12",
            "int('x') == 1",
            "int(1e20) == 1",
            "uint(-1) == 1u",
            "double('1.5') == 1.5",
            "string(1.5) == '1.5'",
            "string(10u) == '10'",
            "bool('true')",
            "bool('yes')",
            "'abc'.size() == 3",
            "size('héllo') == 5",
            "'abc' + 'def' == 'abcdef'",
            "'abc'.contains('b') && 'abc'.startsWith('a') && 'abc'.endsWith('c')",
            "'abc'.matches('^a.c$')",
            "b'abc'.size() == 3",
            "string(b'\\xff') == 'x'",
            "[1, 2, 3].size() == 3",
            "[1, 2] + [3] == [1, 2, 3]",
            "[1, 2, 3][5] == 1",
            "{'a': 1}['b'] == 1",
            "{'a': 1}.a == 1",
            "has({'a': 1}.a)",
            "[1, 2, 3].all(x, x > 0)",
            "[1, 2, 3].exists(x, x > 2)",
            "[1, 2, 3].exists_one(x, x > 1)",
            "[1, 2, 3].map(x, x * 2) == [2, 4, 6]",
            "[1, 2, 3].filter(x, x % 2 == 1) == [1, 3]",
            "[1, 2, 3].map(x, x > 1, x * 10) == [20, 30]",
            "{'a': 1, 'b': 2}.all(k, k.size() == 1)",
            "[1, 0].all(x, 1 / x > 0)",
            "[0, 1].exists(x, 1 / x > 0)",
            "true || 1 / 0 == 1",
            "false && 1 / 0 == 1",
            "1 / 0 == 1 || true",
            "timestamp('2024-01-01T00:00:00Z') + duration('36h') == timestamp('2024-01-02T12:00:00Z')",
            "timestamp('2024-01-01T00:00:00Z').getFullYear() == 2024",
            "timestamp('2024-01-01T00:00:00Z').getHours('America/New_York') == 19",
            "timestamp('not a time') == timestamp('2024-01-01T00:00:00Z')",
            "duration('1h30m') == duration('90m')",
            "duration('1d') == duration('24h')",
            "duration('1h').getMinutes() == 60",
            "type(1) == int && type('a') == string && type(1u) == uint",
            "type(1.0) == double && type([]) == list && type({}) == map",
            "dyn(1) == 1",
            "[1, 'a'].size() == 2",
            "{'a': 1, 'b': 'x'}.size() == 2",
            "[1, 2.0].size() == 2",
            "null == null",
            "1 in [1, 2, 3] && 'a' in {'a': 1}",
            "self == 'x'",
            "self.size() == 1",
            "self == 1",
            "self + 1 == 'x1'",
            "undeclared == 1",
            "1 + ",
            "'abc'.nosuchfunction()",
            "1",
            "'a' < 'b' && b'a' < b'b' && false < true",
            "1 == 1 ? true : false",
            "1 < 2 ? 'a' : 1",
            "0.1 + 0.2 == 0.3",
            "math.greatest(1, 2) == 2",
        ],
    ),
    (
        "cross-type numeric comparisons",
        [
            "1 < 1.5",
            "1.5 > 1",
            "1 <= 1.0",
            "2.0 >= 2",
            "1u < 2",
            "2 > 1u",
            "1u < 1.5",
            "1.5 > 1u",
            "-1 < 1u",
            "1 == 1.0",
            "1.0 == 1",
            "1 != 1.5",
            "1u == 1",
            "dyn(1) == 1.0",
            "dyn(1) < 1.5",
            "[1, 2].exists(x, x < 1.5)",
            "1 in [1.0, 2.0]",
            "{'a': 1}.a < 1.5",
        ],
    ),
    (
        "CEL optional types",
        [
            "optional.of(1).hasValue()",
            "!optional.none().hasValue()",
            "optional.of(1).value() == 1",
            "optional.none().value() == 1",
            "optional.none().orValue(5) == 5",
            "{'a': 1}[?'a'].orValue(0) == 1",
            "{'a': 1}[?'b'].orValue(0) == 0",
            "{'a': {'b': 1}}.?a.?b.orValue(0) == 1",
            "{'a': {'b': 1}}.?a.?c.orValue(0) == 0",
            "[1, 2][?5].orValue(0) == 0",
            "[1, 2][?1].orValue(0) == 2",
            "optional.of(1).or(optional.of(2)).value() == 1",
            "optional.none().or(optional.of(2)).value() == 2",
            "optional.ofNonZeroValue(0).hasValue()",
            "optional.ofNonZeroValue('').orValue('d') == 'd'",
            "optional.of(1).optMap(x, x + 1).value() == 2",
            "optional.of(1).optFlatMap(x, optional.of(x + 1)).value() == 2",
            "[?optional.of(1), ?optional.none()] == [1]",
            "{?'a': optional.of(1), ?'b': optional.none()} == {'a': 1}",
            "optional.of(1) == optional.of(1)",
            "optional.of(1) != optional.none()",
            "optional.of(1).compareTo(semver('1.0.0')) == 0",
            "optional.of(1).isLessThan(semver('1.0.0'))",
            "optional.of(1).isGreaterThan(quantity('1'))",
            "semver('1.0.0').compareTo(optional.of(1)) == 0",
            "quantity('1').compareTo(optional.of(1)) == 0",
            "[optional.of(1)].sum() == 1",
            "format.dns1123Label().validate('a').isLessThan(semver('1.0.0'))",
            "optional.of(1).size() == 1",
        ],
    ),
    (
        "CEL extended strings",
        [
            "'hello'.charAt(1) == 'e'",
            "'hello'.charAt(5) == ''",
            "'hello'.charAt(6) == ''",
            "'hello'.indexOf('l') == 2",
            "'hello'.indexOf('l', 3) == 3",
            "'hello'.lastIndexOf('l') == 3",
            "'hello'.indexOf('z') == -1",
            "'hello'.indexOf('l', 10) == 1",
            "'HeLLo'.lowerAscii() == 'hello'",
            "'hello'.upperAscii() == 'HELLO'",
            "'a-b-c'.replace('-', '+') == 'a+b+c'",
            "'a-b-c'.replace('-', '+', 1) == 'a+b-c'",
            "'a,b,c'.split(',') == ['a', 'b', 'c']",
            "'a,b,c'.split(',', 2) == ['a', 'b,c']",
            "'hello'.substring(1, 3) == 'el'",
            "'hello'.substring(3, 1) == 'x'",
            "'  hi  '.trim() == 'hi'",
            "['a', 'b'].join('-') == 'a-b'",
            "['a', 'b'].join() == 'ab'",
            "strings.quote('a\"b') == '\"a\\\\\"b\"'",
            "'%s=%d'.format(['replicas', 3]) == 'replicas=3'",
            "'%.2f'.format([1.5]) == '1.50'",
            "'%x'.format([255]) == 'ff'",
            "'%d'.format(['x']) == 'x'",
            "'%e'.format([1234.5]) == '1.234500e+03'",
            "'%s'.format([[1, 2]]) == '[1, 2]'",
            "'%s'.format([{'a': 1}]) == '{a: 1}'",
            "'%b'.format([5]) == '101'",
            "'%o'.format([8]) == '10'",
            "'hello'.reverse() == 'olleh'",
            "'%s'.format([1.0]) == '1'",
        ],
    ),
    (
        "CEL sets",
        [
            "sets.contains([1, 2, 3], [1, 2])",
            "!sets.contains([1, 2], [3])",
            "sets.equivalent([1, 2], [2, 1, 1])",
            "sets.intersects(['a', 'b'], ['b'])",
            "!sets.intersects([1], [])",
            "sets.contains([1, 2.0], [1])",
            "sets.contains([[1]], [[1]])",
        ],
    ),
    (
        "Kubernetes lists",
        [
            "[1, 2, 3].isSorted()",
            "![3, 1].isSorted()",
            "['a', 'b'].isSorted()",
            "[1, 2, 3].sum() == 6",
            "[1.5, 2.5].sum() == 4.0",
            "[].sum() == 0",
            "[duration('1s'), duration('2s')].sum() == duration('3s')",
            "[3, 1, 2].min() == 1",
            "[3, 1, 2].max() == 3",
            "[].min() == 0",
            "['b', 'a'].min() == 'a'",
            "[1, 2, 3, 2].indexOf(2) == 1",
            "[1, 2, 3, 2].lastIndexOf(2) == 3",
            "[1, 2].indexOf(5) == -1",
            "[[1], [2]].indexOf([2]) == 1",
            "[1, 2, 3].includes(2)",
            "[3, 1, 2].sort() == [1, 2, 3]",
            "lists.range(3) == [0, 1, 2]",
            "[1, 1, 2].distinct() == [1, 2]",
            "[[1], [2, 3]].flatten() == [1, 2, 3]",
            "[1, 2, 3].reverse() == [3, 2, 1]",
            "[1, 2, 3, 4].slice(1, 3) == [2, 3]",
            "[1, 2].first().orValue(0) == 1",
            "[1, 2].last().orValue(0) == 2",
            "[{'n': 2}, {'n': 1}].sortBy(e, e.n)[0].n == 1",
        ],
    ),
    (
        "Kubernetes regex",
        [
            "'abc 123'.find('[0-9]+') == '123'",
            "'abc'.find('[0-9]+') == ''",
            "'abc'.find('[0-9]*') == ''",
            "'123abc'.find('[0-9]*') == '123'",
            "'a1b2c3'.findAll('[0-9]') == ['1', '2', '3']",
            "'a1b2c3'.findAll('[0-9]', 2) == ['1', '2']",
            "'a1b2c3'.findAll('[0-9]', 0) == []",
            "'abc'.findAll('x*') == ['', '', '', '']",
            "'abc'.findAll('x*').size() == 4",
            "'aaa'.findAll('a*') == ['aaa', '']",
            "'abc'.find('(') == ''",
            "'abc'.find('(a)\\\\1') == ''",
            "'abc'.find('(?=a)') == ''",
            "'abc'.find('(?P<n>a)') == 'a'",
            "'abc'.matches('(?i)ABC')",
            "'abc'.matches('\\\\Aabc\\\\z')",
            "'ab'.find('a|ab') == 'a'",
            "'x y'.find('\\\\s') == ' '",
            "'é'.find('.') == 'é'",
            "'abc'.find('\\\\pL+') == 'abc'",
            "'abc'.find('[[:alpha:]]+') == 'abc'",
            "'abc'.matches('a{2,1}')",
            "'aaa'.findAll('a', -1).size() == 3",
            "'abc'.find('\\\\Z') == ''",
        ],
    ),
    (
        "Kubernetes URL",
        [
            "url('https://example.com:8443/a/b?x=1').getScheme() == 'https'",
            "url('https://example.com:8443/a/b?x=1').getHost() == 'example.com:8443'",
            "url('https://example.com:8443/a/b?x=1').getHostname() == 'example.com'",
            "url('https://example.com:8443/a/b?x=1').getPort() == '8443'",
            "url('https://example.com/a b').getEscapedPath() == '/a%20b'",
            "url('https://example.com/?x=1&x=2&y').getQuery() == {'x': ['1', '2'], 'y': ['']}",
            "url('https://[::1]:80/').getHostname() == '::1'",
            "url('https://[::1]:80/').getHost() == '[::1]:80'",
            "url('/absolute-path').getEscapedPath() == '/absolute-path'",
            "url('/absolute-path').getScheme() == ''",
            "isURL('/absolute-path')",
            "isURL('https://example.com')",
            "!isURL('relative/path')",
            "!isURL('')",
            "isURL('mailto:a@example.com')",
            "url('relative') == url('relative')",
            "isURL('https://exa mple.com')",
            "isURL('https://example.com:99999')",
            "url('https://example.com').getPort() == ''",
            "url('https://user:pw@example.com/').getHost() == 'example.com'",
            "isURL('http://%41.com')",
            "url('https://example.com/%2F').getEscapedPath() == '/%2F'",
        ],
    ),
    (
        "Kubernetes quantity",
        [
            "quantity('1Gi').isGreaterThan(quantity('1000Mi'))",
            "quantity('200M').compareTo(quantity('0.2G')) == 0",
            "quantity('1').isLessThan(quantity('2'))",
            "quantity('1.5').asApproximateFloat() == 1.5",
            "quantity('1k').asInteger() == 1000",
            "quantity('1.5').asInteger() == 1",
            "quantity('1.5').isInteger()",
            "quantity('1k').isInteger()",
            "quantity('1k').add(quantity('1')).asInteger() == 1001",
            "quantity('1k').add(1).asInteger() == 1001",
            "quantity('1k').sub(quantity('1')).asInteger() == 999",
            "quantity('1k').sub(1).asInteger() == 999",
            "quantity('1k').add(1).sub(1) == quantity('1k')",
            "quantity('1k') == quantity('1000')",
            "quantity('-1').sign() == -1",
            "quantity('0').sign() == 0",
            "isQuantity('1Gi')",
            "!isQuantity('1GB')",
            "!isQuantity('')",
            "quantity('1GB').sign() == 1",
            "quantity('100Ei').asInteger() > 0",
            "quantity('1e3').asInteger() == 1000",
            "quantity('0.1n').isInteger()",
            "quantity('1').add(quantity('1m')).isInteger()",
            "quantity('9223372036854775807').add(1).asInteger() > 0",
            "quantity('1Ki').asInteger() == 1024",
        ],
    ),
    (
        "Kubernetes IP and CIDR",
        [
            "ip('10.0.0.1').family() == 4",
            "ip('::1').family() == 6",
            "ip('10.0.0.1').isLoopback() == false",
            "ip('127.0.0.1').isLoopback()",
            "ip('0.0.0.0').isUnspecified()",
            "ip('::').isUnspecified()",
            "ip('224.0.0.1').isLinkLocalMulticast()",
            "ip('169.254.1.1').isLinkLocalUnicast()",
            "ip('fe80::1').isLinkLocalUnicast()",
            "ip('8.8.8.8').isGlobalUnicast()",
            "!ip('255.255.255.255').isGlobalUnicast()",
            "ip('2001:DB8::1').isCanonical()",
            "ip('2001:db8::1').isCanonical()",
            "ip.isCanonical('2001:db8::1')",
            "ip.isCanonical('2001:DB8::1')",
            "ip.isCanonical('10.0.0.1')",
            "ip.isCanonical('nope')",
            "isIP('10.0.0.1') && isIP('::1')",
            "!isIP('10.0.0.256')",
            "!isIP('010.0.0.1')",
            "!isIP('::ffff:10.0.0.1') || true",
            "isIP('::ffff:10.0.0.1')",
            "!isIP('10.0.0.1%eth0')",
            "ip('10.0.0.256') == ip('10.0.0.1')",
            "cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))",
            "cidr('10.0.0.0/8').containsIP('10.1.2.3')",
            "cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')",
            "cidr('10.0.0.0/8').containsCIDR(cidr('11.0.0.0/16')) == false",
            "cidr('10.1.2.3/8').masked() == cidr('10.0.0.0/8')",
            "cidr('10.0.0.0/8').prefixLength() == 8",
            "cidr('10.0.0.0/8').ip() == ip('10.0.0.0')",
            "isCIDR('10.0.0.0/8')",
            "!isCIDR('10.0.0.0/33')",
            "isCIDR('10.0.0.1/8')",
            "string(ip('10.0.0.1')) == '10.0.0.1'",
            "string(cidr('::1/128')) == '::1/128'",
            "ip('10.0.0.1') == ip('10.0.0.1')",
            "ip('::ffff:1.2.3.4').family() == 6",
        ],
    ),
    (
        "Kubernetes semver",
        [
            "semver('1.30.2').isLessThan(semver('1.31.0'))",
            "semver('1.2.3').major() == 1 && semver('1.2.3').minor() == 2 && semver('1.2.3').patch() == 3",
            "semver('1.0.0-alpha').isLessThan(semver('1.0.0'))",
            "semver('1.0.0+b1').compareTo(semver('1.0.0+b2')) == 0",
            "semver('1.0.0').isGreaterThan(semver('0.9.9'))",
            "isSemver('1.2.3')",
            "!isSemver('v1.2.3')",
            "isSemver('v1.2', true)",
            "semver('v1.2', true) == semver('1.2.0')",
            "semver('01.2.3', true).major() == 1",
            "semver('1.2') == semver('1.2.0')",
            "!isSemver('1.2.3.4')",
            "semver('1.2.3') == semver('1.2.3')",
            "isSemver('1.0.0-rc.1+build.5')",
        ],
    ),
    (
        "Kubernetes format",
        [
            "!format.dns1123Label().validate('web-1').hasValue()",
            "format.dns1123Label().validate('Web_1').hasValue()",
            "format.dns1123Label().validate('Web_1').value()[0].startsWith('a lowercase')",
            "format.dns1123Subdomain().validate('a.b').orValue([]) == []",
            "format.labelValue().validate('').orValue([]) == []",
            "format.qualifiedName().validate('a/b/c').hasValue()",
            "format.named('dns1123Label').hasValue()",
            "!format.named('nope').hasValue()",
            "format.named('dns1123Label').value().validate('ok').orValue([]) == []",
            "format.uri().validate('https://a.example').orValue([]) == []",
            "format.uri().validate('not a uri').hasValue()",
            "format.uuid().validate('6ba7b810-9dad-11d1-80b4-00c04fd430c8').orValue([]) == []",
            "format.uuid().validate('nope').hasValue()",
            "format.date().validate('2024-02-30').hasValue()",
            "format.datetime().validate('2024-01-01T00:00:00Z').orValue([]) == []",
            "format.byte().validate('aGk=').orValue([]) == []",
            "format.dns1035Label().validate('1a').hasValue()",
            "format.dns1123LabelPrefix().validate('a-').orValue([]) == []",
        ],
    ),
    (
        "CEL two-variable comprehensions",
        [
            "[10, 20].all(i, v, v == (i + 1) * 10)",
            "{'a': 1}.exists(k, v, k == 'a' && v == 1)",
            "[1, 2, 3].existsOne(i, v, v == 2)",
            "[1, 2].transformList(i, v, i + v) == [1, 3]",
            "[1, 2, 3].transformList(i, v, v > 1, v * 10) == [20, 30]",
            "{'a': 1, 'b': 2}.transformMap(k, v, v * 10) == {'a': 10, 'b': 20}",
            "{'a': 1, 'b': 2}.transformMap(k, v, v > 1, v) == {'b': 2}",
            "{'a': 1}.transformMapEntry(k, v, {v: k}) == {1: 'a'}",
            "[1, 2].transformMapEntry(i, v, {'k' + string(v): i}) == {'k1': 0, 'k2': 1}",
            "{'a': 1, 'b': 1}.transformMapEntry(k, v, {v: k}) == {1: 'a'}",
        ],
    ),
    (
        "parser limits",
        [
            "(" * 30 + "1" + ")" * 30 + " == 1",
            "(" * 40 + "1" + ")" * 40 + " == 1",
            "[" * 30 + "1" + "]" * 30 + " != []",
            "[" * 40 + "1" + "]" * 40 + " != []",
            " + ".join(["1"] * 40) + " == 40",
            " + ".join(["1"] * 300) + " == 300",
            "(" * 260 + "1" + ")" * 260 + " == 1",
        ],
    ),
    (
        "cost",
        [
            "self.matches('^' + self + '$')",
            "[1, 2, 3].map(a, [1, 2, 3].map(b, a * b)).size() == 3",
            "'x'" + ".replace('x', 'xx')" * 30 + ".size() > 0",
        ],
    ),
    (
        "CEL strings format",
        [
            "'%f'.format([dyn(1)]) == ''",
            "'%d'.format([dyn(1.5)]) == ''",
            "'%x'.format([dyn(1.5)]) == ''",
            "'%s'.format([[dyn(b'\\xff')]]) == ''",
            "'%d'.format([1, 2]) == '1'",
            "'%d %d'.format([1]) == ''",
            "'%z'.format([1]) == ''",
            "'%.f'.format([1.5]) == ''",
            "'%'.format([1]) == ''",
            "'%d'.format([self]) == ''",
            "'%s'.format([[1.5]]) == '[1.5]'",
        ],
    ),
]

# string.format results read back through a messageExpression (rule "self < 5" on 9), so the
# apiserver's own text is compared with the local one
FORMAT_MESSAGES: list[str] = [
    "'%e'.format([1234.5])",
    "'%e'.format([0.000123])",
    "'%e'.format([0.0])",
    "'%e'.format([-1234.5])",
    "'%e'.format([1e100])",
    "'%.2e'.format([1234.5])",
    "'%.0e'.format([1234.5])",
    "'%.12e'.format([1234.5])",
    "'%e'.format(['Infinity'])",
    "'%f'.format([1234567.5])",
    "'%.2f'.format([-0.001])",
    "'%.0f'.format([2.5])",
    "'%f'.format(['-Infinity'])",
    "'%s'.format([{'a': 1}])",
    "'%s'.format([{'b': [1, {'c': 'd'}], 'a': 'x'}])",
    "'%s'.format([[1, 'a', 1.5, true, null, b'xy']])",
    "'%s'.format([[[1, 2], [], {}]])",
    "'%s'.format([{1: 'a', 2: 'b'}])",
    "'%s'.format([{true: 1, false: 2}])",
    "'%s'.format([['a\"b\\n']])",
    "'%s / %s / %s'.format([true, null, b'abc'])",
    "'%s %s %s %s'.format([1e20, 1234567.0, 0.00001, -0.0])",
    "'%s'.format([timestamp('2024-01-01T00:00:00.120Z')])",
    "'%s %s'.format([duration('90m'), duration('1.5s')])",
    "'%s'.format([[timestamp('2024-01-01T00:00:00Z'), duration('1h')]])",
    "'%s %s'.format([type(1), [type([1]), type(null)]])",
    "'%x %X %x %x'.format(['hi', -255, b'\\x01\\xff', 255u])",
    "'%b %b %o %d'.format([-5, true, -8, 18446744073709551615u])",
    "'%s'.format([self])",
    "'%.3f'.format([double(self) / 7.0])",
]

# rules that need a schema and a value of their own (string fields get "x" otherwise)
SELF_CASES: list[tuple[str, dict, Any, list[str]]] = [
    ("CEL core", INT, 5, ["self > 3", "self < 3", "self / 0 == 1", "self == 5.0", "self < 5.5", "string(self) == '5'"]),
    ("CEL core", NUMBER, 1.5, ["self > 1", "self == 1.5", "int(self) == 1"]),
    ("CEL core", NUMBER, 2, ["self == 2", "self == 2.0", "self > 1.5"]),
    (
        "CEL core",
        OBJECT,
        {"name": "web", "replicas": 3, "tags": ["a", "b"]},
        [
            "self.replicas <= 5",
            "self.name.startsWith('db')",
            "has(self.limit)",
            "self.limit == '1'",
            "self.?limit.orValue('none') == 'none'",
            "self.tags.all(t, t.size() == 1)",
            "self.tags.exists(t, t == 'c')",
            "size(self.tags) == 2",
            "self.tags.isSorted()",
            "'a' in self.tags",
        ],
    ),
    ("Kubernetes quantity", OBJECT, {"limit": "500m"}, ["quantity(self.limit).isLessThan(quantity('1'))"]),
    ("Kubernetes quantity", OBJECT, {"limit": "1X"}, ["quantity(self.limit).isLessThan(quantity('1'))"]),
    ("Kubernetes regex", STRING, "web-01", ["self.matches('^[a-z]+-[0-9]+$')", "self.find('[0-9]+') == '01'"]),
    ("CEL core", INTS, [3, 1, 2], ["self.sum() == 6", "self.max() == 3", "self.isSorted()", "self.all(x, x > 1)"]),
]

# CRD-specific rule features: messageExpression, fieldPath, reason, oldSelf, optionalOldSelf
FEATURE_CASES: list[tuple[str, dict, Any, Any, list[dict]]] = [
    # (kind, schema, value, old value or None, rules)
    ("message", INT, 9, None, [{"rule": "self < 5", "message": "must be below 5"}]),
    ("message", INT, 9, None, [{"rule": "self < 5", "message": "  padded message  "}]),
    ("messageExpression", INT, 9, None, [{"rule": "self < 5", "messageExpression": "'got ' + string(self)"}]),
    ("messageExpression", INT, 9, None, [{"rule": "self < 5", "messageExpression": "''", "message": "fallback"}]),
    (
        "messageExpression",
        INT,
        9,
        None,
        [{"rule": "self < 5", "messageExpression": "'a\\nb'", "message": "multi-line falls back"}],
    ),
    ("messageExpression", INT, 9, None, [{"rule": "self < 5", "messageExpression": "'x' + string(1/0)"}]),
    ("messageExpression", INT, 9, None, [{"rule": "self < 5", "messageExpression": "1"}]),
    ("messageExpression", STRING, "abc", None, [{"rule": "self == 'x'", "messageExpression": "self + ' is wrong'"}]),
    ("reason", INT, 9, None, [{"rule": "self < 5", "reason": "FieldValueForbidden", "message": "no"}]),
    ("reason", INT, 9, None, [{"rule": "self < 5", "reason": "FieldValueRequired", "message": "needed"}]),
    ("reason", INT, 9, None, [{"rule": "self < 5", "reason": "FieldValueDuplicate", "message": "dup"}]),
    ("reason", INT, 9, None, [{"rule": "self < 5", "reason": "FieldValueInvalid"}]),
    ("reason", INT, 9, None, [{"rule": "self < 5", "reason": "Nope"}]),
    ("fieldPath", OBJECT, {"replicas": 9}, None, [{"rule": "self.replicas < 5", "fieldPath": ".replicas"}]),
    ("fieldPath", OBJECT, {"replicas": 9}, None, [{"rule": "self.replicas < 5", "fieldPath": ".nope"}]),
    (
        "fieldPath",
        OBJECT,
        {"tags": ["a"]},
        None,
        [{"rule": "self.tags.size() > 1", "fieldPath": ".tags", "message": "two tags"}],
    ),
    ("several rules", INT, 9, None, [{"rule": "self < 5"}, {"rule": "self > 100"}, {"rule": "self != 9"}]),
    ("transition", INT, 3, 5, [{"rule": "self >= oldSelf", "message": "no scaling down"}]),
    ("transition", INT, 7, 5, [{"rule": "self >= oldSelf", "message": "no scaling down"}]),
    ("transition", INT, 3, None, [{"rule": "self >= oldSelf", "message": "create: not evaluated"}]),
    ("transition", STRING, "b", "a", [{"rule": "self == oldSelf", "message": "immutable"}]),
    ("transition", STRING, "b", "a", [{"rule": "self == oldSelf", "messageExpression": "oldSelf + ' -> ' + self"}]),
    (
        "optionalOldSelf",
        INT,
        3,
        None,
        [{"rule": "!oldSelf.hasValue() || self >= oldSelf.value()", "optionalOldSelf": True}],
    ),
    ("optionalOldSelf", INT, 3, None, [{"rule": "oldSelf.hasValue()", "optionalOldSelf": True, "message": "new"}]),
    (
        "optionalOldSelf",
        INT,
        3,
        5,
        [{"rule": "self >= oldSelf.orValue(0)", "optionalOldSelf": True, "message": "down"}],
    ),
    ("optionalOldSelf", INT, 3, 5, [{"rule": "oldSelf.value() == 5", "optionalOldSelf": True}]),
    ("ratcheting", INT, 9, 9, [{"rule": "self < 5", "message": "unchanged: ratcheted"}]),
    ("ratcheting", INT, 8, 9, [{"rule": "self < 5", "message": "changed: enforced"}]),
    ("ratcheting", OBJECT, {"replicas": 9, "name": "b"}, {"replicas": 9, "name": "a"}, [{"rule": "self.replicas < 5"}]),
]


def _vap(validations, variables=None, match=None, failure="Fail"):
    spec: dict = {"failurePolicy": failure, "validations": validations}
    if variables:
        spec["variables"] = [{"name": n, "expression": e} for n, e in variables]
    if match:
        spec["matchConditions"] = [{"name": f"c{i}", "expression": e} for i, e in enumerate(match)]
    return spec


POLICY_CASES: list[tuple[str, dict, dict, dict | None]] = [
    # (kind, policy spec, ConfigMap data, params data)
    ("validation", _vap([{"expression": "has(object.data) && 'a' in object.data"}]), {"a": "1"}, None),
    ("validation", _vap([{"expression": "'a' in object.data"}]), {"b": "1"}, None),
    ("validation", _vap([{"expression": "'a' in object.data", "message": "needs a"}]), {"b": "1"}, None),
    (
        "messageExpression",
        _vap([{"expression": "object.data.size() < 2", "messageExpression": "'has ' + string(object.data.size())"}]),
        {"a": "1", "b": "2"},
        None,
    ),
    (
        "messageExpression",
        _vap([{"expression": "object.data.size() < 2", "messageExpression": "''", "message": "fallback"}]),
        {"a": "1", "b": "2"},
        None,
    ),
    ("reason", _vap([{"expression": "false", "reason": "Forbidden", "message": "never"}]), {"a": "1"}, None),
    ("reason", _vap([{"expression": "false", "reason": "Unauthorized"}]), {"a": "1"}, None),
    ("variables", _vap([{"expression": "variables.n <= 1"}], [("n", "object.data.size()")]), {"a": "1"}, None),
    (
        "variables",
        _vap([{"expression": "variables.n <= 1"}], [("n", "object.data.size()")]),
        {"a": "1", "b": "2"},
        None,
    ),
    (
        "variables",
        _vap(
            [{"expression": "variables.big", "messageExpression": "'too many: ' + string(variables.n)"}],
            [("n", "object.data.size()"), ("big", "variables.n < 2")],
        ),
        {"a": "1", "b": "2"},
        None,
    ),
    ("eval error", _vap([{"expression": "object.data.missing == '1'"}]), {"a": "1"}, None),
    ("eval error", _vap([{"expression": "object.data.missing == '1'"}], failure="Ignore"), {"a": "1"}, None),
    ("eval error", _vap([{"expression": "int(object.data.a) > 0"}]), {"a": "x"}, None),
    ("matchConditions", _vap([{"expression": "false"}], match=["'skip' in object.data"]), {"a": "1"}, None),
    ("matchConditions", _vap([{"expression": "false"}], match=["'a' in object.data"]), {"a": "1"}, None),
    ("matchConditions", _vap([{"expression": "false"}], match=["object.data.nope == '1'"]), {"a": "1"}, None),
    (
        "matchConditions",
        _vap([{"expression": "false"}], match=["object.data.nope == '1'"], failure="Ignore"),
        {"a": "1"},
        None,
    ),
    ("params", _vap([{"expression": "object.data.size() <= int(params.data.max)"}]), {"a": "1"}, {"max": "1"}),
    (
        "params",
        _vap(
            [
                {
                    "expression": "object.data.size() <= int(params.data.max)",
                    "messageExpression": "'max ' + params.data.max",
                }
            ]
        ),
        {"a": "1", "b": "2"},
        {"max": "1"},
    ),
    (
        "libraries",
        _vap([{"expression": "quantity(object.data.mem).isLessThan(quantity('1Gi'))"}]),
        {"mem": "2Gi"},
        None,
    ),
    ("libraries", _vap([{"expression": "object.data.all(k, v, isIP(v))"}]), {"a": "10.0.0.1", "b": "x"}, None),
    ("libraries", _vap([{"expression": "url(object.data.u).getScheme() == 'https'"}]), {"u": "http://x"}, None),
    (
        "libraries",
        _vap([{"expression": "object.metadata.name.matches('^k8slearn-')", "message": "bad name"}]),
        {"a": "1"},
        None,
    ),
    ("request", _vap([{"expression": "request.operation == 'CREATE'"}]), {"a": "1"}, None),
    ("request", _vap([{"expression": "request.namespace == 'default'"}]), {"a": "1"}, None),
    ("request", _vap([{"expression": "oldObject == null"}]), {"a": "1"}, None),
    ("optional", _vap([{"expression": "object.data.?zz.orValue('d') == 'd'"}]), {"a": "1"}, None),
    ("optional", _vap([{"expression": "object.?metadata.?labels.?team.hasValue()"}]), {"a": "1"}, None),
]


def crd_cases() -> list[CRDCase]:
    """Every CRD case, with stable ids (e001, s001, f001, m001)."""
    out: list[CRDCase] = []
    n = 0
    for library, exprs in EXPRESSIONS:
        for e in exprs:
            n += 1
            out.append(CRDCase(f"e{n:03d}", library, "expression", ({"rule": e},)))
    n = 0
    for library, schema, value, texts in SELF_CASES:
        for text in texts:
            n += 1
            out.append(CRDCase(f"s{n:03d}", library, "self", ({"rule": text},), schema, value))
    for i, (kind, schema, value, old, rule_dicts) in enumerate(FEATURE_CASES, 1):
        out.append(CRDCase(f"f{i:03d}", "CRD rule features", kind, tuple(rule_dicts), schema, value, old))
    for i, text in enumerate(FORMAT_MESSAGES, 1):
        rule = {"rule": "self < 5", "messageExpression": text}
        out.append(CRDCase(f"m{i:03d}", "CEL strings format", "messageExpression", (rule,), INT, 9))
    return out


def policy_cases() -> list[PolicyCase]:
    return [
        PolicyCase(f"v{i:03d}", "ValidatingAdmissionPolicy", kind, spec, data, params=params)
        for i, (kind, spec, data, params) in enumerate(POLICY_CASES, 1)
    ]
