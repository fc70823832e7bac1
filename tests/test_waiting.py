"""Faults while waiting lose nothing: a failing sleep keeps the failure, a wait no sleep can take
gives up with a note, Retry-After parsing survives any ``now``, trio detection any half-import."""

from __future__ import annotations

import asyncio
import datetime
import math
import sys
import types
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit import Backoff, RetryPolicy, Stop, parse_retry_after
from retrykit.errors import APIError, ServerError
from retrykit.testing import instant

from .helpers import AsyncFlaky, Flaky, HTTPFailure

QUIET = RetryPolicy(log=False)


class SleepFailed(Exception):
    pass


def failing_sleep(delay: float) -> None:
    raise SleepFailed("the sleep broke")


async def failing_async_sleep(delay: float) -> None:
    raise SleepFailed("the sleep broke")


def test_a_raising_sleep_keeps_the_failure_it_waited_after_as_context() -> None:
    policy = QUIET(sleep=failing_sleep)
    for run in (
        lambda error: policy.call(Flaky(error)),
        lambda error: policy(Flaky(error))(),
        lambda error: policy(max_retries=3)(Flaky(error))(),
    ):
        error = ConnectionError("down")
        with pytest.raises(SleepFailed) as info:
            run(error)
        assert info.value.__context__ is error

    error = ConnectionError("down")
    with pytest.raises(SleepFailed) as info:
        for attempt in policy.attempts():
            with attempt:
                raise error
    assert info.value.__context__ is error


def test_a_raising_async_sleep_keeps_the_failure_it_waited_after_as_context() -> None:
    policy = QUIET(async_sleep=failing_async_sleep)

    async def block(error: BaseException) -> None:
        async for attempt in policy.attempts():
            with attempt:
                raise error

    for run in (
        lambda error: policy.acall(AsyncFlaky(error)),
        lambda error: policy(AsyncFlaky(error))(),
        block,
    ):
        error = ConnectionError("down")
        with pytest.raises(SleepFailed) as info:
            asyncio.run(run(error))
        assert info.value.__context__ is error


def test_an_attempt_interrupted_while_waiting_is_numbered_by_the_last_attempt_that_ran() -> None:
    # The loop's one Attempt is the caller's `attempt` after the loop too: a wait that fails
    # (KeyboardInterrupt, cancellation) must not count the attempt it was waiting to start.
    policy = QUIET(sleep=failing_sleep, async_sleep=failing_async_sleep)
    with pytest.raises(SleepFailed):
        for attempt in policy.attempts():
            with attempt:
                raise ConnectionError("down")
    assert attempt.number == 1

    async def block() -> int:
        try:
            async for attempt in policy.attempts():
                async with attempt:
                    raise ConnectionError("down")
        except SleepFailed:
            return attempt.number
        return 0

    assert asyncio.run(block()) == 1


def test_an_async_sleep_that_returns_no_awaitable_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"async_sleep \S*<lambda> returned NoneType"):
        asyncio.run(QUIET(async_sleep=lambda delay: None).acall(AsyncFlaky(ConnectionError("down"))))  # type: ignore[arg-type, return-value]


HUGE = "9" * 400  # float() of it is inf


@pytest.mark.parametrize("max_retry_after", [120.0, None])
def test_an_infinite_retry_after_gives_up_like_any_wait_too_long(max_retry_after: float | None) -> None:
    stops: list[Stop | None] = []
    policy = QUIET(max_retry_after=max_retry_after, on_giveup=lambda e: stops.append(e.stop_reason))
    for error in (
        APIError.from_response(503, None, {"Retry-After": HUGE}),  # carries retry_after=inf
        HTTPFailure(503, {"Retry-After": HUGE}),  # the header itself
        ServerError("busy", status=503, retry_after=10**400),  # an int no float can hold
    ):
        flaky = Flaky(error)
        with instant() as clock, pytest.raises(type(error)):
            policy.call(flaky)
        assert flaky.calls == 1 and clock.delays == []
        assert "the server asked to wait inf s" in error.__notes__[-1]
    assert stops == [Stop.SERVER_WAIT_TOO_LONG] * 3


@pytest.mark.parametrize("header", ["retry-after-ms", "ratelimit-reset", "x-ratelimit-reset"])
def test_a_rate_limit_header_that_overflows_to_inf_gives_up_too(header: str) -> None:
    error = HTTPFailure(429, {header: HUGE})
    flaky = Flaky(error)
    with instant() as clock, pytest.raises(HTTPFailure):
        QUIET.call(flaky)
    assert flaky.calls == 1 and clock.delays == []
    assert "the server asked to wait inf s" in error.__notes__[-1]


def test_without_max_retry_after_a_wait_past_what_sleep_accepts_gives_up_with_a_note() -> None:
    error = ServerError("busy", status=503, retry_after=1e12)  # ~31,700 years: time.sleep overflows
    with instant() as clock, pytest.raises(ServerError):
        QUIET(max_retry_after=None).call(Flaky(error))
    assert clock.delays == []
    assert "longer than any sleep can wait" in error.__notes__[-1]
    ok = ServerError("busy", status=503, retry_after=1e6)  # long, but a sleep can take it
    with instant() as clock:
        assert QUIET(max_retry_after=None, retry_after_jitter=0).call(Flaky(ok)) == "ok"
    assert clock.delays == [1e6]


# -- parse_retry_after: whatever `now` is ---------------------------------------------------------

DATES = ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"]
ANY_NOW = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.none(),
    st.text(max_size=3),
    st.booleans(),
)


@given(now=ANY_NOW, value=st.sampled_from([*DATES, "120", " 7 ", "garbage"]))
def test_parse_retry_after_never_raises_whatever_now_is(now: Any, value: str) -> None:
    result = parse_retry_after(value, now)
    assert result is None or (result >= 0.0 and not math.isnan(result))


@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf, 1e18, 1e300, -1e300, sys.float_info.max])
@pytest.mark.parametrize("value", DATES)
def test_parse_retry_after_returns_at_once_for_extreme_nows(now: float, value: str) -> None:
    result = parse_retry_after(value, now)
    if now == sys.float_info.max:  # a date may land past the largest float: None, not OverflowError
        assert result is None or result >= 0.0
    elif math.isfinite(now):
        assert result is not None and result >= 0.0
    else:
        assert result is None  # no date can be measured from a time that is not one


def test_parse_retry_after_accepts_an_aware_datetime_for_now() -> None:
    now = datetime.datetime(1994, 11, 6, 8, 49, 0, tzinfo=datetime.UTC)
    assert parse_retry_after(DATES[0], now) == 37.0
    paris = now.astimezone(datetime.timezone(datetime.timedelta(hours=1)))
    assert parse_retry_after(DATES[0], paris) == 37.0
    assert parse_retry_after(DATES[1], now) == 37.0  # the two-digit year resolved from it
    assert parse_retry_after(DATES[0], now.replace(tzinfo=None)) == 37.0  # naive: HTTP's GMT
    assert parse_retry_after(DATES[0], now.timestamp()) == 37.0


# -- the async front end's trio detection ---------------------------------------------------------


def test_a_half_imported_trio_does_not_break_asyncio_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # What another thread's `import trio` looks like midway: the module exists, its attributes don't yet.
    monkeypatch.setitem(sys.modules, "trio", types.ModuleType("trio"))
    flaky = AsyncFlaky(ConnectionError("down"))
    # Real time (instant() would supply the sleep), with a wait of nothing: framework_sleep chooses.
    assert asyncio.run(QUIET(backoff=Backoff(base=0.0, jitter=0.0)).acall(flaky)) == "ok"
    assert flaky.calls == 2
