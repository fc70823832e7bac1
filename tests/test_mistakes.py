"""Async and calling mistakes get a clear error (never a silent single attempt); bad options are
refused at construction, naming the parameter; a broken strategy names itself at run time."""

from __future__ import annotations

import asyncio
import gc
import math
import random
import threading
import time
import warnings
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit import Backoff, FullJitter, RetryEvent, RetryPolicy, retry
from retrykit.testing import instant

from .helpers import AsyncFlaky, Flaky

QUIET = RetryPolicy(log=False)


@pytest.fixture(autouse=True)
def _virtual_time() -> object:
    with instant() as clock:
        yield clock


# -- sync and async confused -------------------------------------------------------------------


async def fetch() -> str:
    return "ok"


def test_call_with_an_async_function_points_to_acall_and_leaves_no_unawaited_coroutine() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a "coroutine ... was never awaited" RuntimeWarning would fail
        with pytest.raises(TypeError, match=r"acall"):
            QUIET.call(fetch)
        gc.collect()


def test_acall_accepts_any_callable_that_returns_an_awaitable() -> None:
    flaky = AsyncFlaky(ConnectionError("down"))
    assert asyncio.run(QUIET.acall(lambda: flaky())) == "ok"
    assert flaky.calls == 2


def test_acall_with_a_sync_function_points_to_call() -> None:
    with pytest.raises(TypeError, match=r"policy.call"):
        asyncio.run(QUIET.acall(lambda: 42))  # type: ignore[arg-type, return-value]


def test_retry_above_staticmethod_and_classmethod_retries_from_class_and_instance() -> None:
    class Service:
        def __init__(self) -> None:
            self.calls = 0

        @QUIET
        @staticmethod
        def ping(flaky: Flaky) -> object:
            return flaky()

        @QUIET
        @staticmethod
        async def aping(flaky: AsyncFlaky) -> object:
            return await flaky()

        @QUIET
        @classmethod
        def build(cls, flaky: Flaky) -> object:
            return (cls.__name__, flaky())

        @QUIET
        @classmethod
        async def abuild(cls, flaky: AsyncFlaky) -> object:
            return (cls.__name__, await flaky())

    for target in (Service, Service()):
        flaky = Flaky(ConnectionError("down"))
        assert target.ping(flaky) == "ok" and flaky.calls == 2
        flaky = Flaky(ConnectionError("down"))
        assert target.build(flaky) == ("Service", "ok") and flaky.calls == 2
        aflaky = AsyncFlaky(ConnectionError("down"), ConnectionError("down"))
        assert asyncio.run(target.aping(aflaky)) == "ok" and aflaky.calls == 3
        aflaky = AsyncFlaky(ConnectionError("down"))
        assert asyncio.run(target.abuild(aflaky)) == ("Service", "ok") and aflaky.calls == 2


class _real_time:  # noqa: N801 - leaves instant() for the length of a block: the warning is about time.sleep
    def __enter__(self) -> None:
        from retrykit import _runtime

        self.saved, _runtime.override = _runtime.override, None

    def __exit__(self, *exc: object) -> None:
        from retrykit import _runtime

        _runtime.override = self.saved


def test_a_sync_retry_inside_a_running_event_loop_warns_naming_the_async_alternative() -> None:
    policy = RetryPolicy(log=False, backoff=Backoff(base=0.001, jitter=0.0), max_retries=1)

    def block() -> None:
        for attempt in policy.attempts():
            with attempt:
                if attempt.number == 1:
                    raise ConnectionError("down")

    async def main() -> None:
        with pytest.warns(RuntimeWarning, match=r"acall"):
            policy.call(Flaky(ConnectionError("down")))
        with pytest.warns(RuntimeWarning, match=r"async for attempt"):
            block()

    with _real_time():
        asyncio.run(main())


def test_a_sync_retry_outside_an_event_loop_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with _real_time():
            RetryPolicy(log=False, backoff=Backoff(base=0.001, jitter=0.0), max_retries=1).call(
                Flaky(ConnectionError("down"))
            )


def test_async_with_attempt_works_in_an_async_for_loop() -> None:
    flaky = AsyncFlaky(ConnectionError("down"), ConnectionError("down"))

    async def main() -> object:
        async for attempt in QUIET.attempts():
            async with attempt:
                return await flaky()
        return None

    assert asyncio.run(main()) == "ok"
    assert flaky.calls == 3


ATTEMPTS = QUIET.attempts("shared")


def run_block(flaky: Flaky) -> object:
    for attempt in ATTEMPTS:
        with attempt:
            return flaky()
    return None


def test_an_attempts_object_is_reusable_across_loops_and_threads() -> None:
    for _ in range(3):
        flaky = Flaky(ConnectionError("down"))
        assert run_block(flaky) == "ok" and flaky.calls == 2
    results: list[object] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        results.append(run_block(Flaky(ConnectionError("down"), ConnectionError("down"))))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["ok"] * 4


def test_each_loop_over_attempts_has_its_own_attempt_numbered_by_the_attempt_running() -> None:
    seen: list[tuple[int, int]] = []
    loops = []
    for _ in range(2):
        flaky = Flaky(ConnectionError("down"), ConnectionError("down"))
        for attempt in ATTEMPTS:
            with attempt:
                seen.append((id(attempt), attempt.number))
                flaky()
        loops.append(attempt)
    assert [number for _, number in seen] == [1, 2, 3, 1, 2, 3]
    assert len({ident for ident, _ in seen[:3]}) == 1  # one object per loop, handed out per attempt
    assert loops[0] is not loops[1] and loops[0].number == 3


