"""Giving up leaves no reference cycles behind: the garbage collector has nothing to do after a failed call.

A retry loop holds the error it gave up on, and the error's traceback holds the
loop's frames: unless the faces let go, every failed call leaves a cycle for
the collector (and the collector's pauses grow with the error rate).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable

import pytest

import retrykit.urllib
from retrykit import RetryPolicy
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


def garbage_after(run: Callable[[], object], times: int = 5) -> int:
    """Objects the collector finds in cycles after ``times`` failing calls (collector paused meanwhile)."""
    gc.collect()
    gc.disable()
    try:
        for _ in range(times):
            with pytest.raises(Exception):  # noqa: B017 - any failure; the point is what it leaves behind
                run()
        return gc.collect()
    finally:
        gc.enable()


async def agarbage_after(run: Callable[[], Awaitable[object]], times: int = 5) -> int:
    gc.collect()
    gc.disable()
    try:
        for _ in range(times):
            with pytest.raises(Exception):  # noqa: B017
                await run()
        return gc.collect()
    finally:
        gc.enable()


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
