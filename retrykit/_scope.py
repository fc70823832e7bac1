"""Scope: one key's shared state as this process sees it (cooldown, pace, budget), and the steps the loops take."""

from __future__ import annotations

import _thread
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from . import _runtime
from ._backoff import Rng
from ._budget import RetryBudget
from ._quota import learned_rate

# The script's answer: (pace wait, cooldown remaining, budget allows), or None while the store is away.
Answer = tuple[float, float, bool] | None


class Shared(Protocol):
    """Where a fleet's state is shared beyond this process (``_fleet_redis.RedisShared``): what a scope needs of it."""

    def keys(self, name: str) -> list[str]: ...
    def watch(self, key: str, scope: Any) -> None: ...
    def run(self, keys: list[str] | None, args: tuple[object, ...]) -> Answer: ...
    async def arun(self, keys: list[str] | None, args: tuple[object, ...]) -> Answer: ...
    def close(self) -> None: ...


# A paced caller asks again after each cooldown wait; past this many asks it sends anyway. Real
# time never gets here (each ask waits out a whole server wait); a clock that does not move for the
# store (testing.instant() against a real Redis) would otherwise ask forever.
MAX_ASKS = 16


def _now() -> float:
    """The fleet's clock: monotonic, or ``testing.instant()``'s virtual one, so cooldowns pass in virtual time."""
    override = _runtime.override
    return override.clock() if override is not None else time.monotonic()


