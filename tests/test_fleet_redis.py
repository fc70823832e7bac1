"""The Redis Fleet against a real redis-server: shared state across fleets and processes, failing open, recovering."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
import redis
import redis.asyncio
from hypothesis import given
from hypothesis import strategies as st

from retrykit import Fleet
from retrykit._fleet_redis import parse_answer
from retrykit._limited_server import RateLimitedServer
from retrykit.testing import FlakyServer, Reply

from . import fleet_workers
from .redis_server import RedisServer


@pytest.fixture
def namespace() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"  # one per test: no test sees another's keys


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor


def in_processes(pool: ProcessPoolExecutor, fn: Any, *args: object) -> list[Any]:
    """``fn(*args)`` in each of the pool's 4 processes at once; their results."""
    return list(pool.map(fn, *([arg] * 4 for arg in args)))


def two(redis_server: RedisServer, namespace: str, **options: Any) -> tuple[Fleet, Fleet]:
    """Two members of one fleet, as two processes would hold them."""
    return (Fleet.redis(redis_server.url, namespace=namespace, **options), Fleet.redis(redis_server.url, namespace=namespace, **options))


def test_a_cooldown_is_learned_by_another_member_on_its_next_failure(redis_server: RedisServer, namespace: str) -> None:
    a, b = two(redis_server, namespace, jitter=0.0)
    b.close()  # b does not listen: it learns with the round trip of its own next failure
    a.scope("api").failed(wait=30.0)
    assert b.scope("api").before_send() == 0.0  # the success path asks Redis nothing
    b.scope("api").failed()  # a failure reads the shared cooldown in the same round trip
    assert 29.0 < b.scope("api").before_send() <= 30.01


def test_pacing_is_shared_and_carries_the_cooldown(redis_server: RedisServer, namespace: str) -> None:
    a, b = two(redis_server, namespace, rate=1, burst=1, jitter=0.0)
    waits = [a.scope("api").before_send(), b.scope("api").before_send(), a.scope("api").before_send()]
    assert waits == [0.0, pytest.approx(1.0, abs=0.2), pytest.approx(2.0, abs=0.2)]  # slots a second apart
    a.scope("api").failed(wait=5.0)
    assert 4.5 < b.scope("api").before_send() <= 5.01  # learned on the paced send, before sending


def test_the_budget_is_exact_across_members(redis_server: RedisServer, namespace: str) -> None:
    a, b = two(redis_server, namespace, max_tokens=10)
    verdicts = [fleet.scope("api").failed() for _ in range(4) for fleet in (a, b)]
    assert verdicts == [True] * 4 + [False] * 4  # 10 -> 2 tokens: retries while more than 5 are left
    for _ in range(60):
        a.scope("api").succeeded()  # credit kept locally: no round trip ...
    assert b.scope("api").failed() is False  # 1 token
    assert a.scope("api").failed() is True  # ... and written with a's next failure: 1 + 6 - 1 = 6


def test_keys_are_namespaced_hashed_and_expire(redis_server: RedisServer, namespace: str) -> None:
    fleet = Fleet.redis(redis_server.url, namespace=namespace, rate=5)
    scope = fleet.scope("tenant sk-SECRET api.example.com")
    scope.before_send()
    scope.failed(wait=3.0)
    client = redis.Redis.from_url(redis_server.url)
    keys = client.keys("*")
    mine = [k.decode() for k in keys if k.decode().startswith(f"{namespace}:")]
    assert len(mine) == 3
    assert not any("SECRET" in k or "example" in k for k in mine)
    assert all(0 < client.pttl(k) <= 600_000 for k in mine)
    for _ in range(300):  # the bucket refills: a full bucket is no key at all
        scope.succeeded()
    scope.failed(retryable=False, wait=0.1)
    client.close()


