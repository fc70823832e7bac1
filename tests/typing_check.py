"""Checked by ``mypy --strict`` in CI (and imported by a test): decorators keep signatures and sync/async-ness."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, assert_type

from retrykit import RetryPolicy, retry


@retry
def get_user(user_id: int, *, fields: str = "id") -> dict[str, str]:
    return {"id": str(user_id), "fields": fields}


@retry(max_retries=3, on=KeyError)
async def aget_user(user_id: int) -> str:
    return str(user_id)


def check() -> None:
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
