"""Compare the three CEL engines on PyPI: conformance pass count and evaluations per second.

Run:  .venv/bin/python benchmarks/bench_cel.py
Engines that are not installed are reported as such (only cel-expr-python is a project
dependency; install the others with pip to reproduce the comparison in docs/cel-engine.md).
Figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CONFORMANCE_DIR = REPO.parent / "shared" / "testdata" / "cel-spec"

EXPRESSIONS = {
    "arith": ("1 + 2 * 3 - x", {"x": 4}),
    "string": ("name.startsWith('web-') && size(name) < 63", {"name": "web-frontend"}),
    "k8s-rule": (
        "self.replicas <= self.maxReplicas && self.containers.all(c, c.image.contains(':'))",
        {"self": {"replicas": 3, "maxReplicas": 5, "containers": [{"image": f"nginx:1.{i}"} for i in range(10)]}},
    ),
}


def _py(v):
    """Normalise engine results to plain Python for comparison."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    if isinstance(v, (list, tuple)):
        return [_py(x) for x in v]
    if isinstance(v, dict):
        return {_py(k): _py(x) for k, x in v.items()}
    return v


class CelExprPython:
    name = "cel-expr-python (cel-cpp)"

    def __init__(self):
        from cel_expr_python import cel

        self.cel = cel

    def compile(self, expr, variables, check=True):
        cel = self.cel
        env = cel.NewEnv(variables={k: cel.Type.DYN for k in variables})
        prog = env.compile(expr, disable_check=not check)

        def run():
            r = prog.eval(data=variables)
            if r.type() == cel.Type.ERROR:  # errors come back as values, not exceptions
                raise RuntimeError(r.value())
            return _py(r.plain_value())

        return run


class CelPy:
    name = "cel-python (celpy, pure Python)"

    def __init__(self):
        import celpy
        from celpy import adapter, celtypes

        self.celpy, self.adapter, self.celtypes = celpy, adapter, celtypes

    def compile(self, expr, variables, check=True):
        env = self.celpy.Environment()
        prog = env.program(env.compile(expr))
        act = {k: self.adapter.json_to_cel(v) for k, v in variables.items()}

        def run():
            r = prog.evaluate(act)
            if isinstance(r, Exception):
                raise r
            return _py(self._plain(r))

        return run

    def _plain(self, r):
        t = self.celtypes
        if isinstance(r, t.BoolType):
            return bool(r)
        if isinstance(r, (t.ListType, list)):
            return [self._plain(x) for x in r]
        if isinstance(r, (t.MapType, dict)):
            return {self._plain(k): self._plain(v) for k, v in r.items()}
        return r

    def _unused(self):
        def run():
            pass

        return run


class RustCel:
    name = "common-expression-language (cel-rust)"

    def __init__(self):
        import cel

        self.cel = cel

    def compile(self, expr, variables, check=True):
        prog = self.cel.compile(expr)
        ctx = self.cel.Context(variables=variables)
        return lambda: _py(prog.execute(ctx))


def conformance(engine):
    from k8slearn.cel.conformance import load_file, values_equal

    passed = failed = 0
    failures = []
    for f in sorted(CONFORMANCE_DIR.glob("*.textproto")):
        for case in load_file(f):
            try:
                run = engine.compile(case.expr, case.bindings, check=not case.disable_check)
                got = run()
                ok = case.expect_error is None and values_equal(got, case.expected)
            except Exception as exc:  # noqa: BLE001 - any engine error counts as "error"
                got = f"error: {exc}"
                ok = case.expect_error is not None
            if ok:
                passed += 1
            else:
                failed += 1
                failures.append((case.id, str(got)[:80]))
    return passed, failed, failures


def bench(engine, seconds=0.5):
    rates = {}
    for label, (expr, variables) in EXPRESSIONS.items():
        run = engine.compile(expr, variables)
        run()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            for _ in range(50):
                run()
            n += 50
        rates[label] = n / (time.perf_counter() - t0)
    return rates


def bench_k8slearn(seconds=0.5):
    """The project's own API: compile once (k8slearn.cel.compile), evaluate many times."""
    import k8slearn.cel as kc

    rates = {}
    for label, (expr, variables) in EXPRESSIONS.items():
        prog = kc.compile(expr, variables)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            for _ in range(50):
                prog.evaluate(variables)
            n += 50
        rates[label] = n / (time.perf_counter() - t0)
    return rates


def main(argv=None):
    verbose = "-v" in (argv or sys.argv[1:])
    print(f"python {sys.version.split()[0]}  {datetime.date.today()}")
    for cls in (CelExprPython, CelPy, RustCel):
        try:
            engine = cls()
        except ImportError as exc:
            print(f"\n{cls.name}: not installed ({exc})")
            continue
        print(f"\n{engine.name}")
        if CONFORMANCE_DIR.is_dir():
            p, f, failures = conformance(engine)
            print(f"  conformance (raw engine, no k8slearn wrapper): {p}/{p + f} passed")
            if verbose:
                for cid, got in failures:
                    print(f"    FAIL {cid}: {got}")
        else:
            print(f"  conformance: skipped, {CONFORMANCE_DIR} is absent")
        for label, rate in bench(engine).items():
            print(f"  {label:9s} {rate:12,.0f} evals/s")
    try:
        rates = bench_k8slearn()
    except ImportError as exc:
        print(f"\nk8slearn.cel: unavailable ({exc})")
    else:
        print("\nk8slearn.cel.compile(...).evaluate(...) (chosen engine + Kubernetes libraries)")
        for label, rate in rates.items():
            print(f"  {label:9s} {rate:12,.0f} evals/s")


if __name__ == "__main__":
    main()