def test_an_unreachable_redis_fails_open_with_one_warning(caplog: pytest.LogCaptureFixture, tmp_path: Any) -> None:
    fleet = Fleet.redis(f"unix://{tmp_path}/nothing.sock", max_tokens=4, rate=1000, jitter=0.0)
    scope = fleet.scope("api")
    with caplog.at_level(logging.WARNING, logger="retrykit"):
        verdicts = [scope.failed() for _ in range(3)]
        waits = [scope.before_send() for _ in range(3)]
    assert verdicts == [True, False, False]  # the in-process budget took over
    assert waits[0] == 0.0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "nothing.sock" not in warnings[0].getMessage()


def test_redis_stopped_mid_run_then_restarted(redis_server: RedisServer, namespace: str, caplog: pytest.LogCaptureFixture) -> None:
    a, b = two(redis_server, namespace, jitter=0.0, retry_interval=0.05)
    with caplog.at_level(logging.INFO, logger="retrykit"):
        a.scope("api").failed(wait=0.01)
        redis_server.stop()
        try:
            for _ in range(20):  # calls go on: nothing raised, the in-process state answers
                a.scope("api").failed()
                a.scope("api").succeeded()
        finally:
            redis_server.start()
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            time.sleep(0.06)  # past the retry interval: a real wait for a real restart
            a.scope("api").failed(wait=30.0)
            if not a._shared._down:  # type: ignore[union-attr]
                break
        b.scope("api").failed()
    assert 29.0 < b.scope("api").closed_for <= 30.01  # coordination resumed
    levels = [r.levelname for r in caplog.records if r.name == "retrykit"]
    assert levels.count("WARNING") == 1
    assert "INFO" in levels


def test_the_asyncio_client_is_used_by_async_callers(redis_server: RedisServer, namespace: str) -> None:
    async def main() -> tuple[float, bool, float]:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        try:
            fleet = Fleet.redis(client, namespace=namespace, rate=1, burst=1, jitter=0.0, max_tokens=2)
            scope = fleet.scope("api")
            await scope.abefore_send()
            wait = await scope.abefore_send()
            allowed = await scope.afailed(wait=7.0)
            other = Fleet.redis(redis_server.url, namespace=namespace, jitter=0.0).scope("api")
            other.failed(retryable=False, wait=0.001)
            return wait, allowed, other.closed_for
        finally:
            await client.aclose()

    wait, allowed, closed = asyncio.run(main())
    assert wait == pytest.approx(1.0, abs=0.2)
    assert allowed is False  # 2 -> 1 token: not more than half left
    assert 6.0 < closed <= 7.01


def test_a_url_fleet_serves_async_callers_with_its_sync_client(redis_server: RedisServer, namespace: str) -> None:
    a, b = two(redis_server, namespace, jitter=0.0)

    async def main() -> bool:
        return await a.scope("api").afailed(wait=4.0)

    assert asyncio.run(main())
    b.scope("api").failed()
    assert 3.0 < b.scope("api").closed_for <= 4.01


@given(st.lists(st.one_of(st.none(), st.text(max_size=5), st.binary(max_size=5), st.integers(), st.floats()), max_size=5))
def test_a_nonsense_answer_is_rejected_never_used(raw: list[object]) -> None:
    try:
        pace, remaining, _ = parse_answer(raw)
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError):
        return
    assert 0.0 <= pace < float("inf") and 0.0 <= remaining < float("inf")


def test_without_redis_py_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"retrykit\[redis\]"):
        Fleet.redis("redis://localhost")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"namespace": ""}, "namespace"), ({"timeout": 0}, "timeout"), ({"retry_interval": -1}, "retry_interval"), ({"budget_ttl": 0}, "budget_ttl")],
)
def test_bad_redis_settings_name_the_parameter(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Fleet.redis("redis://localhost", **kwargs)


def test_a_target_that_is_not_redis_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="url_or_client"):
        Fleet.redis(42)


# -- real processes ---------------------------------------------------------------------------------


def test_every_process_sees_a_cooldown_another_process_got(redis_server: RedisServer, namespace: str, pool: ProcessPoolExecutor) -> None:
    with FlakyServer([Reply.error(429, "slow down", retry_after=30)]) as server:
        status, asked = fleet_workers.get(server.url + "/v1/x")
        assert (status, asked) == (429, 30.0)
        Fleet.redis(redis_server.url, namespace=namespace).scope("api").failed(asked)
        start = time.time() + 0.05
        waits = in_processes(pool, fleet_workers.see_cooldown, redis_server.url, namespace, start)
        assert len(server.requests) == 1  # none of them sent anything
    assert all(28.0 < w <= 30.01 for w in waits), waits


