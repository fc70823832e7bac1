"""retrykit against tenacity, backoff and stamina, in one run: success path, retry path, memory, import time.

Run: python benchmarks/bench_hotpath.py   (after: pip install -e '.[bench]')
Policy everywhere: up to 5 retries (6 attempts), exponential backoff, retry on any Exception.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import platform
import random
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import backoff
import stamina
import tenacity
from _timing import measure, measure_together, report, row  # benchmarks/ is on sys.path when run as a script

import retrykit
from retrykit import Backoff, RetryBudget, RetryPolicy, is_transient

# Retry logging sent nowhere, for every library alike.
stamina.instrumentation.set_on_retry_hooks([])


def versions() -> str:
    from importlib.metadata import version

    libs = ", ".join(f"{n} {version(n)}" for n in ("tenacity", "backoff", "stamina"))
    return f"Python {platform.python_version()} on {platform.machine()}, {libs}, retrykit {retrykit.__version__}"


# -- the contenders: each wraps `fn` with "6 attempts, exponential backoff, any Exception" ----------


def hand_loop(fn: Callable[..., Any], sleep: Callable[[float], object] = time.sleep) -> Callable[..., Any]:
    """What a careful person writes by hand: the baseline."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(6):
            try:
                return fn(*args, **kwargs)
            except Exception:
                if attempt == 5:
                    raise
                sleep(min(2**attempt, 30) + random.random())
        raise AssertionError("unreachable")

    return wrapper


