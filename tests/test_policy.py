from __future__ import annotations

import inspect
import logging
import random
import threading

import pytest

from retrykit import (
    Backoff,
    DecorrelatedJitter,
    RetryEvent,
    RetryPolicy,
    is_transient,
    retry,
)
from retrykit.testing import instant

from .helpers import Flaky, HTTPFailure

FAST = RetryPolicy(backoff=Backoff(jitter=0))


def test_succeeds_first_try_without_sleeping() -> None:
    fn = Flaky()
    with instant() as clock:
        assert retry.call(fn) == "ok"
    assert fn.calls == 1 and clock.delays == []


def test_retries_transient_errors_with_the_spec_schedule() -> None:
    fn = Flaky(ConnectionResetError(), TimeoutError(), HTTPFailure(503))
    with instant() as clock:
        assert FAST.call(fn) == "ok"
    assert fn.calls == 4
    assert clock.delays == [1.0, 2.0, 4.0]


def test_six_attempts_by_default_then_the_last_error_itself() -> None:
    errors = [ConnectionResetError(i) for i in range(6)]
    fn = Flaky(*errors)
    with instant() as clock, pytest.raises(ConnectionResetError) as info:
        FAST.call(fn)
    assert info.value is errors[-1]
    assert fn.calls == 6
    assert clock.delays == [1.0, 2.0, 4.0, 8.0, 16.0]
    (note,) = info.value.__notes__
    assert "after 6 attempts" in note and "max_retries=5" in note and "31.00 s" in note


def test_the_traceback_of_the_last_error_is_intact() -> None:
    def boom() -> None:
        raise ConnectionResetError("deep")

    with instant(), pytest.raises(ConnectionResetError) as info:
        FAST.call(boom)
    frames = [f.function for f in inspect.getinnerframes(info.tb)]
    assert frames[-1] == "boom"
    assert info.value.__context__ is None  # no "during handling of the above" chains


@pytest.mark.parametrize("status", [400, 401, 402, 404, 410])
def test_fatal_statuses_fail_at_once_with_the_specs_hint(status: int) -> None:
    fn = Flaky(HTTPFailure(status))
    with instant() as clock, pytest.raises(HTTPFailure) as info:
        retry.call(fn)
    assert fn.calls == 1 and clock.delays == []
    (note,) = info.value.__notes__
    assert f"HTTP {status}" in note and "not retryable" in note and "How to fix:" in note


def test_401_hint_names_the_authorization_header() -> None:
    with pytest.raises(HTTPFailure) as info:
        retry.call(Flaky(HTTPFailure(401)))
    assert "Check that your API key is valid and included in the Authorization header." in info.value.__notes__[0]


def test_a_value_error_is_a_bug_not_a_reason_to_retry() -> None:
    fn = Flaky(ValueError("bug"))
    with pytest.raises(ValueError, match="bug"):
        retry.call(fn)
    assert fn.calls == 1


def test_429_waits_for_retry_after() -> None:
    fn = Flaky(HTTPFailure(429, {"Retry-After": "7"}))
    with instant() as clock:
        FAST.call(fn)
    assert len(clock.delays) == 1 and 7.0 <= clock.delays[0] < 8.0


def test_retry_after_jitter_can_be_turned_off() -> None:
    fn = Flaky(HTTPFailure(429, {"retry-after": "7"}))
    with instant() as clock:
        FAST.replace(retry_after_jitter=0).call(fn)
    assert clock.delays == [7.0]


def test_retry_after_as_an_http_date_uses_the_virtual_wall_clock() -> None:
    import email.utils

    with instant() as clock:
        when = email.utils.formatdate(clock.wall() + 30, usegmt=True)
        FAST.replace(retry_after_jitter=0).call(Flaky(HTTPFailure(503, {"Retry-After": when})))
    assert 29.0 <= clock.delays[0] <= 30.0


def test_an_http_date_retry_after_counts_the_time_already_spent_retrying() -> None:
    import email.utils

    with instant() as clock:
        # Sent 1 s after the first failure (after the first backoff): "retry at start + 31 s" is 30 s away then.
        when = email.utils.formatdate(clock.wall() + 31, usegmt=True)
        fn = Flaky(HTTPFailure(503), HTTPFailure(429, {"Retry-After": when}))
        FAST.replace(retry_after_jitter=0).call(fn)
    assert clock.delays[0] == 1.0
    assert 29.0 <= clock.delays[1] <= 30.0


def test_a_retry_after_above_the_maximum_gives_up_at_once() -> None:
    fn = Flaky(HTTPFailure(429, {"Retry-After": "3600"}))
    with instant() as clock, pytest.raises(HTTPFailure) as info:
        retry.call(fn)
    assert clock.delays == [] and fn.calls == 1
    assert "max_retry_after=120" in info.value.__notes__[0]