def test_an_async_hook_is_awaited_on_async_calls() -> None:
    seen: list[tuple[str, int]] = []

    async def on_retry(event: RetryEvent) -> None:
        await asyncio.sleep(0)
        seen.append(("retry", event.attempt))

    async def on_giveup(event: RetryEvent) -> None:
        seen.append(("giveup", event.attempt))

    policy = QUIET(max_retries=1, on_retry=on_retry, on_giveup=on_giveup)

    async def block() -> None:
        async for attempt in policy.attempts():
            async with attempt:
                raise ConnectionError("down")

    async def main() -> None:
        with pytest.raises(ConnectionError):
            await policy.acall(AsyncFlaky(*[ConnectionError("down")] * 2))
        with pytest.raises(ConnectionError):
            await policy(AsyncFlaky(*[ConnectionError("down")] * 2))()
        with pytest.raises(ConnectionError):
            await block()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(main())
    assert seen == [("retry", 1), ("giveup", 2)] * 3


async def async_hook(event: RetryEvent) -> None:
    pass


def test_an_async_hook_on_a_sync_call_is_a_type_error_naming_it() -> None:
    policy = QUIET(on_retry=async_hook)
    with pytest.raises(TypeError, match=r"async_hook"):
        policy(Flaky(ConnectionError("down")))  # at decoration
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match=r"async_hook") as info:
            policy.call(Flaky(ConnectionError("down")))
        assert isinstance(info.value.__context__, ConnectionError)
        with pytest.raises(TypeError, match=r"async_hook"):
            for attempt in policy.attempts():
                with attempt:
                    raise ConnectionError("down")
        gc.collect()


def test_the_wrapper_keeps_defaults_and_keyword_defaults() -> None:
    def greet(name: str = "world", *, punctuation: str = "!") -> str:
        return f"hello {name}{punctuation}"

    async def agreet(name: str = "world", *, punctuation: str = "!") -> str:
        return f"hello {name}{punctuation}"

    for fn in (greet, agreet):
        wrapped: Any = QUIET(fn)
        assert wrapped.__defaults__ == ("world",)
        assert wrapped.__kwdefaults__ == {"punctuation": "!"}
    assert QUIET(greet)() == "hello world!" and QUIET(greet)("you", punctuation="?") == "hello you?"


# -- validation at construction, naming the parameter --------------------------------------------


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"backoff": FullJitter}, "backoff"),
        ({"rng": random.Random}, "rng"),
        ({"sleep": asyncio.sleep}, "sleep"),
        ({"async_sleep": time.sleep}, "async_sleep"),
    ],
)
def test_a_misplaced_option_is_a_type_error_naming_the_parameter(options: dict[str, Any], parameter: str) -> None:
    with pytest.raises(TypeError, match=rf"^{parameter} "):
        RetryPolicy(**options)


@pytest.mark.parametrize("types", [ValueError, (ValueError, KeyError)])
def test_exception_classes_in_place_of_a_function_suggest_on(types: Any) -> None:
    with pytest.raises(TypeError, match=r"retry\(on="):
        retry(types)


@pytest.mark.parametrize("deadline", [0, -5, -0.5])
def test_a_deadline_of_zero_or_less_gets_one_wording(deadline: float) -> None:
    with pytest.raises(ValueError, match=r"^deadline must be > 0 \(or None for no deadline\), got "):
        RetryPolicy(deadline=deadline)


class Broken:
    """A backoff strategy that returns whatever it is given."""

    def __init__(self, value: object) -> None:
        self.value = value

    def delay(self, failures: int, rng: object, previous: float | None) -> Any:
        return self.value


class Constant(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


@given(st.one_of(st.floats(max_value=-1e-300), st.just(math.nan), st.just(math.inf), st.floats(min_value=9.1e9)))
def test_a_strategy_returning_an_impossible_wait_is_an_error_naming_it(value: float) -> None:
    error = ConnectionError("down")
    for deadline in (None, 10.0):  # a NaN must not slip past the deadline check either
        with pytest.raises(ValueError, match=r"backoff Broken.delay\(\)") as info:
            QUIET(backoff=Broken(value), deadline=deadline).call(Flaky(error))
        assert info.value.__context__ is error


def test_a_strategy_returning_a_non_number_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"backoff Broken.delay\(\)"):
        QUIET(backoff=Broken(None)).call(Flaky(ConnectionError("down")))


@pytest.mark.parametrize("value", [math.nan, -100.0, math.inf])
def test_an_rng_returning_an_impossible_number_names_the_rng(value: float) -> None:
    from retrykit.errors import RateLimitError

    policy = QUIET(rng=Constant(value))
    with pytest.raises((ValueError, TypeError), match=r"rng|backoff"):
        policy.call(Flaky(ConnectionError("down")))
    with pytest.raises(ValueError, match=r"retry_after_jitter=1 with rng="):
        policy.call(Flaky(RateLimitError("slow down", status=429, retry_after=1.0)))