def test_the_budget_is_exact_across_processes(redis_server: RedisServer, namespace: str, pool: ProcessPoolExecutor) -> None:
    start = time.time() + 0.2
    verdicts = in_processes(pool, fleet_workers.spend_budget, redis_server.url, namespace, start, 5)
    assert sum(sum(v) for v in verdicts) == 9  # 20 tokens: exactly the charges 1..9 found more than 10 left


def test_pacing_holds_a_fleet_of_processes_under_the_server_capacity(
    redis_server: RedisServer, namespace: str, pool: ProcessPoolExecutor
) -> None:
    # The server's burst (10) absorbs a few sends that a busy machine's scheduler delays into a bunch.
    with RateLimitedServer(rate=100, burst=10) as server:
        start = time.time() + 0.3
        args = (redis_server.url, namespace, server.url + "/v1/x", start, 2, 15, 85.0)
        results = in_processes(pool, fleet_workers.paced_calls, *args)
        times = sorted(server.times)
    statuses = [s for r in results for s in json.loads(r)]
    assert statuses.count(200) == 120
    assert statuses.count(429) <= 2  # pacing, not 429s, holds the rate
    assert (len(times) - 11) / (times[-1] - times[0]) <= 100 * 1.05  # the burst aside, at most the capacity


def test_members_hear_a_cooldown_at_once_without_a_round_trip(redis_server: RedisServer, namespace: str) -> None:
    a, b = two(redis_server, namespace, jitter=0.0)
    with a, b:
        listening = b.scope("api")  # a member that only succeeds: no failure, no round trip of its own
        assert b._shared is not None and b._shared.listening.wait(5.0)  # its listener is subscribed
        a.scope("api").failed(wait=30.0)
        deadline = time.monotonic() + 5.0
        while listening.closed_for == 0.0 and time.monotonic() < deadline:
            time.sleep(0.001)  # a real thread in this process receives it from a real Redis
        assert 29.0 < listening.closed_for <= 30.01
        assert b.scope("other").closed_for == 0.0


def test_a_published_message_that_is_not_a_cooldown_is_ignored(redis_server: RedisServer, namespace: str) -> None:
    with Fleet.redis(redis_server.url, namespace=namespace) as fleet:
        scope = fleet.scope("api")
        shared = fleet._shared
        assert shared is not None
        for junk in (b"", b"nonsense", b"x y z", f"{scope._key[0]} -5".encode(), f"{scope._key[0]} nan".encode(), 42):  # type: ignore[index]
            shared.heard(junk)
        assert scope.closed_for == 0.0
        shared.heard(f"{scope._key[0]} 3.5".encode())  # type: ignore[index]
        assert 3.0 < scope.closed_for <= 3.51


def test_a_worker_forked_after_the_fleet_was_made_listens_too(
    redis_server: RedisServer, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import retrykit._fleet_redis

    with Fleet.redis(redis_server.url, namespace=namespace, jitter=0.0) as fleet:
        scope = fleet.scope("api")
        shared = fleet._shared
        assert shared is not None and shared.listening.wait(5.0)
        before = {t for t in threading.enumerate() if t.name == "retrykit-fleet"}
        # A fork copies the fleet but not its thread: the copy sees another process id.
        monkeypatch.setattr(retrykit._fleet_redis, "_getpid", lambda: -1)
        scope.failed()  # the worker's first round trip starts its own listener
        assert {t for t in threading.enumerate() if t.name == "retrykit-fleet"} - before
        assert shared.listening.wait(5.0)
        Fleet.redis(redis_server.url, namespace=namespace).scope("api").failed(wait=8.0)
        deadline = time.monotonic() + 5.0
        while scope.closed_for == 0.0 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert 7.0 < scope.closed_for <= 8.01
