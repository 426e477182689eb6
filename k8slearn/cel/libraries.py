"""Which CEL libraries Kubernetes v1.37.2 enables, from which version, and what k8slearn provides.

Every ``introduced`` value is the ``IntroducedVersion`` (and ``removed`` the ``RemovedVersion``)
of the library's entry in ``baseOpts`` of the apiserver's base CEL environment at the pinned
release, staging/src/k8s.io/apiserver/pkg/cel/environment/base.go; ``lines`` holds the lines
of that entry: https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apiserver/pkg/cel/environment/base.go

These are *compatibility* versions. An apiserver compiles **new** expressions (a create, or an
update that changes the expression) with the environment of ``DefaultCompatibilityVersion()``
(base.go L49-L55), its minimum compatibility version, which defaults to its emulation version
minus one minor (component-base compatibility/version.go L110-L115). Expressions already
stored are compiled with every library up to the apiserver's own version. So a library
introduced at 1.N is accepted in new expressions from 1.N+1 on: that is ``usable``, derived,
not copied. ``probe`` is one expression using the library, sent to a live apiserver by
notebook 04 to show which of them it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE_GO = (
    "https://github.com/kubernetes/kubernetes/blob/v1.37.2/staging/src/k8s.io/apiserver/pkg/cel/environment/base.go"
)


@dataclass(frozen=True)
class Library:
    name: str
    functions: tuple[str, ...]
    introduced: str  # base.go IntroducedVersion
    lines: str  # base.go lines of the entry, e.g. "L94-L99"
    provided: str  # "yes", "partly" or "no" in k8slearn, with the reason in `note`
    probe: str = ""  # an expression that needs the library (type-checks only with it)
    note: str = ""
    removed: str = ""  # base.go RemovedVersion, when the entry has one

    @property
    def usable(self) -> str:
        """The first release whose apiservers accept new expressions using the library."""
        major, minor = self.introduced.split(".")
        return "all" if minor == "0" else f"{major}.{int(minor) + 1}"

    @property
    def source(self) -> str:
        return f"{BASE_GO}#{self.lines}"


LIBRARIES = (
    Library(
        "Kubernetes URL, regex (find, findAll)",
        (
            "url",
            "isURL",
            "getScheme",
            "getHost",
            "getHostname",
            "getPort",
            "getEscapedPath",
            "getQuery",
            "find",
            "findAll",
        ),
        "1.0",
        "L58-L85",
        "yes",
        "url('https://a.example:8443').getPort() == '8443' && 'abc 12'.find('[0-9]+') == '12'",
        "urllib.parse and Python re stand in for Go net/url and RE2",
    ),
    Library(
        "Kubernetes lists v0",
        ("isSorted", "sum", "min", "max", "indexOf", "lastIndexOf"),
        "1.0",
        "L86-L92",
        "yes",
        "[1, 2, 3].isSorted() && [1, 2].sum() == 3",
        "replaced by v1 in environments of version 1.37 and later",
        removed="1.37",
    ),
    Library(
        "Kubernetes authorizer",
        ("authorizer", "path", "group", "resource", "check", "allowed", "reason", "errored"),
        "1.27",
        "L93-L98",
        "no",
        "authorizer.group('').resource('pods').check('get').allowed() || true",
        "live only: needs the apiserver's authorizer",
    ),
    Library(
        "CEL optional types, cross-type numeric comparisons, Kubernetes quantity",
        ("optional.of", "optional.none", "orValue", "hasValue", "?.", "1 < 1.5", "quantity", "isLessThan", "compareTo"),
        "1.28",
        "L99-L106",
        "yes",
        "quantity('1Gi').isGreaterThan(quantity('1000Mi')) && optional.of(1).hasValue()",
        "cross-type numeric comparisons: cel-cpp's checker rejects int < double, so such an expression "
        "runs unchecked when those are its only type errors (cel-cpp's runtime compares them)",
    ),
    Library(
        "literal validators (duration, timestamp, regex, homogeneous literals)",
        ("ValidateDurationLiterals", "ValidateTimestampLiterals", "ValidateRegexLiterals"),
        "1.29",
        "L107-L118",
        "no",
        "",
        "compile-time checks, not functions; k8slearn reports bad literals at evaluation instead",
    ),
    Library(
        "CEL extended strings v0",
        ("charAt", "indexOf", "lowerAscii", "replace", "split", "substring", "trim", "upperAscii"),
        "1.0",
        "L119-L126",
        "yes",
        "'abc'.charAt(1) == 'b'",
        "",
        removed="1.29",
    ),
    Library(
        "CEL extended strings v2",
        ("join", "quote", "format", "reverse"),
        "1.29",
        "L127-L132",
        "yes",
        "['a', 'b'].join('-') == 'a-b'",
        "cel-cpp's strings extension has no version switch; format runs cel-go's v2 formatter "
        "(en_US, ext/formatting.go) re-stated in Python (lib_string_format.py)",
    ),
    Library(
        "CEL sets",
        ("sets.contains", "sets.equivalent", "sets.intersects"),
        "1.29",
        "L133-L139",
        "yes",
        "sets.intersects(['a', 'b'], ['b'])",
    ),
    Library(
        "Kubernetes IP address and CIDR",
        (
            "ip",
            "isIP",
            "family",
            "ip.isCanonical",
            "cidr",
            "isCIDR",
            "containsIP",
            "containsCIDR",
            "masked",
            "prefixLength",
        ),
        "1.30",
        "L140-L146",
        "yes",
        "cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))",
    ),
    Library(
        "Kubernetes format",
        ("format.named", "format.dns1123Label", "format.labelValue", "format.uri", "format.uuid", "validate"),
        "1.31",
        "L147-L153",
        "yes",
        "!format.dns1123Label().validate('web-1').hasValue()",
        "validate/format.named evaluated through an AST rewrite (cel-expr-python cannot return "
        "optionals from Python); uri/uuid/byte/date/datetime approximate Go's checks",
    ),
    Library(
        "Kubernetes authorizer selectors",
        ("fieldSelector", "labelSelector"),
        "1.31",
        "L154-L160",
        "no",
        "authorizer.group('').resource('pods').fieldSelector('spec.nodeName=n1').check('list').allowed() || true",
        "live only: needs the apiserver's authorizer",
    ),
    Library(
        "CEL two-variable comprehensions",
        ("all", "exists", "existsOne", "transformList", "transformMap", "transformMapEntry"),
        "1.32",
        "L161-L167",
        "yes",
        "{'a': 1}.transformMap(k, v, v * 10) == {'a': 10}",
        "cel.@mapInsert is renamed in the parsed AST to a Python implementation",
    ),
    Library(
        "Kubernetes semver",
        ("semver", "isSemver", "major", "minor", "patch", "compareTo", "isLessThan", "isGreaterThan"),
        "1.33",
        "L168-L174",
        "yes",
        "semver('1.30.2').isLessThan(semver('1.31.0'))",
    ),
    Library(
        "CEL extended lists v3",
        ("lists.range", "distinct", "flatten", "reverse", "slice", "sort", "sortBy", "first", "last"),
        "1.34",
        "L175-L181",
        "partly",
        "[3, 1, 2].sort() == [1, 2, 3]",
        "lists.range, distinct, flatten, reverse, slice, sort in Python (lib_lists_v3.py); "
        "first/last (optionals) and the sortBy macro are missing",
    ),
    Library(
        "Kubernetes lists v1",
        ("includes",),
        "1.37",
        "L182-L187",
        "no",
        "[1, 2, 3].includes(2)",
        "v0 plus includes; not implemented by k8slearn",
    ),
)


def table() -> list[dict]:
    """The library table as plain dicts (for a DataFrame)."""
    return [
        dict(
            name=l.name,
            functions=", ".join(l.functions),
            introduced=l.introduced,
            removed=l.removed,
            usable=l.usable,
            provided=l.provided,
            note=l.note,
            source=l.source,
        )
        for l in LIBRARIES
    ]


# Cost limits of the apiserver, staging/src/k8s.io/apiserver/pkg/apis/cel/config.go
# (https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/apiserver/pkg/apis/cel/config.go).
# k8slearn does not enforce them: cel-expr-python 0.1.3 exposes no cost tracker.
COST_LIMITS = {
    "PerCallLimit": 1_000_000,  # one expression evaluation, "roughly 0.1 second"
    "RuntimeCELCostBudget": 10_000_000,  # per ValidatingAdmissionPolicyBinding or CustomResource
    "RuntimeCELCostBudgetMatchConditions": 2_500_000,  # matchConditions per object
}
