"""Durations: every parameter that is a time in seconds also takes a datetime.timedelta."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit import Backoff, DecorrelatedJitter, EqualJitter, FullJitter, RetryPolicy
from retrykit.testing import instant
from tests.helpers import Flaky


@pytest.mark.parametrize("strategy", [Backoff, FullJitter, EqualJitter, DecorrelatedJitter])
def test_strategies_take_base_and_cap_as_timedelta(strategy: type[Backoff]) -> None:
    made = strategy(base=timedelta(milliseconds=250), cap=timedelta(minutes=1))
    assert made == strategy(base=0.25, cap=60.0)
    assert (made.base, made.cap) == (0.25, 60.0)


def test_backoff_takes_jitter_as_timedelta() -> None:
    assert Backoff(jitter=timedelta(milliseconds=100)).jitter == 0.1
    assert Backoff(jitter=timedelta(0)) == Backoff(jitter=0)


def test_policy_durations_take_timedelta_and_store_seconds() -> None:
    policy = RetryPolicy(
        deadline=timedelta(minutes=2), max_retry_after=timedelta(seconds=30), retry_after_jitter=timedelta(0)
    )
    assert (policy.deadline, policy.max_retry_after, policy.retry_after_jitter) == (120.0, 30.0, 0.0)
    assert policy == RetryPolicy(deadline=120, max_retry_after=30, retry_after_jitter=0)


def test_a_timedelta_deadline_stops_where_the_same_seconds_do() -> None:
    def delays(deadline: float | timedelta) -> list[float]:
        flaky = Flaky(*[ConnectionError() for _ in range(10)])
        policy = RetryPolicy(max_retries=10, deadline=deadline, backoff=Backoff(jitter=0), log=False)
        with instant() as clock, pytest.raises(ConnectionError):
            policy.call(flaky)
        return clock.delays

    assert delays(timedelta(seconds=10)) == delays(10.0) == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda v: RetryPolicy(deadline=v), "deadline"),
        (lambda v: RetryPolicy(max_retry_after=v), "max_retry_after"),
        (lambda v: RetryPolicy(retry_after_jitter=v), "retry_after_jitter"),
        (lambda v: Backoff(base=v), "base"),
        (lambda v: Backoff(cap=v, base=0), "cap"),
        (lambda v: Backoff(jitter=v), "jitter"),
        (lambda v: FullJitter(base=v), "base"),
        (lambda v: EqualJitter(cap=v, base=0), "cap"),
        (lambda v: DecorrelatedJitter(base=v), "base"),
    ],
)
@pytest.mark.parametrize(
    ("value", "exc"),
    [
        (timedelta(seconds=-1), ValueError),
        (-1.0, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        (True, TypeError),
        ("5", TypeError),
    ],
)
def test_bad_durations_are_refused_naming_the_parameter(make, name: str, value: object, exc: type) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=name):
        make(value)


def test_a_wrong_type_says_a_timedelta_would_do() -> None:
    with pytest.raises(TypeError, match=r"deadline must be a number of seconds or a datetime\.timedelta, got str"):
        RetryPolicy(deadline="10s")  # type: ignore[arg-type]


def test_the_multiplier_is_a_number_not_a_duration() -> None:
    with pytest.raises(TypeError, match="multiplier"):
        Backoff(multiplier=timedelta(seconds=2))  # type: ignore[arg-type]


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
def test_any_timedelta_is_its_total_seconds(value: timedelta) -> None:
    assert Backoff(base=0, cap=value).cap == value.total_seconds()
    assert RetryPolicy(max_retry_after=value).max_retry_after == value.total_seconds()


def test_accepting_timedelta_does_not_import_datetime() -> None:
    # datetime costs more at start-up than all of retrykit; a timedelta is recognised only once it exists.
    code = "import sys, retrykit; print('datetime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
