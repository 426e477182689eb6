"""Fuzz k8slearn.cel: generated expressions over the Kubernetes libraries, none may escape.

Every expression is evaluated through the guarded worker (k8slearn/cel/_guard.py), so an
engine crash is *counted* (a CELError with ``limit == "crash"``) and the run goes on. The run
fails only when something other than a value or a CELError comes back.

    python -m k8slearn.cel.fuzz --count 100000 --seed 1      # on demand
    (tests/test_cel_fuzz.py runs a short one in `make test`)
"""

from __future__ import annotations

import argparse
import random
from collections import Counter

from k8slearn.cel.engine import evaluate
from k8slearn.cel.errors import CELError

ATOMS = [
    "1", "-1", "0", "1u", "1.5", "'a'", "''", "'10.0.0.1'", "'1Gi'", "'1.2.3'", "b'x'", "true", "null",
    "[1, 2]", "['a']", "[]", "{'a': 1}", "{}", "duration('1s')", "timestamp('2024-01-01T00:00:00Z')",
    "optional.of(1)", "optional.none()", "quantity('1')", "semver('1.0.0')", "ip('10.0.0.1')",
    "cidr('10.0.0.0/8')", "url('https://a.example/p?q=1')", "format.dns1123Label()",
    "format.dns1123Label().validate('A')", "[optional.of(1)]", "dyn(1)", "'\\u00e9'",
]  # fmt: skip
MEMBERS = [
    "compareTo({})", "isLessThan({})", "isGreaterThan({})", "add({})", "sub({})", "sum()", "min()", "max()",
    "isSorted()", "indexOf({})", "lastIndexOf({})", "find({})", "findAll({})", "getHost()", "getScheme()",
    "getQuery()", "family()", "containsIP({})", "containsCIDR({})", "masked()", "prefixLength()", "major()",
    "validate({})", "hasValue()", "value()", "orValue({})", "size()", "contains({})", "split({})",
    "join({})", "format({})", "charAt({})", "asInteger()", "isInteger()", "asApproximateFloat()",
]  # fmt: skip
CALLS = [
    "quantity({})", "isQuantity({})", "semver({})", "isSemver({})", "ip({})", "isIP({})", "cidr({})",
    "isCIDR({})", "url({})", "isURL({})", "ip.isCanonical({})", "sign({})", "string({})", "int({})",
    "size({})", "optional.of({})", "sets.contains({}, {})", "format.named({})", "dyn({})", "type({})",
]  # fmt: skip
OPS = ["{} < {}", "{} == {}", "{} + {}", "{} in {}", "{} ? {} : {}", "[{}, {}]", "{{{}: {}}}", "!{}", "-{}"]


def expression(rng: random.Random, depth: int = 0) -> str:
    """One random expression, at most a few levels deep."""
    if depth > 3 or rng.random() < 0.3:
        return rng.choice(ATOMS)
    choice = rng.random()

    def sub() -> str:
        return expression(rng, depth + 1)

    if choice < 0.45:
        return f"{sub()}.{rng.choice(MEMBERS).format(*(sub() for _ in range(2)))}"
    if choice < 0.75:
        return rng.choice(CALLS).format(sub(), sub())
    op = rng.choice(OPS)
    return op.format(*(sub() for _ in range(op.count("{}"))))


def run(count: int, seed: int = 0, stopped: list[str] | None = None) -> Counter:
    """Evaluate ``count`` generated expressions; count values, CEL errors and guarded limits
    (the expressions the guard had to stop are appended to ``stopped``)."""
    rng = random.Random(seed)
    tally: Counter = Counter()
    for _ in range(count):
        expr = expression(rng)
        try:
            evaluate(expr)
            tally["value"] += 1
        except CELError as exc:
            tally[f"CELError ({exc.limit})" if exc.limit else "CELError"] += 1
            if exc.limit and stopped is not None:
                stopped.append(f"{exc.limit}: {expr}")
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    stopped: list[str] = []
    for outcome, n in sorted(run(args.count, args.seed, stopped).items()):
        print(f"{outcome:24s} {n}")
    for line in stopped[:20]:
        print("stopped by the guard:", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
