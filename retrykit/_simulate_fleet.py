"""The coordination model: many clients against one rate limit, with and without a Fleet, in virtual time.

Clients in groups ("processes") make calls back to back against a server whose capacity
is a token bucket (``capacity`` per second, ``burst`` deep) and which answers 429 with a
whole-second ``Retry-After`` when over, as ``benchmarks/bench_fleet.py``'s server does.
Each client retries through the real engine (``RetryState``) and, with a fleet, through
real :class:`Scope` objects, whose clock is the simulation's: the in-process fleet is one
scope per process; the Redis fleet is one scope for everyone (a cooldown reaches every
member when it is closed, as the fleet's listener delivers it); pacing adds a rate.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics

from . import _runtime
from ._engine import RetryState, Stop
from ._fleet import Fleet
from ._policy import RetryPolicy
from ._scope import Scope
from .errors import APIError

CONFIGS = ("no fleet", "in-process fleet per process", "Redis fleet: cooldown", "Redis fleet: cooldown + pacing")


class _Clock:
    """The simulation's time, standing in for ``testing.instant()`` so the scopes read it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.attempts: int | None = None  # no cap: the policy's own limits hold

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now

    def sleep(self, delay: float) -> None:
        raise RuntimeError("the simulation never sleeps")

    async def async_sleep(self, delay: float) -> None:
        raise RuntimeError("the simulation never sleeps")


class CoordinationResult:
    """Totals of one run: requests the server saw, its 429s, when the last call ended, each call's latency."""

    def __init__(self, capacity: float, burst: int) -> None:
        self.capacity, self.burst = capacity, burst
        self.requests = self.limited = self.failed = 0
        self.finish = 0.0
        self.latencies: list[float] = []

    @property
    def served(self) -> int:
        return self.requests - self.limited

    @property
    def capacity_used(self) -> float:
        return self.served / (self.burst + self.capacity * self.finish)

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[p - 1] if len(self.latencies) > 1 else 0.0


def run_coordination(
    config: str,
    *,
    clients: int = 1000,
    per_process: int = 8,
    calls: int = 20,
    capacity: float = 1000.0,
    burst: int = 100,
    hop: float = 0.002,
    seed: int = 1,
) -> CoordinationResult:
    """Simulate ``config`` (one of :data:`CONFIGS`); deterministic for a seed."""
    if config not in CONFIGS:
        raise ValueError(f"config must be one of {CONFIGS}, got {config!r}")
    rng = random.Random(seed)
    result = CoordinationResult(capacity, burst)
    clock = _Clock()
    policy = RetryPolicy(max_retries=20, log=False, rng=random.Random(rng.random()))
    scopes: list[Scope | None]
    if config == CONFIGS[0]:
        scopes = [None] * clients
    elif config == CONFIGS[1]:
        fleets = [Fleet(max_tokens=None, rng=random.Random(rng.random())) for _ in range(math.ceil(clients / per_process))]
        scopes = [fleets[c // per_process].scope("api") for c in range(clients)]
    else:
        rate = 0.97 * capacity if config == CONFIGS[3] else None
        shared = Fleet(max_tokens=None, rate=rate, burst=1, rng=random.Random(rng.random())).scope("api")
        scopes = [shared] * clients
    tokens, last = float(burst), 0.0
    # (time, seq, client, calls left, call start, engine state or None, kind: 0 ready, 1 arrives at the server)
    queue: list[tuple[float, int, int, int, float, RetryState | None, int]] = []
    for client in range(clients):
        queue.append((rng.random() * hop, client, client, calls, 0.0, None, 0))
    heapq.heapify(queue)
    seq = clients
    previous, _runtime.override = _runtime.override, clock
    try:
        while queue:
            now, _, client, left, started, state, kind = heapq.heappop(queue)
            clock.now = now
            scope = scopes[client]
            if kind == 0:  # ready to send: wait the fleet's turn, then the request travels
                if state is None:
                    started = now
                wait, again = scope.turn() if scope is not None else (0.0, False)
                # After a cooldown wait the client asks again; after a pace wait it sends in its slot.
                heapq.heappush(queue, (now + wait + (0.0 if again else hop / 2), seq, client, left, started, state, 0 if again else 1))
                seq += 1
                continue
            result.requests += 1
            tokens = min(float(burst), tokens + (now - last) * capacity)
            last = now
            answered = now + hop / 2
            if tokens >= 1.0:
                tokens -= 1.0
                clock.now = answered
                if scope is not None:
                    scope.succeeded()
                result.latencies.append(answered - started)
                left -= 1
                state = None
            else:
                result.limited += 1
                clock.now = answered
                if state is None:
                    state = RetryState(policy, started, started)
                error = APIError("rate limited", status=429, retry_after=math.ceil((1.0 - tokens) / capacity))
                delay = state.decide(error, answered)
                if scope is not None:
                    scope.failed(state.asked, state.retryable)
                if delay.__class__ is Stop:
                    result.failed += 1
                    result.latencies.append(answered - started)
                    left -= 1
                    state = None
                else:
                    answered += delay  # type: ignore[operator]
            result.finish = max(result.finish, clock.now)
            if left > 0:
                heapq.heappush(queue, (answered, seq, client, left, started, state, 0))
                seq += 1
    finally:
        _runtime.override = previous
    return result
