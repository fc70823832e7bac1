"""Checked by ``mypy --strict`` in CI (and imported by a test): decorators keep signatures and sync/async-ness."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, assert_type

import retrykit.aiohttp
import retrykit.httpx
import retrykit.requests
import retrykit.urllib
from retrykit import HostBudgets, RetriesExhausted, RetryPolicy, retry


@retry
def get_user(user_id: int, *, fields: str = "id") -> dict[str, str]:
    return {"id": str(user_id), "fields": fields}


@retry(max_retries=3, on=KeyError)
async def aget_user(user_id: int) -> str:
    return str(user_id)


@retry(on_result=lambda task: task["status"] != "done", max_retries=None, deadline=timedelta(minutes=5))
def poll_task(task_id: str) -> dict[str, str]:
    return {"id": task_id, "status": "done"}


def check() -> None:
    assert_type(poll_task("t1"), dict[str, str])
    try:
        poll_task("t1")
    except RetriesExhausted as error:
        assert_type(error.attempts, int)
    assert_type(get_user(1, fields="name"), dict[str, str])
    coro = aget_user(1)
    _ = assert_type(coro, Coroutine[Any, Any, str])
    coro.close()
    assert_type(retry(max_retries=2), RetryPolicy)
    assert_type(retry.call(get_user, 1), dict[str, str])
    assert_type(retry.call(len, "abc"), int)


async def acheck() -> None:
    assert_type(await retry.acall(aget_user, 3), str)
    assert_type(await aget_user(2), str)
    async for attempt in retry.attempts():
        with attempt:
            assert_type(attempt.number, int)
    for attempt in retry.attempts():
        with attempt:
            pass
    for attempt in retry(on_result=lambda n: n < 1).attempts():
        with attempt:
            attempt.result = 1
    assert attempt.result == 1


def check_adapter_keywords() -> None:
    """Every adapter's signature names its keywords (one TypedDict, unpacked), so a typo is a type error."""
    retrykit.requests.session(idempotency_keys=True, budgets=HostBudgets(), pool_maxsize=4).close()
    retrykit.requests.RetryAdapter(retry_non_idempotent=True, pool_block=True).close()
    retrykit.httpx.RetryTransport(raise_for_status=True, verify=False, http2=False, proxy=None).close()
    retrykit.httpx.AsyncRetryTransport(budgets=None)
    retrykit.aiohttp.middleware(idempotency_keys=True)


def misspelled_adapter_keywords() -> None:
    """Never run: mypy must reject each line (an unused ignore fails the check)."""
    retrykit.requests.session(idempotency_key=True)  # type: ignore[call-arg]
    retrykit.httpx.RetryTransport(raise_for_status="yes")  # type: ignore[arg-type]
    retrykit.httpx.RetryTransport(verify=1.5)  # type: ignore[arg-type]
    retrykit.aiohttp.middleware(budget=None)  # type: ignore[call-arg]
    retrykit.urllib.urlopen("http://127.0.0.1:1/", policy=retry, retries=2)  # type: ignore[call-arg]


class SeenRetries(retrykit.Instrument):
    """A user's instrument: overriding one moment is enough."""

    def on_retry(self, event: retrykit.RetryEvent) -> None:
        assert_type(event.target.host, str | None)
        assert_type(event.delay, float | None)


def check_instruments() -> None:
    """The registry is set and read in one call each; it takes instruments only."""
    before = retrykit.get_instruments()
    assert_type(before, tuple[retrykit.Instrument, ...])
    retrykit.set_instruments([*before, SeenRetries(), retrykit.LoggingInstrument("app", level=20)])
    retrykit.set_instruments(None)


def misspelled_instruments() -> None:
    """Never run: mypy must reject each line."""
    retrykit.set_instruments([print])  # type: ignore[list-item]
    retrykit.LoggingInstrument(level="INFO")  # type: ignore[arg-type]