def test_garbage_retry_after_falls_back_to_backoff() -> None:
    fn = Flaky(HTTPFailure(429, {"Retry-After": "soon\x00\xff"}))
    with instant() as clock:
        FAST.call(fn)
    assert clock.delays == [1.0]


def test_retry_after_applies_whatever_on_is() -> None:
    policy = FAST.replace(on=HTTPFailure, retry_after_jitter=0)
    with instant() as clock:
        policy.call(Flaky(HTTPFailure(418, {"Retry-After": "3"})))
    assert clock.delays == [3.0]


def test_deadline_gives_up_before_a_wait_that_would_cross_it() -> None:
    fn = Flaky(*[TimeoutError() for _ in range(6)])
    with instant() as clock, pytest.raises(TimeoutError) as info:
        FAST.replace(deadline=10).call(fn)
    assert clock.delays == [1.0, 2.0, 4.0]  # 7 s waited; 8 more would pass 10 s
    assert fn.calls == 4
    assert "deadline" in info.value.__notes__[0]


def test_deadline_counts_the_time_the_attempts_take() -> None:
    ticks = iter([0.0, 5.0, 9.5])
    policy = FAST.replace(deadline=10, clock=lambda: next(ticks), sleep=lambda s: None)
    fn = Flaky(TimeoutError(), TimeoutError())
    with pytest.raises(TimeoutError):
        policy.call(fn)
    assert fn.calls == 2  # at 9.5 s, a 2 s wait would pass the deadline


def test_on_takes_a_type_a_tuple_or_a_predicate() -> None:
    with instant():
        assert RetryPolicy(on=KeyError).call(Flaky(KeyError())) == "ok"
        assert RetryPolicy(on=(KeyError, ValueError)).call(Flaky(ValueError())) == "ok"
        assert RetryPolicy(on=lambda e: "again" in str(e)).call(Flaky(RuntimeError("again"))) == "ok"
        combined = RetryPolicy(on=lambda e: is_transient(e) or isinstance(e, KeyError))
        assert combined.call(Flaky(KeyError(), ConnectionError())) == "ok"
    with pytest.raises(ConnectionError):
        RetryPolicy(on=KeyError).call(Flaky(ConnectionError()))


@pytest.mark.parametrize("error", [KeyboardInterrupt(), SystemExit(2), GeneratorExit()])
def test_control_flow_exceptions_are_never_retried_or_noted(error: BaseException) -> None:
    fn = Flaky(error)
    with instant() as clock, pytest.raises(type(error)):
        RetryPolicy(on=lambda e: True).call(fn)
    assert fn.calls == 1 and clock.delays == []
    assert not getattr(error, "__notes__", None)


def test_attempt_blocks_retry_a_block_of_code() -> None:
    fn = Flaky(ConnectionResetError(), ConnectionResetError())
    seen = []
    with instant() as clock:
        for attempt in FAST.attempts():
            with attempt:
                seen.append(attempt.number)
                fn()
    assert seen == [1, 2, 3] and clock.delays == [1.0, 2.0]


def test_attempt_blocks_give_up_with_the_original_error() -> None:
    error = HTTPFailure(401)
    with pytest.raises(HTTPFailure) as info:
        for attempt in retry.attempts(name="load"):
            with attempt:
                raise error
    assert info.value is error and "gave up on load after 1 attempt" in error.__notes__[0]


def test_attempt_blocks_stop_after_success() -> None:
    count = 0
    for attempt in retry.attempts():
        with attempt:
            count += 1
    assert count == 1


def test_retries_never_multiply_across_layers() -> None:
    inner_fn = Flaky(*[ConnectionResetError() for _ in range(20)])

    @FAST
    def inner() -> object:
        return inner_fn()

    @FAST
    def outer() -> object:
        return inner()

    with instant() as clock, pytest.raises(ConnectionResetError) as info:
        outer()
    assert inner_fn.calls == 6  # not 36
    assert len(clock.delays) == 5
    assert len(info.value.__notes__) == 1


def test_hooks_receive_frozen_events() -> None:
    retried: list[RetryEvent] = []
    gave_up: list[RetryEvent] = []
    policy = FAST.replace(max_retries=2, on_retry=retried.append, on_giveup=gave_up.append)

    def fetch() -> None:
        raise HTTPFailure(503)

    with instant(), pytest.raises(HTTPFailure):
        policy.call(fetch)
    assert [(e.attempt, e.delay, e.max_attempts) for e in retried] == [(1, 1.0, 3), (2, 2.0, 3)]
    assert retried[1].function.endswith("fetch") and retried[1].elapsed == 1.0
    assert retried[0].reason == "HTTP 503 Service Unavailable" and retried[0].status == 503
    (last,) = gave_up
    assert last.delay is None and last.attempt == 3 and "max_retries=2" in (last.stop or "")
    with pytest.raises(AttributeError):
        last.attempt = 9  # type: ignore[misc]


