from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit import Backoff, DecorrelatedJitter, EqualJitter, FullJitter, RetryPolicy

failures = st.integers(min_value=0, max_value=10**7)
seeds = st.integers(min_value=0, max_value=2**32)


def test_default_is_the_specs_formula() -> None:
    b = Backoff(jitter=0)
    assert [b.delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]


def test_jitter_is_uniform_below_one_second() -> None:
    rng = random.Random(7)
    samples = [Backoff().delay(0, rng) - 1.0 for _ in range(2000)]
    assert min(samples) >= 0.0
    assert max(samples) < 1.0
    assert 0.45 < sum(samples) / len(samples) < 0.55


def test_huge_failure_counts_do_not_overflow() -> None:
    assert Backoff(jitter=0).delay(10**6) == 30.0
    assert FullJitter().delay(10**6, random.Random(1)) < 30.0
    assert EqualJitter().delay(10**9, random.Random(1)) >= 15.0


def test_a_slow_multiplier_is_computed_beyond_the_table() -> None:
    b = Backoff(base=1.0, multiplier=1.01, cap=30.0, jitter=0)
    assert b.delay(100) == pytest.approx(1.01**100)
    assert b.delay(1000) == 30.0


def test_multiplier_one_is_constant() -> None:
    b = Backoff(base=2.0, multiplier=1.0, cap=30.0, jitter=0)
    assert {b.delay(n) for n in (0, 1, 70, 10**6)} == {2.0}


@given(failures, seeds)
def test_backoff_stays_within_its_bounds(n: int, seed: int) -> None:
    b = Backoff()
    d = b.delay(n, random.Random(seed))
    floor = min(2.0**n if n < 64 else math.inf, 30.0)
    assert floor <= d < floor + 1.0


@given(
    st.floats(0, 10),
    st.floats(1, 4),
    st.floats(0, 100),
    st.floats(0, 3),
    failures,
    seeds,
)
def test_any_backoff_is_between_exponential_and_cap_plus_jitter(
    base: float, mult: float, extra: float, jitter: float, n: int, seed: int
) -> None:
    b = Backoff(base=base, multiplier=mult, cap=base + extra, jitter=jitter)
    d = b.delay(n, random.Random(seed))
    assert min(base, b.cap) <= d <= b.cap + jitter
    assert b.exponential(n) <= b.exponential(n + 1) <= b.cap  # monotone, capped


@given(failures, seeds)
def test_full_and_equal_jitter_bounds(n: int, seed: int) -> None:
    cap = FullJitter().exponential(n)
    assert 0.0 <= FullJitter().delay(n, random.Random(seed)) < max(cap, 1e-300)
    assert cap / 2 <= EqualJitter().delay(n, random.Random(seed)) <= cap


@given(st.lists(seeds, min_size=1, max_size=30))
def test_decorrelated_jitter_grows_from_the_previous_delay_within_bounds(seeds_: list[int]) -> None:
    strategy = DecorrelatedJitter(base=1.0, multiplier=3.0, cap=30.0)
    previous = None
    for i, seed in enumerate(seeds_):
        d = strategy.delay(i, random.Random(seed), previous)
        high = 3.0 * (1.0 if previous is None else max(previous, 1.0))
        assert 1.0 <= d <= min(30.0, high)
        previous = d


@given(st.integers(0, 40), st.integers(0, 2**32))
def test_schedule_has_one_delay_per_retry_and_is_reproducible(retries: int, seed: int) -> None:
    policy = RetryPolicy(max_retries=retries)
    schedule = policy.schedule(seed=seed)
    assert len(schedule) == retries
    assert schedule == policy.schedule(seed=seed)
    for n, d in enumerate(schedule):
        floor = min(2.0**n, 30.0)
        assert floor <= d < floor + 1.0


def test_decorrelated_schedule_threads_the_previous_delay() -> None:
    schedule = RetryPolicy(backoff=DecorrelatedJitter(), max_retries=10).schedule(seed=3)
    assert all(1.0 <= d <= 30.0 for d in schedule)
    assert len(set(schedule)) == 10


@pytest.mark.parametrize(
    ("kwargs", "exc", "name"),
    [
        ({"base": -1}, ValueError, "base"),
        ({"base": math.nan}, ValueError, "base"),
        ({"cap": math.inf}, ValueError, "cap"),
        ({"multiplier": 0.5}, ValueError, "multiplier"),
        ({"jitter": -0.1}, ValueError, "jitter"),
        ({"base": 10, "cap": 5}, ValueError, "cap"),
        ({"base": "1"}, TypeError, "base"),
        ({"jitter": True}, TypeError, "jitter"),
    ],
)
def test_bad_backoff_configuration_names_the_parameter(kwargs: dict[str, object], exc: type, name: str) -> None:
    with pytest.raises(exc, match=name):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_backoff_is_frozen_hashable_and_replaceable() -> None:
    b = Backoff()
    with pytest.raises(AttributeError, match="frozen"):
        b.base = 2.0  # type: ignore[misc]
    assert b == Backoff() and hash(b) == hash(Backoff())
    assert b.replace(cap=10).cap == 10.0
    with pytest.raises(ValueError, match="cap"):
        b.replace(cap=0.5)
    assert repr(b) == "Backoff(base=1.0, multiplier=2.0, cap=30.0, jitter=1.0)"


def test_negative_failures_is_an_error() -> None:
    with pytest.raises(ValueError, match="failures"):
        Backoff().delay(-1)
