"""Giving up leaves no reference cycles behind: the garbage collector has nothing to do after a failed call.

A retry loop holds the error it gave up on, and the error's traceback holds the
loop's frames: unless the faces let go, every failed call leaves a cycle for
the collector (and the collector's pauses grow with the error rate).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref
from collections.abc import Awaitable, Callable

import pytest

import retrykit.urllib
from retrykit import Fleet, RetryBudget, RetryPolicy
from retrykit.testing import FlakyServer, Reply, instant

POLICIES = {
    "plain": RetryPolicy(on=ConnectionError, log=False),
    "logged": RetryPolicy(on=ConnectionError),
    "deadline": RetryPolicy(on=ConnectionError, deadline=1000, log=False),
    "hooks": RetryPolicy(on=ConnectionError, on_retry=lambda e: None, on_giveup=lambda e: None, log=False),
}


def fail() -> None:
    raise ConnectionError("down")


async def afail() -> None:
    raise ConnectionError("down")


@pytest.fixture(autouse=True)
def _quiet_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("CRITICAL", logger="retrykit")


def cycles_in(run: Callable[[], object], times: int = 5) -> int:
    """Objects in cycles after ``times`` calls, whichever way each call ends (KeyboardInterrupt included)."""
    gc.collect()
    gc.disable()
    try:
        for _ in range(times):
            try:
                run()
            except BaseException:
                continue
        return gc.collect()
    finally:
        gc.enable()


async def acycles_in(run: Callable[[], Awaitable[object]], times: int = 5) -> int:
    gc.collect()
    gc.disable()
    try:
        for _ in range(times):
            try:
                await run()
            except BaseException:
                continue
        return gc.collect()
    finally:
        gc.enable()


def garbage_after(run: Callable[[], object], times: int = 5) -> int:
    """Objects the collector finds in cycles after ``times`` calls that each fail (collector paused meanwhile)."""
    failed: list[type[BaseException]] = []  # types only: an exception kept here would itself hold a cycle

    def failing() -> None:
        try:
            run()
        except Exception as exc:  # any failure; the point is what it leaves behind
            failed.append(type(exc))
            raise

    found = cycles_in(failing, times)
    assert len(failed) == times, f"{times - len(failed)} of {times} calls did not fail"
    return found


async def agarbage_after(run: Callable[[], Awaitable[object]], times: int = 5) -> int:
    failed: list[type[BaseException]] = []

    async def failing() -> None:
        try:
            await run()
        except Exception as exc:
            failed.append(type(exc))
            raise

    found = await acycles_in(failing, times)
    assert len(failed) == times, f"{times - len(failed)} of {times} calls did not fail"
    return found


@pytest.mark.parametrize("name", POLICIES)
def test_giving_up_in_sync_faces_leaves_no_cycles(name: str) -> None:
    policy = POLICIES[name]
    decorated = policy(fail)

    def block() -> None:
        for attempt in policy.attempts():
            with attempt:
                fail()

    with instant():
        assert garbage_after(decorated) == 0
        assert garbage_after(lambda: policy.call(fail)) == 0
        assert garbage_after(block) == 0


@pytest.mark.parametrize("name", POLICIES)
def test_giving_up_in_async_faces_leaves_no_cycles(name: str) -> None:
    policy = POLICIES[name]
    decorated = policy(afail)

    async def block() -> None:
        async for attempt in policy.attempts():
            with attempt:
                await afail()

    async def main() -> list[int]:
        return [
            await agarbage_after(decorated),
            await agarbage_after(lambda: policy.acall(afail)),
            await agarbage_after(block),
        ]

    with instant():
        assert asyncio.run(main()) == [0, 0, 0]


def test_an_inherited_give_up_leaves_no_cycles() -> None:
    inner = POLICIES["plain"](fail)
    outer = POLICIES["plain"](inner)
    with instant():
        assert garbage_after(outer) == 0


def test_urllib_giving_up_on_an_error_status_leaves_no_cycles() -> None:
    policy = RetryPolicy(max_retries=2, log=False)
    with FlakyServer([Reply.error(503, "busy")] * 100) as server, instant():
        assert garbage_after(lambda: retrykit.urllib.urlopen(server.url, policy=policy)) == 0


def test_giving_up_on_rejected_results_leaves_no_cycles() -> None:
    policy = RetryPolicy(on_result=lambda r: r == "pending", max_retries=2, log=False)

    def pending() -> str:
        return "pending"

    async def apending() -> str:
        return "pending"

    def block() -> None:
        for attempt in policy.attempts():
            with attempt:
                attempt.result = "pending"

    with instant():
        assert garbage_after(lambda: policy.call(pending)) == 0
        assert garbage_after(policy(pending)) == 0
        assert garbage_after(block) == 0
        assert asyncio.run(agarbage_after(lambda: policy.acall(apending))) == 0


# -- every other exit: success after failures, interrupts and faults while waiting, cancellation --

ALL_POLICIES = {
    **POLICIES,
    "budget": RetryPolicy(on=ConnectionError, budget=RetryBudget(), log=False),
    "fleet": RetryPolicy(on=ConnectionError, fleet=Fleet().scope("cycles"), log=False),
}


class Interrupted(Exception):
    """A sleep that fails (KeyboardInterrupt and SystemExit are raised as themselves below)."""


def raising(kind: type[BaseException]) -> Callable[[float], None]:
    def sleep(delay: float) -> None:
        raise kind("while waiting")

    return sleep


def araising(kind: type[BaseException]) -> Callable[[float], Awaitable[None]]:
    async def sleep(delay: float) -> None:
        raise kind("while waiting")

    return sleep


def broken_hook(event: object) -> None:
    raise Interrupted("the hook broke")


# exit name -> (changes to the policy, whether time is virtual: a policy's own sleep runs only outside instant())
EXITS: dict[str, tuple[dict[str, object], bool]] = {
    "success": ({}, True),
    "keyboard-interrupt": ({"sleep": raising(KeyboardInterrupt), "async_sleep": araising(KeyboardInterrupt)}, False),
    "system-exit": ({"sleep": raising(SystemExit), "async_sleep": araising(SystemExit)}, False),
    "raising-sleep": ({"sleep": raising(Interrupted), "async_sleep": araising(Interrupted)}, False),
    "cancelled": ({"async_sleep": araising(asyncio.CancelledError)}, False),
    "raising-hook": ({"on_retry": broken_hook}, True),
}


def flaky_then(result: object, failures: int = 2) -> Callable[[], object]:
    count = 0

    def fn() -> object:
        nonlocal count
        count += 1
        if count % (failures + 1):
            raise ConnectionError("down")
        return result

    return fn


def aflaky_then(result: object, failures: int = 2) -> Callable[[], Awaitable[object]]:
    sync = flaky_then(result, failures)

    async def fn() -> object:
        return sync()

    return fn


@pytest.mark.parametrize("exit_name", [name for name in EXITS if name != "cancelled"])
@pytest.mark.parametrize("name", ALL_POLICIES)
def test_every_exit_of_every_sync_face_leaves_no_cycles(name: str, exit_name: str) -> None:
    changes, virtual = EXITS[exit_name]
    policy = ALL_POLICIES[name].replace(**changes)
    fn = flaky_then(object())
    decorated = policy(fn)

    def block() -> object:
        for attempt in policy.attempts():
            with attempt:
                return fn()
        return None

    with instant() if virtual else contextlib.nullcontext():
        assert [cycles_in(decorated), cycles_in(lambda: policy.call(fn)), cycles_in(block)] == [0, 0, 0]


@pytest.mark.parametrize("exit_name", EXITS)
@pytest.mark.parametrize("name", ALL_POLICIES)
def test_every_exit_of_every_async_face_leaves_no_cycles(name: str, exit_name: str) -> None:
    changes, virtual = EXITS[exit_name]
    policy = ALL_POLICIES[name].replace(**changes)
    fn = aflaky_then(object())
    decorated = policy(fn)

    async def block() -> object:
        async for attempt in policy.attempts():
            with attempt:
                return await fn()
        return None

    async def async_with_block() -> object:
        async for attempt in policy.attempts():
            async with attempt:
                return await fn()
        return None

    async def main() -> list[int]:
        return [
            await acycles_in(decorated),
            await acycles_in(lambda: policy.acall(fn)),
            await acycles_in(block),
            await acycles_in(async_with_block),
        ]

    with instant() if virtual else contextlib.nullcontext():
        assert asyncio.run(main()) == [0, 0, 0, 0]


@pytest.mark.parametrize("hook", ["on_retry", "on_giveup"])
def test_an_async_hook_that_raises_in_an_async_attempt_block_leaves_no_cycles(hook: str) -> None:
    async def broken(event: object) -> None:
        raise Interrupted("the hook broke")

    policy = RetryPolicy(on=ConnectionError, max_retries=2, log=False, **{hook: broken})
    fn = aflaky_then(object(), failures=5)

    async def block() -> object:
        async for attempt in policy.attempts():
            with attempt:  # the hook is awaited by the loop, before the next attempt
                return await fn()
        return None

    async def async_with_block() -> object:
        async for attempt in policy.attempts():
            async with attempt:  # the hook is awaited as the attempt ends
                return await fn()
        return None

    faces: list[Callable[[], Awaitable[object]]] = [lambda: policy.acall(fn), async_with_block]
    if hook == "on_retry":  # an async on_giveup in a sync ``with`` is refused, not awaited
        faces.append(block)

    async def main() -> list[int]:
        return [await acycles_in(face) for face in faces]

    with instant():
        assert asyncio.run(main()) == [0] * len(faces)


def test_a_success_after_failures_lets_go_of_its_result_at_once() -> None:
    class Result:
        pass

    policy = POLICIES["plain"]
    results: list[weakref.ref[Result]] = []

    @policy
    def fetch() -> Result:
        if len(results) < 2:
            results.append(weakref.ref(Result()))
            raise ConnectionError("down")
        result = Result()
        results.append(weakref.ref(result))
        return result

    gc.disable()
    try:
        with instant():
            fetch()  # the result is dropped here: nothing but reference counting may be needed to free it
        assert results[-1]() is None
    finally:
        gc.enable()


def test_the_error_refusing_an_async_hook_on_a_sync_call_leaves_no_cycles() -> None:
    async def on_retry(event: object) -> None:
        pass

    policy = RetryPolicy(on=ConnectionError, on_retry=on_retry, log=False)

    def block() -> None:
        for attempt in policy.attempts():
            with attempt:
                fail()

    with pytest.raises(TypeError, match="is async"):
        block()
    assert garbage_after(block) == 0
    assert garbage_after(lambda: policy.call(fail)) == 0


def test_leaving_an_attempt_block_without_a_with_after_a_retry_leaves_no_cycles() -> None:
    policy = RetryPolicy(on=ConnectionError, log=False, sleep=lambda _: None)
    checked = policy.replace(on_result=lambda value: value is None)

    def leave_by_break() -> None:
        for attempt in policy.attempts():
            if attempt.number == 2:
                break  # the second attempt never enters its block
            with attempt:
                fail()
        raise LookupError("left")

    def forget_the_result() -> None:
        for attempt in checked.attempts():
            with attempt:
                if attempt.number == 1:
                    fail()  # retried; the next attempt forgets attempt.result = value

    assert garbage_after(leave_by_break) == 0
    assert garbage_after(forget_the_result) == 0


def test_leaving_an_async_attempt_block_without_a_with_after_a_retry_leaves_no_cycles() -> None:
    async def no_wait(_: float) -> None:
        pass

    policy = RetryPolicy(on=ConnectionError, log=False, async_sleep=no_wait)

    async def leave_by_break() -> None:
        async for attempt in policy.attempts():
            if attempt.number == 2:
                break
            async with attempt:
                await afail()
        raise LookupError("left")

    assert asyncio.run(agarbage_after(leave_by_break)) == 0
