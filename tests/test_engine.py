"""The sans-IO engine on its own: decisions from (rules, error, now), with no face, clock, sleep or budget."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit import DEFAULT_STATUS_TABLE, Backoff, FullJitter, RetryPolicy, Stop, is_transient
from retrykit._backoff import BackoffStrategy, Rng
from retrykit._engine import GAVE_UP_MARK, RetryState, schedule
from retrykit._status import StatusTable
from retrykit.errors import APIError


@dataclass
class Rules:
    """A stand-in for RetryPolicy: the engine reads only these attributes."""

    max_retries: int = 5
    backoff: BackoffStrategy = field(default_factory=lambda: Backoff(jitter=0.0))
    rng: Rng | None = None
    deadline: float | None = None
    max_retry_after: float | None = 120.0
    retry_after_jitter: float = 0.0
    status_table: StatusTable = DEFAULT_STATUS_TABLE
    on: object = is_transient
    retry_types: tuple[type[Exception], ...] | None = None

    def should_retry(self, error: BaseException) -> bool:
        return is_transient(error, self.status_table)


class Budget:
    def __init__(self, allow: bool) -> None:
        self.allow = allow
        self.failures = 0

    def record_failure(self) -> bool:
        self.failures += 1
        return self.allow

    def record_success(self) -> None:  # pragma: no cover - the engine never calls it
        raise AssertionError("the engine never records successes")


def test_a_transient_failure_waits_by_the_backoff_then_runs_out() -> None:
    state = RetryState(Rules(max_retries=3), 0.0, 0.0)
    outcomes = [state.decide(ConnectionError(), float(n)) for n in range(4)]
    assert outcomes == [1.0, 2.0, 4.0, Stop.NO_RETRIES_LEFT]
    assert state.attempt == 4 and state.stop is Stop.NO_RETRIES_LEFT and state.delay is None


def test_a_fatal_status_stops_at_once_and_is_not_charged() -> None:
    state = RetryState(Rules(), 0.0, 0.0)
    assert state.decide(APIError("no", status=401), 0.0) is Stop.NOT_RETRYABLE
    assert state.status == 401 and not state.retryable
    assert state.charge(Budget(allow=False)) is Stop.NOT_RETRYABLE


def test_a_bug_is_not_retryable_and_a_keyboard_interrupt_never_is() -> None:
    assert RetryState(Rules(), 0.0, 0.0).decide(ValueError(), 0.0) is Stop.NOT_RETRYABLE
    rules = Rules(on=BaseException, retry_types=None)
    assert RetryState(rules, 0.0, 0.0).decide(KeyboardInterrupt(), 0.0, retryable=True) is Stop.NOT_RETRYABLE


def test_an_error_an_inner_policy_gave_up_on_stops_an_outer_one() -> None:
    error = ConnectionError()
    setattr(error, GAVE_UP_MARK, True)
    state = RetryState(Rules(), 0.0, 0.0)
    assert state.decide(error, 0.0) is Stop.INHERITED
    assert not state.retryable


def test_the_servers_wait_is_used_and_a_longer_one_than_allowed_stops() -> None:
    state = RetryState(Rules(max_retry_after=10.0), 0.0, 0.0)
    assert state.decide(APIError("slow", status=429, retry_after=7), 0.0) == 7.0
    assert state.decide(APIError("slow", status=429, retry_after=30), 7.0) is Stop.SERVER_WAIT_TOO_LONG
    assert state.refused == 30.0


def test_a_wait_past_the_deadline_stops_and_records_the_refused_wait() -> None:
    state = RetryState(Rules(deadline=2.5), 0.0, 0.0)
    assert state.decide(ConnectionError(), 0.0) == 1.0
    assert state.decide(ConnectionError(), 1.0) is Stop.DEADLINE  # 1 s + a 2 s wait > 2.5 s
    assert state.refused == 2.0


def test_charging_is_a_separate_step_and_only_a_refusal_changes_the_outcome() -> None:
    state = RetryState(Rules(), 0.0, 0.0)
    assert state.decide(ConnectionError(), 0.0) == 1.0  # deciding charges nothing
    allowing, refusing = Budget(allow=True), Budget(allow=False)
    assert state.charge(allowing) == 1.0 and allowing.failures == 1
    assert state.decide(ConnectionError(), 1.0) == 2.0
    assert state.charge(refusing) is Stop.BUDGET and refusing.failures == 1
    assert state.stop is Stop.BUDGET and state.delay is None


def test_a_retryable_failure_is_charged_even_when_no_retry_follows() -> None:
    state = RetryState(Rules(max_retries=0), 0.0, 0.0)
    budget = Budget(allow=True)
    assert state.decide(ConnectionError(), 0.0) is Stop.NO_RETRIES_LEFT
    assert state.charge(budget) is Stop.NO_RETRIES_LEFT and budget.failures == 1


def test_the_callers_classification_overrides_on() -> None:
    assert RetryState(Rules(), 0.0, 0.0).decide(ValueError(), 0.0, retryable=True) == 1.0
    assert RetryState(Rules(), 0.0, 0.0).decide(ConnectionError(), 0.0, retryable=False) is Stop.NOT_RETRYABLE


def test_on_failure_is_decide_as_a_delay_or_none() -> None:
    state = RetryState(Rules(max_retries=1), 0.0, 0.0)
    assert state.on_failure(ConnectionError(), 0.0) == 1.0
    assert state.on_failure(ConnectionError(), 1.0) is None


@given(st.integers(0, 12), st.integers(0, 2**32))
def test_schedule_asks_the_engine_and_matches_the_strategy(max_retries: int, seed: int) -> None:
    rules = Rules(max_retries=max_retries, backoff=FullJitter(), rng=random.Random(seed))
    expected_rng = random.Random(seed)
    expected: list[float] = []
    previous = None
    for n in range(max_retries):
        previous = FullJitter().delay(n, expected_rng, previous)
        expected.append(previous)
    assert schedule(rules, ConnectionError()) == expected


@given(
    st.integers(0, 80),
    st.integers(0, 2**32),
    st.floats(0.0, 5.0),
    st.floats(1.0, 4.0),
    st.floats(5.0, 100.0),
    st.floats(0.0, 3.0),
)
def test_the_default_strategys_delays_are_its_own_for_every_failure_count(
    max_retries: int, seed: int, base: float, multiplier: float, cap: float, jitter: float
) -> None:
    # The engine computes Backoff's delay itself (speed only): it must be Backoff.delay's, past its table too.
    backoff = Backoff(base=base, multiplier=multiplier, cap=cap, jitter=jitter)
    rules = Rules(max_retries=max_retries, backoff=backoff, rng=random.Random(seed), max_retry_after=None)
    expected_rng = random.Random(seed)
    assert schedule(rules, ConnectionError()) == [backoff.delay(n, expected_rng) for n in range(max_retries)]


@given(st.integers(0, 10), st.integers(0, 2**32))
def test_policy_schedule_is_the_engines_schedule(max_retries: int, seed: int) -> None:
    policy = RetryPolicy(max_retries=max_retries, deadline=1.0)  # no deadline in a schedule
    assert policy.schedule(seed=seed) == schedule(policy.replace(deadline=None, rng=random.Random(seed)), ConnectionError())
    assert len(policy.schedule(seed=seed)) == max_retries


@pytest.mark.parametrize("stop", list(Stop))
def test_every_stop_is_a_named_value(stop: Stop) -> None:
    assert Stop[stop.name] is stop and Stop(stop.value) is stop