class HookBroke(Exception):
    pass


def broken_hook(event: RetryEvent) -> None:
    raise HookBroke("metrics are down")


@pytest.mark.parametrize("hook", ["on_retry", "on_giveup"])
def test_a_hook_that_raises_stops_the_call_and_keeps_the_failure(hook: str) -> None:
    fn = Flaky(*[ConnectionResetError("down")] * 6)
    policy = FAST.replace(**{hook: broken_hook})
    with instant(), pytest.raises(HookBroke) as info:
        policy.call(fn)
    assert fn.calls == (1 if hook == "on_retry" else 6)
    assert isinstance(info.value.__context__, ConnectionResetError)  # the failure is not lost


@pytest.mark.parametrize("hook", ["on_retry", "on_giveup"])
def test_a_hook_that_raises_in_an_attempts_block_keeps_the_failure(hook: str) -> None:
    policy = FAST.replace(max_retries=1, **{hook: broken_hook})
    with instant(), pytest.raises(HookBroke) as info:
        for attempt in policy.attempts():
            with attempt:
                raise TimeoutError("slow")
    assert isinstance(info.value.__context__, TimeoutError)


def test_each_retry_is_logged_once_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="retrykit")

    def fetch_user() -> None:
        raise HTTPFailure(503, {"Authorization": "Bearer sk-SECRET", "Retry-After": "1"})

    with instant(), pytest.raises(HTTPFailure) as info:
        FAST.replace(max_retries=2, retry_after_jitter=0.5).call(fetch_user)  # the wait prints as "1.xx"
    records = [r for r in caplog.records if r.name == "retrykit"]
    assert len(records) == 3 and all(r.levelno == logging.WARNING for r in records)  # two retries, one give-up
    line = records[0].getMessage()
    assert "fetch_user" in line and "1/3" in line and "HTTP 503" in line and "retrying in 1." in line
    for text in [r.getMessage() for r in records] + info.value.__notes__:
        assert "SECRET" not in text and "api_key" not in text


def test_logging_can_be_turned_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="retrykit")
    with instant():
        FAST.replace(log=False).call(Flaky(TimeoutError()))
    assert not caplog.records


def test_an_injected_rng_makes_jitter_reproducible() -> None:
    def delays(seed: int) -> list[float]:
        with instant() as clock:
            RetryPolicy(rng=random.Random(seed)).call(Flaky(*[TimeoutError() for _ in range(5)]))
        return clock.delays

    assert delays(4) == delays(4) == RetryPolicy().schedule(seed=4)


def test_decorrelated_jitter_gets_the_previous_delay() -> None:
    policy = RetryPolicy(backoff=DecorrelatedJitter(base=1, cap=100), rng=random.Random(1))
    with instant() as clock:
        policy.call(Flaky(*[TimeoutError() for _ in range(5)]))
    assert clock.delays == RetryPolicy(backoff=DecorrelatedJitter(base=1, cap=100)).schedule(seed=1)


def test_injected_clock_and_sleep_are_used() -> None:
    slept: list[float] = []
    policy = FAST.replace(sleep=slept.append, clock=lambda: 0.0)
    policy.call(Flaky(TimeoutError(), TimeoutError()))
    assert slept == [1.0, 2.0]


def test_one_policy_is_shared_safely_across_threads() -> None:
    results: list[object] = []

    def work(i: int) -> None:
        fn = Flaky(*[TimeoutError() for _ in range(i % 4)], result=i)
        results.append(FAST.call(fn))

    with instant() as clock:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == list(range(16))  # type: ignore[type-var]
    assert len(clock.delays) == sum(i % 4 for i in range(16))


@pytest.mark.parametrize("on", [BaseException, (KeyboardInterrupt, ConnectionError)])
def test_on_naming_base_exceptions_still_never_retries_them(on: object) -> None:
    fn = Flaky(KeyboardInterrupt())
    policy = RetryPolicy(on=on)  # type: ignore[arg-type]
    assert policy.retry_types is None  # the engine's inline type test is only for Exception subclasses
    with instant() as clock, pytest.raises(KeyboardInterrupt):
        for attempt in policy.attempts():
            with attempt:
                fn()
    assert fn.calls == 1
    assert clock.delays == []
    state_error = KeyboardInterrupt()
    from retrykit._engine import RetryState

    assert RetryState(policy, 0.0, 0.0).on_failure(state_error, 0.0) is None
