"""The retry-storm models: many clients, one server, virtual time, driving the library's real strategies.

Deterministic, seeded, discrete-event models (their tables and charts are in ``_sim_report``):

* ``fleet``: N clients each make a series of calls through a real :class:`RetryPolicy`
  engine (backoff strategy, Retry-After, and optionally a per-client
  :class:`RetryBudget`) against a server of limited capacity that answers 429 when
  overloaded and 503 during an outage.
* ``occ``: the AWS "Exponential Backoff and Jitter" (2015) set-up: N clients each
  make one optimistic-concurrency write to one shared row, ~10 ms per network hop,
  base 5 ms, cap 2 s, all starting at once.
* ``budget_refusals``: what a :class:`RetryBudget` refuses under independent failures.
"""

from __future__ import annotations

import heapq
import random

from ._backoff import Backoff, DecorrelatedJitter, EqualJitter, FullJitter
from ._budget import RetryBudget
from ._engine import RetryState, Stop
from ._policy import RetryPolicy
from .errors import APIError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._backoff import BackoffStrategy


def strategies(base: float, cap: float) -> dict[str, BackoffStrategy]:
    """The compared strategies at one scale; the spec's additive jitter equals its base."""
    return {
        "no jitter": Backoff(base=base, cap=cap, jitter=0.0),
        "spec (+uniform[0, base))": Backoff(base=base, cap=cap, jitter=base),
        "full jitter": FullJitter(base=base, cap=cap),
        "equal jitter": EqualJitter(base=base, cap=cap),
        "decorrelated": DecorrelatedJitter(base=base, cap=cap),
    }


# -- model 1: a fleet against a server of limited capacity ---------------------------------------


class FleetScenario:
    """What the server does: capacity per second, an outage window, and its 429s."""

    def __init__(
        self,
        name: str,
        *,
        clients: int = 100,
        calls: int = 60,
        think: float = 1.0,
        capacity: int = 1000,
        outage: tuple[float, float] | None = None,
        retry_after: int | None = None,
        failure_rate: float = 0.0,
    ) -> None:
        self.name = name
        self.clients = clients
        self.calls = calls
        self.think = think
        self.capacity = capacity
        self.outage = outage
        self.retry_after = retry_after
        self.failure_rate = failure_rate


SCENARIOS = {
    "outage": FleetScenario("outage", outage=(10.0, 40.0)),
    "full outage": FleetScenario("full outage", calls=50, outage=(0.0, 1e9)),
    "overload 429": FleetScenario("overload 429", capacity=80),
    "overload 429 + Retry-After": FleetScenario("overload 429 + Retry-After", capacity=80, retry_after=2),
    "5% random failures": FleetScenario("5% random failures", failure_rate=0.05),
}


class FleetResult:
    """Totals of one fleet run; ``load`` is requests per second of virtual time."""

    def __init__(self) -> None:
        self.attempts = 0
        self.successes = 0
        self.failures = 0
        self.finish = 0.0
        self.budget_refusals = 0
        self.load: dict[int, int] = {}

    @property
    def calls(self) -> int:
        return self.successes + self.failures

    @property
    def peak(self) -> int:
        return max(self.load.values(), default=0)


def run_fleet(
    scenario: FleetScenario,
    backoff: BackoffStrategy,
    *,
    budget: str | None,
    retries: bool = True,
    seed: int = 1,
    max_tokens: float = 20,
) -> FleetResult:
    """Simulate ``scenario`` with every client retrying by ``backoff``.

    ``budget``: None for no budget; ``"client"`` for a default ``RetryBudget`` per
    client (separate processes); ``"shared"`` for one default budget shared by the
    whole fleet (many callers in one process, the adapters' ``HostBudgets``), with
    ``max_tokens`` tokens each.
    """
    if budget not in (None, "client", "shared"):
        raise ValueError(f"budget must be None, 'client' or 'shared', got {budget!r}")
    rng = random.Random(seed)
    result = FleetResult()
    shared = RetryBudget(max_tokens)
    policies = [
        RetryPolicy(
            max_retries=5 if retries else 0,
            backoff=backoff,
            budget=None if budget is None else shared if budget == "shared" else RetryBudget(max_tokens),
            rng=random.Random(rng.random()),
            max_retry_after=None,
            log=False,
        )
        for _ in range(scenario.clients)
    ]
    # (time, seq, client, calls left, per-call engine state or None for a new call)
    queue: list[tuple[float, int, int, int, RetryState | None]] = []
    seq = 0
    for client in range(scenario.clients):
        heapq.heappush(queue, (rng.random() * scenario.think, seq, client, scenario.calls, None))
        seq += 1
    while queue:
        now, _, client, left, state = heapq.heappop(queue)
        policy = policies[client]
        if state is None:
            state = RetryState(policy, now, now)
        second = int(now)
        load = result.load.get(second, 0) + 1
        result.load[second] = load
        result.attempts += 1
        outage = scenario.outage is not None and scenario.outage[0] <= now < scenario.outage[1]
        if outage:
            status = 503
        elif load > scenario.capacity:
            status = 429
        elif scenario.failure_rate and rng.random() < scenario.failure_rate:
            status = 500
        else:
            status = 200
        if status == 200:
            result.successes += 1
            if policy.budget is not None:
                policy.budget.record_success()
            next_state: RetryState | None = None
            wake = now + scenario.think
            left -= 1
        else:
            retry_after = scenario.retry_after if status == 429 else None
            error = APIError("simulated", status=status, retry_after=retry_after)
            outcome = state.decide(error, now)
            if policy.budget is not None:
                outcome = state.charge(policy.budget)
            if not isinstance(outcome, Stop):
                next_state, wake = state, now + outcome
            else:
                if outcome is Stop.BUDGET:
                    result.budget_refusals += 1
                result.failures += 1
                next_state, wake = None, now + scenario.think
                left -= 1
        result.finish = max(result.finish, now)
        if left > 0:
            heapq.heappush(queue, (wake, seq, client, left, next_state))
            seq += 1
    return result


