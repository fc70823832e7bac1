"""instant(attempts=N): inside the block every policy makes at most N attempts (stamina's set_testing)."""

from __future__ import annotations

import asyncio

import pytest

import retrykit.requests
from retrykit import Backoff, RetriesExhausted, RetryPolicy, retry
from retrykit.testing import FlakyServer, Reply, instant
from tests.helpers import Flaky


def test_one_attempt_makes_a_failure_fail_at_once() -> None:
    flaky = Flaky(ConnectionError(), ConnectionError())
    with instant(attempts=1) as clock, pytest.raises(ConnectionError) as info:
        retry.call(flaky)
    assert flaky.calls == 1 and clock.delays == []
    assert info.value.__notes__ == [
        "retrykit: gave up on Flaky after 1 attempt: ConnectionError; "
        "no retries left (testing.instant(attempts=1) caps every policy)"
    ]


def test_the_cap_lowers_every_policy_but_never_raises_one() -> None:
    with instant(attempts=3) as clock, pytest.raises(ConnectionError):
        retry.call(Flaky(*[ConnectionError()] * 9))
    assert len(clock.delays) == 2
    few = RetryPolicy(max_retries=1, backoff=Backoff(jitter=0), log=False)
    with instant(attempts=3) as clock, pytest.raises(ConnectionError) as info:
        few.call(Flaky(*[ConnectionError()] * 9))
    assert clock.delays == [1.0] and "no retries left (max_retries=1)" in info.value.__notes__[0]


def test_the_cap_covers_every_face_and_polling() -> None:
    polling = RetryPolicy(max_retries=None, deadline=3600, on_result=lambda r: r == "pending", log=False)

    async def pending() -> str:
        return "pending"

    with instant(attempts=2) as clock:
        with pytest.raises(RetriesExhausted) as info:
            polling.call(lambda: "pending")
        assert info.value.attempts == 2
        with pytest.raises(RetriesExhausted):
            asyncio.run(polling.acall(pending))
        with pytest.raises(ConnectionError):
            for attempt in retry.attempts():
                with attempt:
                    raise ConnectionError
        assert attempt.number == 2
    assert len(clock.delays) == 3


def test_the_cap_covers_the_http_adapters() -> None:
    with FlakyServer([Reply.error(503)] * 5) as server, instant(attempts=2), retrykit.requests.session() as http:
        assert http.get(server.url).status_code == 503
        assert len(server.requests) == 2


def test_the_cap_ends_with_the_block() -> None:
    with instant(attempts=1):
        pass
    flaky = Flaky(ConnectionError())
    with instant() as clock:
        assert retry.call(flaky) == "ok"
    assert flaky.calls == 2 and len(clock.delays) == 1


def test_events_report_the_capped_count() -> None:
    seen: list[int | None] = []
    policy = retry(on_retry=lambda e: seen.append(e.max_attempts), log=False)
    with instant(attempts=2), pytest.raises(ConnectionError):
        policy.call(Flaky(*[ConnectionError()] * 9))
    assert seen == [2]