class Scope:
    """One key's shared state, as this process sees it: what the retry loops ask before and after each attempt.

    * :meth:`wait_turn` (:meth:`await_turn`), built on :meth:`turn`: wait before
      sending: the rest of a cooldown (spread by the fleet's jitter) and, with
      pacing, this send's slot. :meth:`before_send` is one look at that wait.
    * :meth:`failed` (:meth:`afailed`): a failed attempt; ``wait`` is the server's
      requested wait, which closes the key for every member until then. Returns
      whether the retry budget allows a retry.
    * :meth:`succeeded`: a success, credited to the budget.

    ``record_failure``/``record_success`` make a scope usable wherever a
    :class:`RetryBudget` is. A member of a Redis fleet hears of another's cooldown
    as it is closed (the fleet's listener), and reads it with every round trip of
    its own (a failure, a paced send); the success path makes none.
    """

    __slots__ = ("name", "rate", "burst", "budget", "jitter", "learns", "_configured", "_shared", "_rng", "_key", "_reopen", "_tat", "_credit", "_lock", "__weakref__")

    def __init__(
        self,
        name: str,
        rate: float | None,
        burst: int,
        *,
        budget: RetryBudget | None,
        jitter: float,
        rng: Rng,
        shared: Shared | None = None,
        learns: bool = False,
    ) -> None:
        self.name: str = name
        self.rate: float | None = rate
        self.burst: int = burst
        # The in-process budget: the whole budget without Redis, the fallback while Redis is away.
        self.budget: RetryBudget | None = budget
        self.jitter: float = jitter
        # Whether responses' quota headers set the pace (learn()); the configured rate stays a ceiling.
        self.learns: bool = learns
        self._configured = rate
        self._rng = rng
        self._shared = shared
        self._key = None if shared is None else shared.keys(name)
        if shared is not None and self._key is not None:
            shared.watch(self._key[0], self)
        self._reopen = 0.0  # the fleet clock's instant this key reopens (this process's copy)
        self._tat = 0.0  # the in-process GCRA's theoretical arrival time
        self._credit = 0.0  # budget credit earned here, not yet written to Redis
        self._lock = _thread.allocate_lock()  # threading's lock, without importing threading

    # -- the steps, sync and async: they ask the store (if at all); the arithmetic is shared below --

    def turn(self) -> tuple[float, bool]:
        """(seconds to wait, whether to ask again after waiting) before sending now.

        Without pacing, a cooldown wait is the whole turn: the caller sends after it
        (spread by the jitter). With pacing, a closed key gives no slot: the caller
        waits the cooldown and asks again for one; a pace wait is a reserved slot,
        sent after it. No I/O unless pacing, then one Redis round trip, which also
        brings any cooldown.
        """
        now = _now()
        turn = self._local_turn(now)
        if turn is None:  # paced through the store
            turn = self._paced(now, self._ask(("pace", self.rate, self.burst)))
        return turn

    async def aturn(self) -> tuple[float, bool]:
        """:meth:`turn` for async callers (the asyncio client when the fleet has one)."""
        now = _now()
        turn = self._local_turn(now)
        if turn is None:
            turn = self._paced(now, await self._aask(("pace", self.rate, self.burst)))
        return turn

    def before_send(self) -> float:
        """Seconds to wait before sending now (0.0: at once): :meth:`turn`'s first half, for one look."""
        return self.turn()[0]

    async def abefore_send(self) -> float:
        """:meth:`before_send` for async callers."""
        return (await self.aturn())[0]

    def wait_turn(self, sleep: Callable[[float], object]) -> None:
        """Sleep (with ``sleep``) until it is this caller's turn to send."""
        for _ in range(MAX_ASKS):
            wait, again = self.turn()
            if wait:
                sleep(wait)
            if not again:
                return

    async def await_turn(self, sleep: Callable[[float], Awaitable[object]]) -> None:
        """:meth:`wait_turn`, awaiting ``sleep``."""
        for _ in range(MAX_ASKS):
            wait, again = await self.aturn()
            if wait:
                await sleep(wait)
            if not again:
                return

    def failed(self, wait: float | None = None, retryable: bool = True) -> bool:
        """A failed attempt: close the key for ``wait`` s (the server's), charge the budget; True if a retry may follow."""
        now = _now()
        allowed = self._local_failure(now, wait, retryable)
        if self._shared is None or not (retryable or wait):  # the store hears of retries and server waits only
            return allowed
        return self._learned(now, self._ask(self._fail_args(wait, retryable)), allowed)

    async def afailed(self, wait: float | None = None, retryable: bool = True) -> bool:
        """:meth:`failed` for async callers."""
        now = _now()
        allowed = self._local_failure(now, wait, retryable)
        if self._shared is None or not (retryable or wait):
            return allowed
        return self._learned(now, await self._aask(self._fail_args(wait, retryable)), allowed)

    def succeeded(self) -> None:
        """A success: credit the budget (in Redis with this member's next round trip, never now)."""
        budget = self.budget
        if budget is not None:
            budget.record_success()
            if self._shared is not None:
                with self._lock:
                    credit = self._credit + budget.token_ratio
                    self._credit = credit if credit < budget.max_tokens else budget.max_tokens

    def record_failure(self) -> bool:
        """The :class:`RetryBudget` protocol: a retryable failure without a server wait."""
        return self.failed(None, True)

    def record_success(self) -> None:
        """The :class:`RetryBudget` protocol: a success."""
        self.succeeded()

    def learn(self, headers: object) -> None:
        """Pace by what a response says of the quota left (``RateLimit``, ``x-ratelimit-remaining-requests``...).

        The quota left is spread evenly until it resets; headers that say nothing change nothing.
        """
        rate = learned_rate(headers, time.time())
        if rate is not None:
            configured = self._configured
            self.rate = rate if configured is None or rate < configured else configured

    def heard(self, wait: float) -> None:
        """Another member closed this key for ``wait`` s from now (published through Redis)."""
        self._close(_now() + wait)

    @property
    def closed_for(self) -> float:
        """Seconds until this key reopens, as this process knows it (0.0: open)."""
        left = self._reopen - _now()
        return left if left > 0.0 else 0.0

    def __reduce__(self) -> tuple[object, ...]:
        # A copy in another process would share nothing with this one: say so, rather than fail on the lock.
        raise TypeError(
            f"a fleet scope ({self.name!r}) cannot be pickled: make the Fleet in each process "
            "(Fleet.redis(url) shares the state between them)"
        )

    def __repr__(self) -> str:
        return f"Scope({self.name!r}, rate={self.rate!r}, burst={self.burst}, closed_for={self.closed_for:.2f})"

    # -- a round trip to the store: the budget credit earned here goes with it (back, if the store is away) --

    def _ask(self, args: tuple[object, ...]) -> Answer:
        credit = self._take_credit()
        answer = self._shared.run(self._key, (*args, *self._budget_args(credit)))  # type: ignore[union-attr]  # only with a store
        if answer is None:
            self._give_back(credit)
        return answer

    async def _aask(self, args: tuple[object, ...]) -> Answer:
        credit = self._take_credit()
        answer = await self._shared.arun(self._key, (*args, *self._budget_args(credit)))  # type: ignore[union-attr]
        if answer is None:
            self._give_back(credit)
        return answer

    # -- arithmetic ---------------------------------------------------------------------------------

    def _local_turn(self, now: float) -> tuple[float, bool] | None:
        """The turn when it takes no round trip (a cooldown, no pacing, in-process pacing); None: ask the store."""
        if self._reopen > now:  # closed: wait the cooldown; with pacing, then ask again for a slot
            return self._cooldown_wait(now), self.rate is not None
        if self.rate is None:
            return 0.0, False
        if self._shared is None:
            return self._local_pace(now), False
        return None

    def _cooldown_wait(self, now: float) -> float:
        left = self._reopen - now
        if left <= 0.0:
            return 0.0
        # Spread the reopening over up to `jitter` s (never more than the cooldown
        # itself), so the members do not all fire at the same instant.
        spread = self.jitter if self.jitter < left else left
        return left + spread * self._rng.random() if spread else left

    def _close(self, until: float) -> None:
        with self._lock:
            if until > self._reopen:
                self._reopen = until

    def _local_failure(self, now: float, wait: float | None, retryable: bool) -> bool:
        if wait is not None and wait > 0.0:
            self._close(now + wait)
        budget = self.budget
        return budget.record_failure() if retryable and budget is not None else True

    def _local_pace(self, now: float) -> float:
        """In-process GCRA: reserve the next slot, return the wait for it."""
        interval = 1.0 / self.rate  # type: ignore[operator]  # only called with a rate
        with self._lock:
            tat = (self._tat if self._tat > now else now) + interval
            self._tat = tat
        slot = tat - self.burst * interval - now
        return slot if slot > 0.0 else 0.0

    def _paced(self, now: float, answer: Answer) -> tuple[float, bool]:
        if answer is None:  # the store is away: pace in-process meanwhile
            return self._local_pace(now), False
        pace, remaining, _ = answer
        if remaining > 0.0:  # closed: Redis reserved no slot; wait the cooldown, then ask again
            self._close(now + remaining)
            return self._cooldown_wait(now), True
        return pace, False

    def _learned(self, now: float, answer: Answer, allowed: bool) -> bool:
        """The store's verdict on a failure (and any cooldown it holds); ``allowed``, the local one, while it is away."""
        if answer is None:
            return allowed
        _, remaining, allowed = answer
        if remaining > 0.0:
            self._close(now + remaining)
        return allowed

    def _take_credit(self) -> float:
        with self._lock:
            credit, self._credit = self._credit, 0.0
        return credit

    def _give_back(self, credit: float) -> None:
        if credit:
            with self._lock:
                self._credit += credit

    def _budget_args(self, credit: float) -> tuple[float, float]:
        budget = self.budget
        return (credit, 0.0) if budget is None else (credit, budget.max_tokens)

    def _fail_args(self, wait: float | None, retryable: bool) -> tuple[object, ...]:
        return ("fail", wait or 0.0, 1 if retryable and self.budget is not None else 0)

