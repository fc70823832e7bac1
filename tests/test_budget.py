from __future__ import annotations

import pickle
import threading

import pytest

from retrykit import Backoff, HostBudgets, RetryBudget, RetryPolicy
from retrykit._simulate import SCENARIOS, FleetScenario, budget_refusals, run_fleet, run_occ, strategies
from retrykit._target import host_of
from retrykit.testing import instant

from .helpers import Flaky, HTTPFailure


def test_bucket_starts_full_and_allows_retries_above_half() -> None:
    budget = RetryBudget(max_tokens=10, token_ratio=0.1)
    assert budget.tokens == 10
    assert [budget.record_failure() for _ in range(6)] == [True, True, True, True, False, False]
    assert budget.tokens == 4


def test_successes_refill_by_the_ratio_up_to_the_cap() -> None:
    budget = RetryBudget(max_tokens=10, token_ratio=0.5)
    for _ in range(5):
        budget.record_failure()
    for _ in range(4):
        budget.record_success()
    assert budget.tokens == pytest.approx(7.0)
    for _ in range(100):
        budget.record_success()
    assert budget.tokens == 10


def test_tokens_never_go_below_zero() -> None:
    budget = RetryBudget(max_tokens=2)
    for _ in range(10):
        budget.record_failure()
    assert budget.tokens == 0


