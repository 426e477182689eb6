"""Which Kubernetes CEL libraries k8slearn provides, and from which release each is usable.

Two sources, both cited:
* ``introduced`` - the ``IntroducedVersion`` of the library in the apiserver's base CEL
  environment, staging/src/k8s.io/apiserver/pkg/cel/environment/base.go
  (https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/apiserver/pkg/cel/environment/base.go).
  That is a *compatibility* version: an apiserver only accepts new expressions using a
  library once its compatibility version (normally its own minor version minus one)
  reaches it, which is why...
* ``usable`` - the "Availability" column of the table in "CEL options, language features,
  and libraries" on https://kubernetes.io/docs/reference/using-api/cel/ , the release from
  which new expressions may use it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Library:
    name: str
    functions: tuple[str, ...]
    introduced: str  # base.go IntroducedVersion
    usable: str  # kubernetes.io availability
    provided: str  # "yes", "partly" or "no" in k8slearn, with the reason in `note`
    note: str = ""


LIBRARIES = (
    Library(
        "standard macros and functions",
        ("has", "all", "exists", "exists_one", "map", "filter"),
        "1.0",
        "all",
        "yes",
        "CEL standard library of cel-cpp",
    ),
    Library(
        "extended strings",
        (
            "charAt",
            "indexOf",
            "lastIndexOf",
            "lowerAscii",
            "upperAscii",
            "replace",
            "split",
            "join",
            "substring",
            "trim",
            "format",
            "quote",
            "reverse",
        ),
        "1.0 (v0), 1.29 (v2)",
        "1.25-1.30 (v1), 1.30+ (v2)",
        "yes",
        "cel-cpp strings extension; cel-cpp has no version switch, so functions newer than the "
        "release you target are not rejected",
    ),
    Library("Kubernetes list", ("isSorted", "sum", "min", "max", "indexOf", "lastIndexOf"), "1.0", "all", "yes"),
    Library("Kubernetes regex", ("find", "findAll"), "1.0", "all", "yes", "Python re stands in for Go RE2"),
    Library(
        "Kubernetes URL",
        ("url", "isURL", "getScheme", "getHost", "getHostname", "getPort", "getEscapedPath", "getQuery"),
        "1.0",
        "all",
        "yes",
        "urllib.parse stands in for Go net/url",
    ),
    Library(
        "Kubernetes authorizer",
        ("authorizer",),
        "1.27",
        "all",
        "no",
        "live-only: needs the apiserver's authorizer, cannot be evaluated locally",
    ),
    Library(
        "Kubernetes quantity",
        (
            "quantity",
            "isQuantity",
            "isInteger",
            "asInteger",
            "asApproximateFloat",
            "sign",
            "add",
            "sub",
            "compareTo",
            "isLessThan",
            "isGreaterThan",
        ),
        "1.28",
        "1.29",
        "yes",
    ),
    Library("CEL optional types", ("optional.of", "optional.none", "orValue", "hasValue", "?."), "1.28", "1.29", "yes"),
    Library(
        "CEL CrossTypeNumericComparisons",
        ("1 < 1.5",),
        "1.28",
        "1.29",
        "no",
        "cel-cpp's checker in cel-expr-python 0.1.3 rejects int < double at compile time",
    ),
    Library(
        "CEL sets",
        ("sets.contains", "sets.equivalent", "sets.intersects"),
        "1.29",
        "1.29+ (docs table has no row; base.go)",
        "yes",
    ),
    Library(
        "Kubernetes IP address",
        (
            "ip",
            "isIP",
            "family",
            "isCanonical",
            "isUnspecified",
            "isLoopback",
            "isLinkLocalMulticast",
            "isLinkLocalUnicast",
            "isGlobalUnicast",
        ),
        "1.30",
        "1.31",
        "yes",
    ),
    Library(
        "Kubernetes CIDR",
        ("cidr", "isCIDR", "containsIP", "containsCIDR", "ip", "masked", "prefixLength"),
        "1.30",
        "1.31",
        "yes",
    ),
    Library(
        "Kubernetes format",
        (
            "format.named",
            "format.dns1123Label",
            "format.dns1123Subdomain",
            "format.dns1035Label",
            "format.qualifiedName",
            "format.dns1123LabelPrefix",
            "format.dns1123SubdomainPrefix",
            "format.dns1035LabelPrefix",
            "format.labelValue",
            "format.uri",
            "format.uuid",
            "format.byte",
            "format.date",
            "format.datetime",
            "validate",
        ),
        "1.31",
        "1.32",
        "yes",
        "type-checked with Kubernetes' signatures; validate/format.named are evaluated through "
        "an AST rewrite that builds the optional in CEL (cel-expr-python cannot return "
        "optionals from Python); uri/uuid/byte/date/datetime approximate Go's net/url and "
        "strfmt checks",
    ),
    Library(
        "CEL TwoVarComprehensions",
        ("all", "exists", "existsOne", "transformList", "transformMap", "transformMapEntry"),
        "1.32",
        "1.33",
        "yes",
        "cel-cpp 'two-var-comprehensions'; cel-expr-python 0.1.3 binds no runtime for "
        "cel.@mapInsert, so k8slearn renames it in the parsed AST to a Python implementation",
    ),
    Library(
        "Kubernetes semver",
        ("semver", "isSemver", "major", "minor", "patch", "compareTo", "isLessThan", "isGreaterThan"),
        "1.33",
        "1.34",
        "yes",
    ),
    Library(
        "CEL bindings",
        ("cel.bind",),
        "not in base.go",
        "not listed",
        "no",
        "cel-cpp ships it, but Kubernetes' base environment does not enable it, so it is off",
    ),
)


def table() -> list[dict]:
    """The library table as plain dicts (for a DataFrame)."""
    return [
        dict(
            name=l.name,
            functions=", ".join(l.functions),
            introduced=l.introduced,
            usable=l.usable,
            provided=l.provided,
            note=l.note,
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
