"""Run the CEL engine in a worker process, so no expression can crash or stall the caller.

cel-expr-python is C++ (cel-cpp) behind pybind11. Some expressions crash it outright (a
segmentation fault, exit 139) and a Jupyter kernel dies with it; others run for a minute
building a gigabyte (a string doubled twenty times). Kubernetes bounds every expression by
cost, estimated when a rule is created and metered while it runs (PerCallLimit and
RuntimeCELCostBudget in k8s.io/apiserver@v0.37.2/pkg/apis/cel/config.go); cel-expr-python
exposes no cost tracker, so k8slearn bounds what it can see instead:

* every compile and evaluation runs in one long-lived worker (``python -m
  k8slearn.cel._guard``), spoken to over pipes with pickled plain values;
* the worker's address space is capped (``MEMORY_LIMIT`` bytes above what it uses when idle);
* each request has a wall-clock limit (``TIME_LIMIT`` seconds);
* when the worker dies (signal, memory) or overruns, the caller gets a :class:`CELError` that
  names the limit, and the next call starts a fresh worker.

The worker starts on first use (about a second: it imports the engine once) and costs one
pipe round trip per call (tens of microseconds).
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Any

from k8slearn.cel.errors import CELError

TIME_LIMIT = float(os.environ.get("K8SLEARN_CEL_TIME_LIMIT", "5"))  # seconds per compile or evaluation
MEMORY_LIMIT = int(os.environ.get("K8SLEARN_CEL_MEMORY_LIMIT", str(1 << 30)))  # bytes above the idle worker
_CACHE_SIZE = 512  # compiled programs the worker keeps
_HEADER = struct.Struct("!I")

_lock = threading.RLock()
_proc: subprocess.Popen | None = None
_owner = os.getpid()


def _limits_text() -> str:
    return (
        f"k8slearn bounds local CEL to {TIME_LIMIT:g} s and {MEMORY_LIMIT >> 20} MiB per expression "
        "(K8SLEARN_CEL_TIME_LIMIT / K8SLEARN_CEL_MEMORY_LIMIT); the apiserver bounds it by cost "
        "(PerCallLimit 1000000, k8s.io/apiserver pkg/apis/cel/config.go)"
    )


def _start() -> subprocess.Popen:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen(
        [sys.executable, "-m", "k8slearn.cel._guard"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        close_fds=True,
    )


def _stop() -> None:
    global _proc
    p, _proc = _proc, None
    if p is not None:
        try:
            p.kill()
        except OSError:
            pass
        p.wait()
        for f in (p.stdin, p.stdout):
            if f is not None:
                f.close()


def _read(fd: int, n: int, deadline: float) -> bytes | None:
    """n bytes from fd, or None on EOF; TimeoutError past the deadline."""
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _died(p: subprocess.Popen, key: tuple, phase: str) -> CELError:
    code = p.wait()
    if code < 0:
        name = signal.Signals(-code).name
        why = f"the CEL engine (cel-cpp) crashed with {name}"
        if name in ("SIGABRT", "SIGKILL", "SIGBUS"):
            why += " (most likely on k8slearn's memory limit)"
    else:
        why = f"the CEL engine's worker stopped (exit status {code})"
    limit = "memory" if "memory" in why else "crash"
    return CELError(f"{phase} error: {why}; {_limits_text()}", expression=key[0], phase=phase, limit=limit)


def call(op: str, key: tuple, data: Any) -> Any:
    """Ask the worker to compile (op "compile") or evaluate (op "eval") the program ``key``."""
    global _proc
    phase = "compile" if op == "compile" else "eval"
    try:
        payload = pickle.dumps((op, key, data), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - an input that cannot travel is the caller's error
        raise CELError(f"{phase} error: a variable's value cannot be used in CEL: {exc}", expression=key[0]) from None
    with _lock:
        global _owner
        if _owner != os.getpid():  # a forked child must not share its parent's worker pipes
            _proc, _owner = None, os.getpid()
        if _proc is None or _proc.poll() is not None:
            _stop()
            _proc = _start()
        p = _proc
        assert p.stdin is not None and p.stdout is not None
        try:
            p.stdin.write(_HEADER.pack(len(payload)) + payload)
            p.stdin.flush()
            deadline = time.monotonic() + TIME_LIMIT + _startup_allowance(p)
            head = _read(p.stdout.fileno(), _HEADER.size, deadline)
            body = None if head is None else _read(p.stdout.fileno(), _HEADER.unpack(head)[0], deadline)
        except TimeoutError:
            _stop()
            raise CELError(
                f"{phase} error: the expression ran longer than k8slearn's time limit; {_limits_text()}",
                expression=key[0],
                phase=phase,
                limit="time",
            ) from None
        except (BrokenPipeError, OSError):
            body = None
        if body is None:
            err = _died(p, key, phase)
            _stop()
            raise err
    status, value = pickle.loads(body)
    if status == "ok":
        return value
    raise CELError(value.pop("message"), **value)


_started: dict[int, float] = {}


def _startup_allowance(p: subprocess.Popen) -> float:
    """A fresh worker needs a few seconds to import the engine before its first answer."""
    if p.pid in _started:
        return 0.0
    _started[p.pid] = time.monotonic()
    return 30.0


# ---- the worker side ----------------------------------------------------------------------


def _cap_memory() -> None:
    import resource

    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[0])
    limit = pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_LIMIT
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _answer(op: str, key: tuple, data: Any, cache: dict) -> tuple[str, Any]:
    from k8slearn.cel.engine import LocalProgram

    try:
        prog = cache.get(key)
        if prog is None:
            prog = LocalProgram(*key)
            if len(cache) >= _CACHE_SIZE:
                cache.pop(next(iter(cache)))
            cache[key] = prog
        if op == "compile":
            return "ok", None
        if op == "type":
            return "ok", prog.result_type()
        if op == "plan":
            return "ok", prog.planning_error()
        return "ok", prog.evaluate(data)
    except CELError as exc:
        from k8slearn.cel._decl import MEMORY_MESSAGE

        if MEMORY_MESSAGE in exc.message and not exc.limit:
            exc.limit = "memory"
        return "err", dict(
            message=exc.message,
            expression=exc.expression,
            line=exc.line,
            column=exc.column,
            phase=exc.phase,
            limit=exc.limit,
        )
    except MemoryError:
        return "err", dict(
            message="eval error: out of memory; " + _limits_text(), expression=key[0], phase="eval", limit="memory"
        )
    except Exception as exc:  # noqa: BLE001 - every failure must reach the caller as a CELError
        phase = "compile" if op == "compile" else "eval"
        text = f"{phase} error: {type(exc).__name__}: {exc}".splitlines()[0]
        return "err", dict(message=text, expression=key[0], phase=phase)


def serve() -> None:
    """The worker's loop: read a request, answer it, until stdin closes."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the engine prints must not corrupt the answers
    inp = sys.stdin.buffer
    from k8slearn.cel import engine

    try:  # import and build the environment up front; a failure is reported per request
        engine.LocalProgram("1", (), True).evaluate({})
    except Exception:  # noqa: BLE001, S110
        pass
    if sys.platform.startswith("linux"):
        _cap_memory()
    cache: dict = {}
    while True:
        head = inp.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        op, key, data = pickle.loads(inp.read(_HEADER.unpack(head)[0]))
        try:
            reply = pickle.dumps(_answer(op, key, data, cache), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled
            reply = pickle.dumps(("err", dict(message=f"eval error: {exc}", expression=key[0], phase="eval")))
        out.write(_HEADER.pack(len(reply)) + reply)
        out.flush()


if __name__ == "__main__":
    serve()