# -- model 2: the AWS optimistic-concurrency study ---------------------------------------------------


def run_occ(clients: int, backoff: BackoffStrategy | None, *, seed: int = 1, hop: float = 10.0) -> tuple[int, float]:
    """One OCC race: (writes attempted, ms until the last client succeeded). ``backoff=None``: no waiting."""
    rng = random.Random(seed)
    version = 0
    writes = 0
    finish = 0.0
    # Events: (time, seq, client, kind, payload); kind 0 = read arrives, 1 = write arrives, 2 = write reply.
    queue: list[tuple[float, int, int, int, int]] = []
    attempts = [0] * clients
    previous: list[float | None] = [None] * clients
    seq = 0

    def delay() -> float:
        return abs(rng.normalvariate(hop, hop / 5))

    for client in range(clients):
        queue.append((delay(), seq, client, 0, 0))
        seq += 1
    heapq.heapify(queue)
    while queue:
        now, _, client, kind, payload = heapq.heappop(queue)
        if kind == 0:  # read: the reply carries the version, the client writes at once
            heapq.heappush(queue, (now + delay() + delay(), seq, client, 1, version))
        elif kind == 1:  # conditional write at the server
            writes += 1
            ok = payload == version
            if ok:
                version += 1
            heapq.heappush(queue, (now + delay(), seq, client, 2, int(ok)))
        elif payload:  # write succeeded: this client is done
            finish = max(finish, now)
        else:  # conflict: back off, then read again. The study's first backoff is 2 * base.
            attempts[client] += 1
            wait = 0.0 if backoff is None else backoff.delay(attempts[client], rng, previous[client])
            previous[client] = wait
            heapq.heappush(queue, (now + wait + delay(), seq, client, 0, 0))
        seq += 1
    return writes, finish


def occ_table(client_counts: list[int], runs: int = 20, seed: int = 1) -> dict[str, dict[int, tuple[float, float]]]:
    """Mean (writes, ms) per strategy and client count, over ``runs`` seeded races."""
    table: dict[str, dict[int, tuple[float, float]]] = {}
    named: dict[str, BackoffStrategy | None] = {"no backoff": None, **strategies(5.0, 2000.0)}
    for name, backoff in named.items():
        table[name] = {}
        for n in client_counts:
            total_writes = 0.0
            total_ms = 0.0
            for run in range(runs):
                writes, ms = run_occ(n, backoff, seed=seed * 1000 + run)
                total_writes += writes
                total_ms += ms
            table[name][n] = (total_writes / runs, total_ms / runs)
    return table


# -- model 3: what the default budget refuses under random failures ---------------------------------


def budget_refusals(failure_rate: float, attempts: int = 200_000, seed: int = 1, max_tokens: float = 20) -> float:
    """Share of failures whose retry a ``RetryBudget(max_tokens)`` refuses, with independent failures.

    Drives the real budget with a seeded stream of attempt outcomes: each fails
    with probability ``failure_rate`` (taking a token and asking for a retry) or
    succeeds (giving back ``token_ratio``). Retries are attempts like any other,
    so under independent failures the stream does not depend on which were retries.
    """
    rng = random.Random(seed)
    budget = RetryBudget(max_tokens)
    failures = refused = 0
    for _ in range(attempts):
        if rng.random() < failure_rate:
            failures += 1
            if not budget.record_failure():
                refused += 1
        else:
            budget.record_success()
    return refused / failures if failures else 0.0