def hand_loop_async(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(6):
            try:
                return await fn(*args, **kwargs)
            except Exception:
                if attempt == 5:
                    raise
                await asyncio.sleep(min(2**attempt, 30) + random.random())
        raise AssertionError("unreachable")

    return wrapper


RETRYKIT = RetryPolicy(on=Exception, log=False)


def attempts_block(fn: Callable[..., Any]) -> Callable[..., Any]:
    """retrykit's attempt blocks around a call: the shape of code that retries a block, not a function."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in RETRYKIT.attempts():
            with attempt:
                return fn(*args, **kwargs)
        raise AssertionError("unreachable")

    return wrapper


def attempts_block_async(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        async for attempt in RETRYKIT.attempts():
            with attempt:
                return await fn(*args, **kwargs)
        raise AssertionError("unreachable")

    return wrapper


class _Bare:
    """The least an attempt block can be: an iterable whose one attempt is a context manager doing nothing."""

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started = False

    def __iter__(self) -> _Bare:
        return _Bare()

    def __next__(self) -> _Bare:
        if self.started:
            raise StopIteration
        self.started = True
        return self

    def __enter__(self) -> _Bare:
        return self

    def __exit__(self, *exc_info: object) -> bool:
        return False


_BARE = _Bare()


def bare_block(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The for/with protocol alone, with no retrying in it: the floor under any attempt block in Python."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in _BARE:
            with attempt:
                return fn(*args, **kwargs)
        raise AssertionError("unreachable")

    return wrapper


CONTENDERS_SYNC: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "hand-written loop": hand_loop,
    "retrykit": RETRYKIT,
    # The same policy with a deadline (the call's start is read) or a budget (successes are counted),
    # and as an attempt block: the other ways in, which must cost no more than the hand-written loop.
    "retrykit deadline=": RETRYKIT.replace(deadline=60.0),
    "retrykit budget=": RETRYKIT.replace(budget=RetryBudget()),
    "retrykit attempts": attempts_block,
    "for/with, no retry": bare_block,
    "backoff": backoff.on_exception(backoff.expo, Exception, max_tries=6, logger=None),
    "stamina": stamina.retry(on=Exception, attempts=6),
    "tenacity": tenacity.retry(stop=tenacity.stop_after_attempt(6), wait=tenacity.wait_exponential_jitter(), reraise=True),
}
CONTENDERS_ASYNC = {
    **{name: deco for name, deco in CONTENDERS_SYNC.items() if name != "for/with, no retry"},
    "hand-written loop": hand_loop_async,
    "retrykit attempts": attempts_block_async,
}


def success_path() -> dict[str, float]:
    print("1. success path: ns per call that succeeds first try")

    def work(x: int) -> int:
        return x

    async def awork(x: int) -> int:
        return x

    sync = {"bare call": (lambda: work(1), 200_000)}
    for name, deco in CONTENDERS_SYNC.items():
        f = deco(work)
        sync[name] = (lambda f=f: f(1), 50_000 if name in ("stamina", "tenacity") else 200_000)
    results = {f"sync {k}": v for k, v in report("", measure_together(sync), {"bare": "bare call", "loop": "hand-written loop"}).items()}

    loop = asyncio.new_event_loop()
    n = 20_000

    def drive(coro_fn: Callable[[], Any]) -> tuple[Callable[[], object], int]:
        async def many() -> None:
            for _ in range(n):
                await coro_fn()

        return (lambda: loop.run_until_complete(many())), 1

    asyn = {"bare await": drive(lambda: awork(1))}
    for name, deco in CONTENDERS_ASYNC.items():
        f = deco(awork)
        asyn[name] = drive(lambda f=f: f(1))
    samples = {k: [x / n for x in v] for k, v in measure_together(asyn).items()}
    medians = report("   async (awaited inside one running loop):", samples, {"bare": "bare await", "loop": "hand-written loop"})
    results.update({f"async {k}": v for k, v in medians.items()})
    loop.close()
    return results


def zero_wait() -> Any:
    """backoff's way to disable waiting: a wait generator that yields 0 (it still calls time.sleep(0))."""
    while True:
        yield 0


def retry_path() -> dict[str, float]:
    print("\n2. retry path: ns per whole call of 6 failing attempts, sleeping disabled by each library's own means")

    def no_sleep(_: float) -> None:
        pass

    contenders = {
        "hand-written loop": lambda fn: hand_loop(fn, no_sleep),
        "retrykit": RETRYKIT.replace(sleep=no_sleep),
        "backoff": backoff.on_exception(zero_wait, Exception, max_tries=6, logger=None, jitter=None),
        "stamina": stamina.retry(on=Exception, attempts=6),
        "tenacity": tenacity.retry(
            stop=tenacity.stop_after_attempt(6), wait=tenacity.wait_exponential_jitter(), reraise=True, sleep=no_sleep
        ),
    }
    stamina.set_testing(True, attempts=6)

    def fail() -> None:
        raise ConnectionError

    stmts: dict[str, tuple[Callable[[], object], int]] = {}
    for name, deco in contenders.items():
        f = deco(fail)

        def call(f: Callable[[], None] = f) -> None:
            try:
                f()
            except ConnectionError:
                pass

        stmts[name] = (call, 2_000)
    results = report("", measure_together(stmts), {"loop": "hand-written loop"})
    print("   objects left in reference cycles per failing call (for the garbage collector to find):")
    for name, (call, _) in stmts.items():
        gc.collect()
        gc.disable()
        for _ in range(200):
            call()
        print(f"  {name:<18} {gc.collect() / 200:>6.2f}")
        gc.enable()
    stamina.set_testing(False)
    return results


def memory() -> None:
    print("\n3. peak bytes allocated per successful call (tracemalloc), and reference cycles per call")

    def work(x: int) -> int:
        return x

    for name, deco in {"bare call": lambda f: f, **CONTENDERS_SYNC}.items():
        f = deco(work)
        f(1)
        tracemalloc.start()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        f(1)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.collect()
        gc.disable()
        for _ in range(1000):
            f(1)
        cycles = gc.collect()
        gc.enable()
        print(f"  {name:<18} {peak - base:>6} bytes   {cycles / 1000:>5.2f} objects in cycles per call")


def micro() -> None:
    print("\n4. engine pieces: ns per Backoff().delay(n) and per classification of a typical HTTP error")
    b = Backoff()
    rng = random.Random(1)
    print(row("Backoff.delay(3)", measure(lambda: b.delay(3, rng), 200_000), {}))

    class HTTPError(Exception):
        def __init__(self) -> None:
            self.status_code = 503
            self.headers = {"Retry-After": "2"}

    err = HTTPError()
    print(row("is_transient(503)", measure(lambda: is_transient(err), 200_000), {}))
    conn = ConnectionResetError()
    print(row("is_transient(conn)", measure(lambda: is_transient(conn), 200_000), {}))
    print(row("RetryPolicy(...)", measure(lambda: RetryPolicy(max_retries=3), 20_000), {}))


def import_times() -> None:
    print("\n5. import time (python -X importtime, cumulative µs, best of 5 fresh interpreters)")
    # pip byte-compiles the peers when it installs them; do the same for an editable retrykit.
    import compileall
    import os

    compileall.compile_dir(os.path.dirname(retrykit.__file__), quiet=1)
    def best_of_5(module: str, before: str = "") -> float:
        best = float("inf")
        for _ in range(5):
            out = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", f"{before}import {module}"], capture_output=True, text=True, check=True
            ).stderr
            for line in out.splitlines():
                parts = line.split("|")
                if len(parts) == 3 and parts[2].strip() == module:
                    best = min(best, int(parts[1]))
        return best / 1000

    # Two figures each: a bare interpreter, and one that has already imported typing, as every
    # program using asyncio, requests, httpx, aiohttp or pydantic has (what a library adds there).
    print(f"  {'':<10} {'bare':>9} {'typing loaded':>15}")
    for module in ("retrykit", "tenacity", "stamina", "backoff"):
        print(f"  {module:<10} {best_of_5(module):>6.1f} ms {best_of_5(module, 'import typing; '):>12.1f} ms")
    code = "import sys, retrykit; print(sorted(m for m in ('asyncio','logging','typing','requests','httpx','aiohttp','inspect','dataclasses') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    print(f"  heavy modules loaded by `import retrykit`: {loaded}")


