"""Retry on results: on_result rejects a value, and the policy retries it like a retryable failure."""

from __future__ import annotations

import asyncio
import logging
import pickle

import pytest
import requests

import retrykit
import retrykit.requests
from retrykit import Backoff, RetriesExhausted, RetryBudget, RetryEvent, RetryPolicy, retry
from retrykit.errors import GoneError
from retrykit.testing import FlakyServer, Reply, instant

PENDING = {"status": "pending"}
DONE = {"status": "done"}


def pending(value: object) -> bool:
    return value == PENDING


def poll_policy(**changes: object) -> RetryPolicy:
    return RetryPolicy(on_result=pending, backoff=Backoff(jitter=0), log=False).replace(**changes)


class Task:
    """Answers from a list of results and errors, in order; counts calls."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def acall(self) -> object:
        return self()


def test_a_rejected_result_is_retried_until_one_is_accepted() -> None:
    task = Task(PENDING, PENDING, DONE)
    with instant() as clock:
        assert poll_policy().call(task) == DONE
    assert task.calls == 3 and clock.delays == [1.0, 2.0]


def test_every_face_retries_rejected_results() -> None:
    policy = poll_policy()

    def decorated() -> list[float]:
        task = Task(PENDING, DONE)
        with instant() as clock:
            assert policy(task)() == DONE
        return clock.delays

    def async_decorated() -> list[float]:
        task = Task(PENDING, DONE)
        with instant() as clock:
            assert asyncio.run(policy(task.acall)()) == DONE
        return clock.delays

    def acall() -> list[float]:
        task = Task(PENDING, DONE)
        with instant() as clock:
            assert asyncio.run(policy.acall(task.acall)) == DONE
        return clock.delays

    def block() -> list[float]:
        task = Task(PENDING, DONE)
        with instant() as clock:
            for attempt in policy.attempts():
                with attempt:
                    attempt.result = task()
        assert attempt.result == DONE
        return clock.delays

    def async_block() -> list[float]:
        task = Task(PENDING, DONE)

        async def main() -> object:
            async for attempt in policy.attempts():
                with attempt:
                    attempt.result = await task.acall()
            return attempt.result

        with instant() as clock:
            assert asyncio.run(main()) == DONE
        return clock.delays

    for face in (decorated, async_decorated, acall, block, async_block):
        assert face() == [1.0], face.__name__


def test_out_of_retries_raises_retries_exhausted_with_the_last_result_and_a_note() -> None:
    last = {"status": "pending", "n": 3}
    task = Task(PENDING, PENDING, last)
    with instant(), pytest.raises(RetriesExhausted) as info:
        poll_policy(max_retries=2, on_result=lambda r: r["status"] == "pending").call(task)
    error = info.value
    assert error.result is last and error.attempts == 3
    assert str(error) == "gave up after 3 attempts: on_result rejected the last result"
    assert error.__notes__ == [
        "retrykit: gave up on Task after 3 attempts over 3.00 s: result rejected; no retries left (max_retries=2)"
    ]


def test_retries_exhausted_shows_no_result_and_pickles() -> None:
    error = RetriesExhausted({"token": "sk-SECRET"}, 2)
    assert "SECRET" not in str(error) + repr(error)
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.result, clone.attempts) == ({"token": "sk-SECRET"}, 2)


def test_an_exhausted_block_raises_from_the_with_statement() -> None:
    with instant(), pytest.raises(RetriesExhausted) as info:
        for attempt in poll_policy(max_retries=1).attempts("poll"):
            with attempt:
                attempt.result = PENDING
    assert info.value.attempts == 2 and info.value.result == PENDING


def test_a_block_that_hands_no_result_to_an_on_result_policy_is_an_error() -> None:
    with pytest.raises(TypeError, match=r"attempt\.result"):
        for attempt in poll_policy().attempts():
            with attempt:
                pass


def test_polling_is_a_deadline_without_a_retry_count() -> None:
    task = Task(*[PENDING] * 100)
    policy = poll_policy(max_retries=None, deadline=20, backoff=Backoff(base=2, multiplier=1, jitter=0))
    with instant() as clock, pytest.raises(RetriesExhausted) as info:
        policy.call(task)
    assert clock.delays == [2.0] * 10 and task.calls == 11
    assert info.value.__notes__[0].endswith("would pass the 20 s deadline")
    assert policy.max_attempts is None


def test_no_retry_count_needs_a_deadline() -> None:
    with pytest.raises(ValueError, match=r"max_retries=None.*deadline"):
        RetryPolicy(max_retries=None)
    with pytest.raises(ValueError, match=r"max_retries=None.*deadline"):
        poll_policy(max_retries=None, deadline=5).replace(deadline=None)


def test_on_result_must_be_callable() -> None:
    with pytest.raises(TypeError, match="on_result"):
        RetryPolicy(on_result=True)  # type: ignore[arg-type]


def test_exceptions_still_follow_on() -> None:
    task = Task(PENDING, KeyError("k"), DONE)
    with instant(), pytest.raises(KeyError):
        poll_policy().call(task)
    assert task.calls == 2
    task = Task(PENDING, ConnectionError(), PENDING, DONE)
    with instant() as clock:
        assert poll_policy().call(task) == DONE
    assert clock.delays == [1.0, 2.0, 4.0]


def test_a_predicate_that_raises_stops_the_call_with_its_own_error() -> None:
    def broken(value: object) -> bool:
        raise LookupError("bad predicate")

    task = Task(PENDING, DONE)
    with instant(), pytest.raises(LookupError, match="bad predicate"):
        poll_policy(on_result=broken).call(task)
    assert task.calls == 1


def test_hooks_and_the_log_see_a_rejected_result_as_the_reason(caplog: pytest.LogCaptureFixture) -> None:
    events: list[RetryEvent] = []
    task = Task({"token": "sk-SECRET"}, DONE)
    policy = poll_policy(on_result=lambda r: r != DONE, on_retry=events.append, log=True)
    with instant(), caplog.at_level(logging.WARNING, logger="retrykit"):
        assert policy.call(task) == DONE
    (event,) = events
    assert event.reason == "result rejected" and event.attempt == 1 and event.delay == 1.0
    assert isinstance(event.error, RetriesExhausted) and event.error.result == {"token": "sk-SECRET"}
    assert "(result rejected); retrying in 1.00 s" in caplog.text
    assert "SECRET" not in caplog.text


def test_on_giveup_sees_the_error_that_is_raised() -> None:
    seen: list[RetryEvent] = []
    with instant(), pytest.raises(RetriesExhausted) as info:
        poll_policy(max_retries=0, on_giveup=seen.append).call(Task(PENDING))
    assert seen[0].error is info.value and seen[0].delay is None


def test_a_rejected_result_is_charged_to_the_budget_and_an_accepted_one_credits_it() -> None:
    budget = RetryBudget(max_tokens=4, token_ratio=0.5)
    with instant(), pytest.raises(RetriesExhausted) as info:
        poll_policy(budget=budget, max_retries=10).call(Task(*[PENDING] * 10))
    assert "retry budget is exhausted" in info.value.__notes__[0]
    assert info.value.attempts == 2


def test_an_outer_policy_does_not_retry_what_an_inner_one_gave_up_on() -> None:
    task = Task(PENDING, PENDING, PENDING, PENDING)
    inner = poll_policy(max_retries=1)(task)
    with instant(), pytest.raises(RetriesExhausted):
        retry(on=RetriesExhausted).call(inner)
    assert task.calls == 2


def test_a_policy_without_on_result_returns_any_result() -> None:
    with instant():
        assert RetryPolicy().call(lambda: PENDING) == PENDING


def test_an_accepted_202_is_returned_and_a_rejected_one_waits_its_retry_after() -> None:
    accepted = [Reply(202, PENDING, {"Retry-After": "7"}), Reply(202, PENDING, {"Retry-After": "3"}), Reply(200, DONE)]
    policy = poll_policy(on_result=lambda r: r.status_code == 202, retry_after_jitter=0)
    with FlakyServer(paths={"/v1/tasks/1": accepted}) as server, instant() as clock, requests.Session() as http:
        response = policy.call(http.get, server.url + "/v1/tasks/1")
    assert response.json() == DONE
    assert clock.delays == [7.0, 3.0]


def test_a_rejected_response_names_its_status_in_the_reason() -> None:
    events: list[RetryEvent] = []
    policy = poll_policy(on_result=lambda r: r.status_code == 202, on_retry=events.append, retry_after_jitter=0)
    with FlakyServer([Reply(202, PENDING)]) as server, instant(), requests.Session() as http:
        policy.call(http.get, server.url)
    assert events[0].reason == "result rejected (HTTP 202)" and events[0].status == 202


def test_the_public_api_exports_retries_exhausted() -> None:
    assert "RetriesExhausted" in retrykit.__all__
    assert retrykit.RetriesExhausted is RetriesExhausted


def test_an_expired_task_fails_at_once_with_its_hint() -> None:
    # The adapter turns the final 410 into GoneError and gives up on it; the polling policy around it does not retry.
    paths = {"/v1/tasks/old": [Reply.error(410, "Task expired", type="invalid_request_error", code="gone")]}
    with FlakyServer(paths=paths) as server, instant() as clock, retrykit.requests.session(raise_for_status=True) as http:
        poll = RetryPolicy(max_retries=None, deadline=60, on_result=lambda r: r.json()["status"] != "done")
        with pytest.raises(GoneError) as info:
            poll.call(http.get, server.url + "/v1/tasks/old")
    assert len(server.requests) == 1 and clock.delays == []
    assert "How to fix: Resource has expired" in "\n".join(info.value.__notes__)


def test_the_adapters_refuse_a_policy_with_on_result() -> None:
    with FlakyServer() as server, retrykit.requests.session(poll_policy()) as http:
        with pytest.raises(TypeError, match="on_result"):
            http.get(server.url)
    assert server.requests == []


def test_polling_logs_attempts_without_a_count_and_events_have_none(caplog: pytest.LogCaptureFixture) -> None:
    events: list[RetryEvent] = []
    policy = poll_policy(max_retries=None, deadline=60, on_retry=events.append, log=True)
    with instant(), caplog.at_level(logging.WARNING, logger="retrykit"):
        policy.call(Task(PENDING, DONE))
    assert "Task failed on attempt 1 (result rejected); retrying in 1.00 s" in caplog.text
    assert events[0].max_attempts is None


def test_a_polling_schedule_is_what_the_deadline_allows() -> None:
    policy = RetryPolicy(max_retries=None, deadline=20, backoff=Backoff(jitter=0))
    assert policy.schedule() == [1.0, 2.0, 4.0, 8.0]
    task = Task(*[PENDING] * 10)
    with instant() as clock, pytest.raises(RetriesExhausted):
        policy.replace(on_result=pending, log=False).call(task)
    assert clock.delays == policy.schedule()


def test_zero_waits_without_a_count_end_the_schedule_at_its_limit() -> None:
    policy = RetryPolicy(max_retries=None, deadline=1, backoff=Backoff(base=0, jitter=0))
    assert len(policy.schedule()) == 10_000


def test_on_result_is_part_of_the_policy_value() -> None:
    policy = poll_policy()
    assert policy.on_result is pending and "on_result=<function pending" in repr(policy)
    assert policy.replace(on_result=None).on_result is None
    assert retry.on_result is None and retry(on_result=pending).on_result is pending


def test_a_policy_without_on_result_refuses_a_result_it_would_never_check() -> None:
    with pytest.raises(TypeError, match="no on_result"):
        for attempt in retry.attempts():
            with attempt:
                attempt.result = 1
    with pytest.raises(AttributeError, match="no result was handed"):
        _ = attempt.result


def test_rejected_results_are_retried_under_trio_too() -> None:
    import trio

    task = Task(PENDING, PENDING, DONE)
    with instant() as clock:
        assert trio.run(poll_policy().acall, task.acall) == DONE
    assert clock.delays == [1.0, 2.0]
