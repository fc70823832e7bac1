"""A Fleet plugged into the retry loops: RetryPolicy(fleet=scope) on every face, and fleet= on every adapter."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from retrykit import Backoff, Fleet, RetryPolicy
from retrykit.testing import FlakyServer, Reply, instant

from .clients import CLIENTS, Result
from .helpers import AsyncFlaky, Flaky, HTTPFailure
from .redis_server import RedisServer

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)
Send = Callable[..., Result]


def rate_limited(seconds: int) -> HTTPFailure:
    return HTTPFailure(429, {"Retry-After": str(seconds)})


def test_the_server_wait_one_call_got_holds_back_the_next_call() -> None:
    scope = Fleet(jitter=0.0).scope("api")
    policy = FAST(fleet=scope, max_retries=0)
    with instant() as clock:
        with pytest.raises(HTTPFailure):
            policy.call(Flaky(rate_limited(20)))
        assert policy.call(Flaky()) == "ok"
    assert clock.delays == [pytest.approx(20.0)]


def test_the_caller_that_got_the_server_wait_waits_once() -> None:
    policy = FAST(fleet=Fleet(jitter=1.0).scope("api"))
    with instant() as clock:
        assert policy.call(Flaky(rate_limited(20))) == "ok"
    assert clock.delays == [20.0]


def test_a_give_up_after_the_last_attempt_still_closes_the_key() -> None:
    scope = Fleet(jitter=0.0).scope("api")
    with instant():
        with pytest.raises(HTTPFailure):
            FAST(fleet=scope, max_retries=1).call(Flaky(HTTPFailure(503), rate_limited(9)))
        assert scope.closed_for == pytest.approx(9.0, abs=0.01)


def test_the_fleet_budget_refuses_retries_across_policies() -> None:
    scope = Fleet(max_tokens=4).scope("api")
    with instant(), pytest.raises(HTTPFailure) as info:
        FAST(fleet=scope).call(Flaky(*[HTTPFailure(503)] * 10))
    assert "retry budget" in info.value.__notes__[0]
    with instant() as clock, pytest.raises(HTTPFailure) as info:
        FAST(fleet=scope).call(Flaky(HTTPFailure(503)))
    assert clock.delays == []
    assert "retry budget" in info.value.__notes__[0]


def test_pacing_spaces_calls_and_successes_credit_the_budget() -> None:
    scope = Fleet(rate=10, max_tokens=4).scope("api")
    policy = FAST(fleet=scope)
    scope.failed()
    with instant() as clock:
        assert [policy.call(Flaky()) for _ in range(3)] == ["ok"] * 3
    assert clock.delays == [pytest.approx(0.1), pytest.approx(0.1)]
    assert scope.budget is not None and scope.budget.tokens == pytest.approx(3.3)


def test_async_calls_and_decorated_functions_share_the_cooldown() -> None:
    scope = Fleet(jitter=0.0).scope("api")
    policy = FAST(fleet=scope, max_retries=0)

    @policy
    async def fetch() -> str:
        return "ok"

    async def main() -> str:
        with pytest.raises(HTTPFailure):
            await policy.acall(AsyncFlaky(rate_limited(5)))
        return await fetch()

    with instant() as clock:
        assert asyncio.run(main()) == "ok"
    assert clock.delays == [pytest.approx(5.0)]


def test_attempt_blocks_wait_their_turn() -> None:
    scope = Fleet(jitter=0.0).scope("api")
    scope.failed(wait=3.0)
    with instant() as clock:
        for attempt in FAST(fleet=scope).attempts():
            with attempt:
                pass
    assert clock.delays == [pytest.approx(3.0, abs=0.01)]


def test_a_policy_takes_a_scope_not_a_fleet() -> None:
    with pytest.raises(TypeError, match=r"fleet\.scope"):
        RetryPolicy(fleet=Fleet())  # type: ignore[arg-type]


@pytest.fixture(params=sorted(CLIENTS))
def send(request: pytest.FixtureRequest) -> Send:
    return CLIENTS[request.param]


def test_every_adapter_shares_a_hosts_cooldown(send: Send) -> None:
    fleet = Fleet(jitter=0.0)
    with FlakyServer([Reply.error(429, retry_after=30)]) as server, instant() as clock:
        first = send(FAST(max_retries=0), "GET", server.url + "/v1/a", fleet=fleet)
        second = send(FAST, "GET", server.url + "/v1/b", fleet=fleet)
    assert (first.status, second.status) == (429, 200)
    assert clock.delays == [pytest.approx(30.0, abs=0.01)]  # the second waited for the host before sending
    assert len(server.requests) == 2


def test_an_adapter_fleet_is_keyed_by_host(send: Send) -> None:
    fleet = Fleet(jitter=0.0)
    with FlakyServer([Reply.error(429, retry_after=30)]) as a, FlakyServer() as b, instant() as clock:
        send(FAST(max_retries=0), "GET", a.url + "/v1/a", fleet=fleet)
        assert send(FAST, "GET", b.url + "/v1/b", fleet=fleet).status == 200
    assert clock.delays == []


def test_adapters_on_a_redis_fleet_share_the_cooldown(redis_server: RedisServer) -> None:
    send = CLIENTS["requests"]
    a = Fleet.redis(redis_server.url, namespace="adapters", jitter=0.0)
    b = Fleet.redis(redis_server.url, namespace="adapters", jitter=0.0)
    with FlakyServer([Reply.error(429, retry_after=30)]) as server, instant() as clock, a, b:
        listening = b.host(server.url)  # b's listener hears a's cooldown: no request of b's is needed
        assert b._shared is not None and b._shared.listening.wait(5.0)
        send(FAST(max_retries=0), "GET", server.url + "/v1/a", fleet=a)
        deadline = time.monotonic() + 5.0
        while listening.closed_for == 0.0 and time.monotonic() < deadline:
            time.sleep(0.001)  # the message travels through a real Redis to a real thread
        assert send(FAST, "GET", server.url + "/v1/b", fleet=b).status == 200
    assert len(clock.delays) == 1 and 29.0 < clock.delays[0] <= 30.01