def test_no_lost_updates_under_contention() -> None:
    budget = RetryBudget(max_tokens=100_000, token_ratio=1.0)
    allowed = []

    def hammer() -> None:
        allowed.append(sum(budget.record_failure() for _ in range(2000)))

    threads = [threading.Thread(target=hammer) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert budget.tokens == 100_000 - 16 * 2000
    # Exactly the failures that found more than half the bucket were allowed: atomic take-and-decide.
    assert sum(allowed) == 16 * 2000


def test_the_threshold_is_atomic_under_contention() -> None:
    budget = RetryBudget(max_tokens=1000)
    results: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        local = [budget.record_failure() for _ in range(200)]
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 499  # tokens 999 ... 501 are above 500


def test_policy_gives_up_at_once_when_the_budget_refuses() -> None:
    budget = RetryBudget(max_tokens=4)
    policy = RetryPolicy(backoff=Backoff(jitter=0), budget=budget)
    fn = Flaky(*[HTTPFailure(503) for _ in range(10)])
    with instant() as clock, pytest.raises(HTTPFailure) as info:
        policy.call(fn)
    assert fn.calls == 2  # 4 -> 3 tokens: retry; 3 -> 2: not above 2
    assert clock.delays == [1.0]
    assert "retry budget is exhausted" in info.value.__notes__[0]


def test_fatal_errors_are_neither_failure_nor_success() -> None:
    budget = RetryBudget()
    with pytest.raises(HTTPFailure):
        RetryPolicy(budget=budget).call(Flaky(HTTPFailure(401)))
    assert budget.tokens == budget.max_tokens


def test_successes_through_every_face_refill_the_budget() -> None:
    budget = RetryBudget(max_tokens=10, token_ratio=1.0)
    for _ in range(3):
        budget.record_failure()
    policy = RetryPolicy(budget=budget)
    policy.call(lambda: 1)
    policy(lambda: 1)()
    for attempt in policy.attempts():
        with attempt:
            pass
    assert budget.tokens == 10


def test_one_budget_shared_by_policies() -> None:
    budget = RetryBudget(max_tokens=4)
    a = RetryPolicy(backoff=Backoff(jitter=0), budget=budget)
    b = a.replace(max_retries=2)
    with instant():
        with pytest.raises(HTTPFailure):
            a.call(Flaky(*[HTTPFailure(503)] * 10))
        with pytest.raises(HTTPFailure) as info:
            b.call(Flaky(HTTPFailure(503), result="ok"))
    assert "budget" in info.value.__notes__[0]


def test_fleet_simulation_is_deterministic_and_adds_up() -> None:
    scenario = FleetScenario("small", clients=20, calls=10, outage=(3.0, 8.0))
    backoff = strategies(1.0, 30.0)["full jitter"]
    one = run_fleet(scenario, backoff, budget="client", seed=7)
    two = run_fleet(scenario, backoff, budget="client", seed=7)
    assert (one.attempts, one.failures, one.finish, one.load) == (two.attempts, two.failures, two.finish, two.load)
    assert one.calls == one.successes + one.failures == 20 * 10
    assert sum(one.load.values()) == one.attempts


def test_a_budget_caps_a_fleet_in_a_full_outage() -> None:
    scenario = SCENARIOS["full outage"]
    base = run_fleet(scenario, Backoff(), budget=None, retries=False)
    for backoff in strategies(1.0, 30.0).values():
        without = run_fleet(scenario, backoff, budget=None)
        assert without.attempts == 6 * base.attempts
        for scope in ("client", "shared"):
            assert run_fleet(scenario, backoff, budget=scope).attempts <= 1.2 * base.attempts


@pytest.mark.parametrize("scope", ["client", "shared"])
def test_at_5_percent_failures_the_budget_refuses_almost_no_retries(scope: str) -> None:
    # gRFC A6's defaults drift upwards at 5 % (0.95 * 0.1 > 0.05 tokens per attempt), but a
    # random streak of failures can still dip below half the bucket now and then.
    scenario = SCENARIOS["5% random failures"]
    refused = retried = 0
    for seed in (1, 2, 3):
        for backoff in strategies(1.0, 30.0).values():
            result = run_fleet(scenario, backoff, budget=scope, seed=seed)
            refused += result.budget_refusals
            retried += result.attempts - result.calls
            assert result.budget_refusals <= 0.03 * (result.attempts - result.calls)
    assert refused <= 0.01 * (refused + retried)


def test_a_bucket_of_10_only_throttles_above_a_few_percent_failures() -> None:
    # Driving the real bucket with independent failures: none refused at 3 %, about 1 % at 5 %
    # (the knee of gRPC's example bucket), and most at 10 %, where failures outpace the refill.
    shares = [budget_refusals(rate, attempts=50_000, max_tokens=10) for rate in (0.01, 0.03, 0.05, 0.08, 0.10)]
    assert shares[:2] == [0.0, 0.0]
    assert 0.0 < shares[2] < 0.03
    assert shares == sorted(shares) and shares[-1] > 0.5
    assert budget_refusals(0.05, attempts=50_000, seed=7) == budget_refusals(0.05, attempts=50_000, seed=7)


def test_the_default_bucket_holds_20_tokens() -> None:
    budget = RetryBudget()
    assert (budget.max_tokens, budget.token_ratio) == (20, 0.1)
    # The first failing call keeps all five retries (a bucket of 10 would allow four).
    assert [budget.record_failure() for _ in range(10)] == [True] * 9 + [False]
    assert budget_refusals(0.05, attempts=100_000) == 0.0


def test_a_budget_pickles_with_its_tokens_and_a_new_lock() -> None:
    budget = RetryBudget(max_tokens=8)
    budget.record_failure()
    copy = pickle.loads(pickle.dumps(budget))
    assert (copy.max_tokens, copy.token_ratio, copy.tokens) == (8, 0.1, 7)
    assert [copy.record_failure() for _ in range(4)] == [True, True, False, False]
    assert budget.tokens == 7  # a copy: the original is untouched


def test_a_policy_holding_a_budget_pickles() -> None:
    policy = RetryPolicy(max_retries=3, budget=RetryBudget(max_tokens=6))
    copy = pickle.loads(pickle.dumps(policy))
    assert copy.max_retries == 3
    assert copy.budget is not None and copy.budget.max_tokens == 6


def test_a_bucket_of_20_allows_every_retry_at_5_percent_and_still_caps_an_outage() -> None:
    # The README's advice for dependencies that normally fail around 5 %.
    assert budget_refusals(0.05, attempts=100_000, max_tokens=20) == 0.0
    backoff = Backoff()
    baseline = run_fleet(SCENARIOS["full outage"], backoff, budget=None, retries=False)
    capped = run_fleet(SCENARIOS["full outage"], backoff, budget="client", max_tokens=20)
    assert capped.attempts <= 1.2 * baseline.attempts
    for seed in (1, 2, 3):
        assert run_fleet(SCENARIOS["5% random failures"], backoff, budget="client", seed=seed, max_tokens=20).budget_refusals == 0


def test_simulation_rejects_an_unknown_budget_scope() -> None:
    with pytest.raises(ValueError, match="budget"):
        run_fleet(SCENARIOS["outage"], Backoff(), budget="everywhere")


def test_occ_model_shows_the_aws_shape() -> None:
    def mean_writes(name: str | None) -> float:
        backoff = None if name is None else strategies(5.0, 2000.0)[name]
        return sum(run_occ(100, backoff, seed=s)[0] for s in range(5)) / 5

    no_jitter, full, decorrelated = mean_writes("no jitter"), mean_writes("full jitter"), mean_writes("decorrelated")
    assert full < decorrelated < no_jitter
    assert no_jitter > 2 * full


def test_host_budgets_give_one_budget_per_host() -> None:
    budgets = HostBudgets(max_tokens=4)
    a = budgets.for_host("API.example.com:443")
    assert budgets.for_host("api.example.com:443") is a
    assert budgets.for_host("other.example.com:443") is not a
    assert a.max_tokens == 4


def test_host_budgets_are_created_once_under_contention() -> None:
    budgets = HostBudgets()
    seen: list[RetryBudget] = []
    barrier = threading.Barrier(12)

    def grab() -> None:
        barrier.wait()
        seen.append(budgets.for_host("h:80"))

    threads = [threading.Thread(target=grab) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(b) for b in seen}) == 1


@pytest.mark.parametrize(("kwargs", "name"), [({"max_tokens": -1}, "max_tokens"), ({"token_ratio": 0}, "token_ratio")])
def test_bad_host_budgets_name_the_parameter(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        HostBudgets(**kwargs)


@pytest.mark.parametrize(
    ("url", "host"),
    [("http://a.example/x", "a.example:80"), ("https://A.example/x?k=1", "a.example:443"), ("http://127.0.0.1:8080/", "127.0.0.1:8080")],
)
def test_host_of_fills_in_default_ports(url: str, host: str) -> None:
    assert host_of(url) == host
