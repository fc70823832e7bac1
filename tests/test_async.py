from __future__ import annotations

import asyncio
import inspect
import time

import pytest
import trio

from retrykit import Backoff, RetryPolicy, retry
from retrykit.testing import instant

from .helpers import AsyncFlaky, HTTPFailure

FAST = RetryPolicy(backoff=Backoff(jitter=0))


def test_async_decorator_stays_a_coroutine_function() -> None:
    @retry
    async def fetch() -> int:
        return 1

    assert inspect.iscoroutinefunction(fetch)
    assert asyncio.run(fetch()) == 1


def test_asyncio_retries_with_the_same_engine() -> None:
    fn = AsyncFlaky(ConnectionResetError(), HTTPFailure(503))

    @FAST
    async def fetch() -> object:
        return await fn()

    with instant() as clock:
        assert asyncio.run(fetch()) == "ok"
    assert fn.calls == 3 and clock.delays == [1.0, 2.0]


def test_acall_gives_up_with_the_last_error() -> None:
    errors = [TimeoutError(i) for i in range(3)]
    fn = AsyncFlaky(*errors)
    with instant(), pytest.raises(TimeoutError) as info:
        asyncio.run(FAST.replace(max_retries=2).acall(fn))
    assert info.value is errors[-1] and "after 3 attempts" in info.value.__notes__[0]


def test_async_attempt_blocks() -> None:
    fn = AsyncFlaky(ConnectionResetError())

    async def main() -> list[int]:
        seen = []
        async for attempt in FAST.attempts():
            with attempt:
                seen.append(attempt.number)
                await fn()
        return seen

    with instant() as clock:
        assert asyncio.run(main()) == [1, 2]
    assert clock.delays == [1.0]


def test_trio_works_without_asyncio() -> None:
    fn = AsyncFlaky(ConnectionResetError(), TimeoutError())

    @FAST
    async def fetch() -> object:
        return await fn()

    with instant() as clock:
        assert trio.run(fetch) == "ok"
    assert clock.delays == [1.0, 2.0]


def test_trio_really_sleeps_with_trio_sleep() -> None:
    slept: list[float] = []
    policy = RetryPolicy(backoff=Backoff(base=0.001, cap=0.001, jitter=0))

    async def main() -> object:
        start = trio.current_time()
        result = await policy.acall(AsyncFlaky(TimeoutError()))
        slept.append(trio.current_time() - start)
        return result

    assert trio.run(main) == "ok"
    assert slept[0] >= 0.001


def test_trio_async_attempt_blocks() -> None:
    fn = AsyncFlaky(TimeoutError())

    async def main() -> int:
        async for attempt in FAST.attempts():
            with attempt:
                await fn()
        return attempt.number

    with instant():
        assert trio.run(main) == 2


def test_cancelling_a_waiting_task_cancels_at_once() -> None:
    policy = RetryPolicy(backoff=Backoff(base=30, cap=30, jitter=0))
    calls = 0

    @policy
    async def fetch() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionResetError

    async def main() -> float:
        task = asyncio.ensure_future(fetch())
        await asyncio.sleep(0.01)  # the task is now waiting 30 s
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - start

    assert asyncio.run(main()) < 1.0
    assert calls == 1


def test_cancelled_error_is_never_retried() -> None:
    fn = AsyncFlaky(asyncio.CancelledError())
    with instant() as clock, pytest.raises(asyncio.CancelledError):
        asyncio.run(RetryPolicy(on=lambda e: True).acall(fn))
    assert fn.calls == 1 and clock.delays == []


def test_injected_async_sleep_is_used() -> None:
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    asyncio.run(FAST.replace(async_sleep=fake_sleep).acall(AsyncFlaky(TimeoutError())))
    assert slept == [1.0]


def test_instant_async_sleep_yields_to_other_tasks() -> None:
    order: list[str] = []

    async def other() -> None:
        order.append("other")

    async def main() -> None:
        t = asyncio.ensure_future(other())
        await FAST.acall(AsyncFlaky(TimeoutError()))
        order.append("done")
        await t

    with instant():
        asyncio.run(main())
    assert order == ["other", "done"]


def test_one_policy_across_event_loops_in_threads() -> None:
    import threading

    results: list[object] = []

    def run(i: int) -> None:
        results.append(asyncio.run(FAST.acall(AsyncFlaky(TimeoutError(), result=i))))

    with instant() as clock:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == list(range(8))  # type: ignore[type-var]
    assert clock.delays == [1.0] * 8


def test_trio_cancellation_while_waiting_cancels_at_once() -> None:
    policy = RetryPolicy(backoff=Backoff(base=30, cap=30, jitter=0))
    fn = AsyncFlaky(*[ConnectionResetError() for _ in range(6)])

    async def main() -> float:
        with trio.move_on_after(0.05):
            await policy.acall(fn)
        return trio.current_time()

    start = time.monotonic()
    trio.run(main)
    assert time.monotonic() - start < 5.0  # not the 30 s wait
    assert fn.calls == 1