def instruments() -> None:
    print("\n6. instruments: ns per failing call (5 retries and a give-up: 6 reports) with each instrument on")
    import logging

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from prometheus_client import CollectorRegistry

    from retrykit.otel import OTelInstrument
    from retrykit.prometheus import PrometheusInstrument

    logging.getLogger("bench.quiet").setLevel(logging.CRITICAL + 1)  # lines formatted by nobody: the level check only
    tracer_provider, meter_provider = TracerProvider(), MeterProvider(metric_readers=[InMemoryMetricReader()])
    span = tracer_provider.get_tracer("bench").start_span("caller")  # a recording span for the events to land on
    setups: dict[str, tuple[retrykit.Instrument, ...]] = {
        "none": (),
        "logging, level off": (retrykit.LoggingInstrument("bench.quiet"),),
        "prometheus": (PrometheusInstrument(CollectorRegistry()),),
        "otel, no span": (OTelInstrument(tracer_provider, meter_provider),),
    }
    policy = RETRYKIT.replace(sleep=lambda _: None, log=True)

    @policy
    def fail() -> None:
        raise ConnectionError

    def call() -> None:
        try:
            fail()
        except ConnectionError:
            pass

    def under(chosen: tuple[retrykit.Instrument, ...], in_span: bool) -> Callable[[], None]:
        def stmt() -> None:
            retrykit.set_instruments(chosen)
            if in_span:
                from opentelemetry import trace

                with trace.use_span(span):
                    for _ in range(100):
                        call()
            else:
                for _ in range(100):
                    call()

        return stmt

    stmts = {name: (under(chosen, False), 20) for name, chosen in setups.items()}
    stmts["otel, in a span"] = (under(setups["otel, no span"], True), 20)
    samples = {name: [ns / 100 for ns in values] for name, values in measure_together(stmts).items()}
    report("", samples, {"none": "none"})
    retrykit.set_instruments(None)
    # From the fastest round of each: the least disturbed by other work on a shared machine.
    base = min(samples["none"])
    for name, values in samples.items():
        if name != "none":
            print(f"  {name:<20} +{(min(values) - base) / 6:>7.0f} ns per report (retry or give-up), fastest rounds")

    # Through the HTTP adapters, OTelInstrument also wraps each attempt in a client span: the
    # adapters' shared request loop, without a socket, for one request that succeeds first try.
    from retrykit._http import HTTPOptions, RequestRetry
    from retrykit._http_loops import drive

    def request() -> None:
        call = RequestRetry(RETRYKIT, HTTPOptions(), "GET", "https://api.example.com/v1/items?page=2", {}, client="bench")
        drive(call, lambda: 200, int, lambda response: {}, lambda response: b"")

    spans = {"none": (), "otel, spans": setups["otel, no span"]}
    timed = {name: (lambda chosen=chosen: (retrykit.set_instruments(chosen), request()), 5_000) for name, chosen in spans.items()}
    samples = measure_together(timed)
    retrykit.set_instruments(None)
    print(f"  a client span per HTTP attempt: +{min(samples['otel, spans']) - min(samples['none']):.0f} ns per attempt, fastest rounds")


SECTIONS = {
    "success": success_path,
    "retry": retry_path,
    "memory": memory,
    "micro": micro,
    "import": import_times,
    "instruments": instruments,
}


def main() -> None:
    """Every section, or those named on the command line (python benchmarks/bench_hotpath.py retry instruments)."""
    print(versions())
    print(time.strftime("%Y-%m-%d"), "\n")
    for name in sys.argv[1:] or SECTIONS:
        SECTIONS[name]()


if __name__ == "__main__":
    main()
