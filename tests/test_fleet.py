"""The in-process Fleet: cooldown, pacing and budget per key, bounded keys, and HostBudgets as one of its uses."""

from __future__ import annotations

import asyncio
import random
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit import Fleet, HostBudgets, RetryBudget
from retrykit._fleet import host_key
from retrykit.testing import instant


def test_a_server_wait_closes_the_key_for_every_caller_in_the_process() -> None:
    fleet = Fleet(jitter=0.0)
    with instant():
        assert fleet.scope("api").failed(wait=20.0)
        waits: list[float] = []
        threads = [threading.Thread(target=lambda: waits.append(fleet.scope("api").before_send())) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert waits == [pytest.approx(20.0)] * 4
        assert fleet.scope("other").before_send() == 0.0  # keys are independent


def test_the_member_that_got_the_answer_does_not_wait_twice() -> None:
    fleet = Fleet(jitter=1.0)
    scope = fleet.scope("api")
    with instant() as clock:
        scope.failed(wait=20.0)
        clock.sleep(20.3)  # its own retry delay: the server's wait plus its jitter
        assert scope.before_send() == 0.0
        assert scope.closed_for == 0.0


def test_a_later_wait_extends_the_cooldown_and_an_earlier_one_does_not_shorten_it() -> None:
    scope = Fleet(jitter=0.0).scope("api")
    with instant():
        scope.failed(wait=5.0)
        scope.failed(wait=2.0)
        assert scope.before_send() == pytest.approx(5.0)
        scope.failed(wait=9.0)
        assert scope.before_send() == pytest.approx(9.0)


@given(left=st.floats(0.001, 100.0), jitter=st.floats(0.0, 10.0), seed=st.integers(0, 2**32))
def test_waiters_are_spread_over_at_most_the_jitter_and_never_more_than_the_cooldown(
    left: float, jitter: float, seed: int
) -> None:
    scope = Fleet(jitter=jitter, rng=random.Random(seed)).scope("api")
    with instant():
        scope.failed(wait=left)
        wait = scope.before_send()
    assert left - 1e-6 <= wait <= left + min(jitter, left) + 1e-6


def test_pacing_lets_a_burst_through_then_spaces_sends_by_the_rate() -> None:
    scope = Fleet(rate=10, burst=2).scope("api")
    with instant():
        assert [round(scope.before_send(), 6) for _ in range(5)] == [0.0, 0.0, 0.1, 0.2, 0.3]


def test_a_scope_can_pace_differently_from_its_fleet() -> None:
    fleet = Fleet(rate=100)
    slow = fleet.scope("slow", rate=1)
    with instant():
        assert [slow.before_send() for _ in range(2)] == [0.0, pytest.approx(1.0)]
        assert fleet.scope("slow") is slow
        assert fleet.scope("fast").rate == 100


def test_without_pacing_and_cooldown_sending_waits_for_nothing() -> None:
    scope = Fleet().scope("api")
    assert [scope.before_send() for _ in range(100)] == [0.0] * 100


def test_each_key_has_its_own_budget_and_only_retryable_failures_charge_it() -> None:
    fleet = Fleet(max_tokens=4)
    a = fleet.scope("a")
    assert [a.failed() for _ in range(3)] == [True, False, False]
    assert a.failed(retryable=False)  # a 401 is not the server struggling
    assert a.budget is not None and a.budget.tokens == 1
    assert fleet.scope("b").failed()
    for _ in range(20):
        a.succeeded()
    assert a.budget.tokens == pytest.approx(3)


def test_a_scope_is_a_retry_budget_for_whoever_takes_one() -> None:
    scope = Fleet(max_tokens=4).scope("a")
    assert [scope.record_failure() for _ in range(3)] == [True, False, False]
    scope.record_success()
    assert scope.budget is not None and scope.budget.tokens == pytest.approx(1.1)


def test_no_budget_always_allows() -> None:
    scope = Fleet(max_tokens=None).scope("a")
    assert scope.budget is None
    assert all(scope.failed() for _ in range(100))


def test_async_steps_match_the_sync_ones() -> None:
    fleet = Fleet(rate=10, burst=1, jitter=0.0, max_tokens=4)

    async def main() -> tuple[float, float, bool, bool]:
        scope = fleet.scope("api")
        first = await scope.abefore_send()
        second = await scope.abefore_send()
        return first, second, await scope.afailed(), await scope.afailed()

    with instant():
        assert asyncio.run(main()) == (0.0, pytest.approx(0.1), True, False)


def test_keys_are_bounded_least_recently_used_first() -> None:
    fleet = Fleet(max_keys=3)
    a = fleet.scope("a")
    fleet.scope("b")
    fleet.scope("c")
    assert fleet.scope("a") is a  # used again: now the most recent
    fleet.scope("d")
    assert list(fleet._scopes) == ["c", "a", "d"]
    assert fleet.scope("a") is a


def test_host_budgets_are_bounded_and_keep_the_hosts_in_use() -> None:
    budgets = HostBudgets(max_tokens=4)
    busy = budgets.for_host("busy:443")
    busy.record_failure()
    for n in range(2000):
        budgets.for_host(f"h{n}:443")
        if n % 500 == 0:
            assert budgets.for_host("busy:443") is busy
    assert len(budgets.fleet._scopes) == 1024
    assert budgets.for_host("h0:443").tokens == 4  # evicted, so created afresh
    assert isinstance(busy, RetryBudget)


def test_host_keys_fill_in_the_scheme_port() -> None:
    assert host_key("https://API.example.com/v1?key=secret") == "api.example.com:443"
    assert host_key("http://example.com:8080/x") == "example.com:8080"
    assert host_key("Example.com:80") == "example.com:80"


def test_one_fleet_gives_one_scope_per_host() -> None:
    fleet = Fleet()
    assert fleet.host("https://a.example/x") is fleet.host("https://a.example:443/y")
    assert fleet.host("https://a.example/x") is not fleet.host("http://a.example/x")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"token_ratio": -1}, "token_ratio"),
        ({"rate": 0}, "rate"),
        ({"rate": "fast"}, "rate"),
        ({"burst": 0}, "burst"),
        ({"jitter": -1}, "jitter"),
        ({"max_keys": 0}, "max_keys"),
    ],
)
def test_bad_settings_name_the_parameter(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises((TypeError, ValueError), match=name):
        Fleet(**kwargs)  # type: ignore[arg-type]


def test_a_scope_name_must_be_text() -> None:
    with pytest.raises(TypeError, match="name"):
        Fleet().scope(42)  # type: ignore[arg-type]


def test_without_pacing_a_cooldown_wait_is_the_whole_turn_and_with_pacing_a_slot_follows() -> None:
    plain = Fleet(jitter=0.0).scope("api")
    paced = Fleet(jitter=0.0, rate=10).scope("api")
    with instant() as clock:
        plain.failed(wait=2.0)
        paced.failed(wait=2.0)
        assert plain.turn() == (pytest.approx(2.0), False)
        assert paced.turn() == (pytest.approx(2.0), True)  # no slot taken while closed
        paced.wait_turn(clock.sleep)
        assert clock.delays == [pytest.approx(2.0)]  # then its slot, free at once
        assert paced.turn() == (pytest.approx(0.1), False)


def test_a_policy_holding_a_fleet_scope_refuses_pickling_with_a_clear_error() -> None:
    import pickle

    from retrykit import RetryPolicy

    with pytest.raises(TypeError, match=r"make the Fleet in each process"):
        pickle.dumps(RetryPolicy(fleet=Fleet().scope("api")))


class _AlwaysClosed:
    """A shared store that says the key is closed for 5 s more every time it is asked."""

    def keys(self, name: str) -> list[str]:
        return ["cooldown", "pace", "budget"]

    def watch(self, key: str, scope: object) -> None:
        pass

    def run(self, keys: list[str] | None, args: tuple[object, ...]) -> tuple[float, float, bool]:
        return (0.0, 5.0, True)

    async def arun(self, keys: list[str] | None, args: tuple[object, ...]) -> tuple[float, float, bool]:
        return self.run(keys, args)

    def close(self) -> None:
        pass


def test_a_store_that_never_reopens_cannot_hold_a_caller_forever() -> None:
    from retrykit._scope import MAX_ASKS, Scope

    scope = Scope("api", 10.0, 1, budget=None, jitter=0.0, rng=random.Random(1), shared=_AlwaysClosed())
    with instant() as clock:
        scope.wait_turn(clock.sleep)
        assert len(clock.delays) == MAX_ASKS

        async def main() -> None:
            await scope.await_turn(clock.async_sleep)

        asyncio.run(main())
        assert len(clock.delays) == 2 * MAX_ASKS
