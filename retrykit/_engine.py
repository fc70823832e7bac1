"""The sans-IO retry engine: (policy, attempt, error, now) -> retry after X seconds, or give up and why.

No sleeping, no clock reads, no I/O and no logging here: the faces in ``_policy``
read the clock, pass the time in, and act on the delay it returns (None: give up).
"""

from __future__ import annotations

from ._backoff import DEFAULT_RNG
from ._classify import (
    BARE_TYPES,
    bare_type,
    describe,
    is_transient,
    response_of,
    server_delay,
    status_of,
    transient_with_status,
)
from ._config import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._budget import RetryBudget
    from ._policy import RetryPolicy

# Set on an exception once a policy has given up on it, so an outer policy
# re-raises it at once instead of retrying a failure that was already retried.
GAVE_UP_MARK = "__retrykit_gave_up__"


class RetryEvent(Frozen):
    """What hooks receive: one failed attempt, and what the policy does about it.

    ``delay`` is the wait before the next attempt, or None when the policy gives
    up; ``stop`` then says why. ``reason`` describes the failure without secrets
    (``HTTP 503 Service Unavailable``, ``ConnectionRefusedError``); ``error`` is
    the exception itself. ``elapsed`` is in seconds since the call started (or,
    without a deadline, since its first failure: the success path reads no clock).
    """

    __slots__ = ("function", "attempt", "max_attempts", "delay", "elapsed", "error", "reason", "status", "stop")
    _fields = ("function", "attempt", "max_attempts", "delay", "elapsed", "error", "reason", "status", "stop")
    function: str
    attempt: int
    max_attempts: int
    delay: float | None
    elapsed: float
    error: BaseException
    reason: str
    status: int | None
    stop: str | None

    def __init__(
        self,
        *,
        function: str,
        attempt: int,
        max_attempts: int,
        delay: float | None,
        elapsed: float,
        error: BaseException,
        reason: str,
        status: int | None = None,
        stop: str | None = None,
    ) -> None:
        self._init(
            function=function,
            attempt=attempt,
            max_attempts=max_attempts,
            delay=delay,
            elapsed=elapsed,
            error=error,
            reason=reason,
            status=status,
            stop=stop,
        )


# Why a policy gave up: each is the text that follows the failure's description
# ("HTTP 503 Service Unavailable" + stop). Constants, so the engine records a
# give-up with one store and the text is formatted only if someone reads it.
INHERITED = ": an inner retry already gave up on it"
NOT_RETRYABLE = " is not retryable"
BUDGET_EXHAUSTED = "; the retry budget is exhausted (too many failures across calls)"


def no_retries_left(max_retries: int) -> str:
    """The stop for a policy that ran out of retries; each policy formats it once, up front."""
    return f"; no retries left (max_retries={max_retries})"


class RetryState:
    """One call's progress through a policy; lives on the caller's stack, never on the policy.

    :meth:`on_failure` is the whole decision procedure, in order: an error another
    policy already gave up on stops at once; then ``on`` decides whether it is
    retryable at all; then the retry count, the server's requested wait against
    ``max_retry_after``, the deadline, and the retry budget. It returns the delay
    (or None to give up) and leaves the details of that failure on the state:
    ``attempt``, ``now`` (so ``elapsed``), ``error``, ``status``, ``delay``, and on
    a give-up ``stop`` and ``hint``. Text (``reason``, ``stop``, the
    note) is built only when asked for: a retry nobody logs or hooks formats no string.

    ``start`` is the policy clock when the call started, ``wall`` the epoch time
    at that moment: the wall clock at a later ``now`` is derived from them, so a
    face reads one clock per failure and HTTP-date ``Retry-After`` values still work.
    """

    __slots__ = ("policy", "budget", "start", "wall", "now", "attempt", "error", "status", "delay", "_stop")

    def __init__(self, policy: RetryPolicy, start: float, wall: float, budget: RetryBudget | None = None) -> None:
        self.policy = policy
        # The policy's budget, unless the caller has a narrower one (the HTTP adapters' per-host budgets).
        self.budget = budget if budget is not None else policy.budget
        self.start = self.now = start
        self.wall = wall
        self.attempt = 0  # attempts that failed so far
        self.error: BaseException | None = None
        self.status: int | None = None
        # The last wait chosen: None before the first retry and after a give-up. It is
        # also the "previous delay" that strategies such as decorrelated jitter grow from.
        self.delay: float | None = None
        self._stop: str | None = None

    @property
    def elapsed(self) -> float:
        """Seconds from the start of the call to the last failure."""
        elapsed = self.now - self.start
        return elapsed if elapsed > 0.0 else 0.0

    @property
    def reason(self) -> str:
        """What failed, without secrets: ``HTTP 503 Service Unavailable``, ``ConnectionResetError``."""
        return "" if self.error is None else describe(self.error, self.status, self.policy.status_table)

    @property
    def stop(self) -> str | None:
        """Why the policy gave up on the last failure (None while it retries)."""
        if self._stop is None or self.error is None:
            return None
        return self.reason + self._stop

    @property
    def hint(self) -> str | None:
        """The status table's "How to fix" text, when the policy gave up on a fatal status."""
        if self._stop is not NOT_RETRYABLE or self.status is None:
            return None
        return self.policy.status_table.rule(self.status).hint or None

    @property
    def refused_by_budget(self) -> bool:
        """Whether the policy gave up because its retry budget refused the retry."""
        return self._stop is BUDGET_EXHAUSTED

    def note(self, function: str) -> str:
        """The PEP 678 note added to the exception when the policy gives up."""
        # Speed only: one f-string, and no property calls unless there is a hint; this runs on every give-up.
        attempt, stop, error = self.attempt, self._stop, self.error
        if stop is None or error is None:
            return ""
        reason = describe(error, self.status, self.policy.status_table)
        if attempt == 1:
            text = f"retrykit: gave up on {function} after 1 attempt: {reason}{stop}"
        else:
            elapsed = self.now - self.start
            elapsed = elapsed if elapsed > 0.0 else 0.0
            text = f"retrykit: gave up on {function} after {attempt} attempts over {elapsed:.2f} s: {reason}{stop}"
        hint = self.hint if stop is NOT_RETRYABLE else None
        return f"{text}\nHow to fix: {hint}" if hint else text

    def on_failure(self, error: BaseException, now: float, retryable: bool | None = None) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to give up.

        ``now`` is the policy clock. ``retryable`` overrides the policy's ``on``
        when the caller has already classified the failure (the HTTP adapters do,
        by method and status table).
        """
        policy = self.policy
        failures = self.attempt
        self.attempt = failures + 1
        self.error = error
        self.now = now
        # Speed only: a plain exception (no status, response, headers or mark
        # anywhere) is proven so by one set lookup and one dict test.
        plain = (type(error) in BARE_TYPES or bare_type(type(error))) and not error.__dict__
        if plain:
            status = response = None
        else:
            response = response_of(error)
            status = status_of(error, response)
            if getattr(error, GAVE_UP_MARK, False) or getattr(response, GAVE_UP_MARK, False):
                self.status = status
                self._give_up(INHERITED)
                return None
        self.status = status

        # KeyboardInterrupt, CancelledError and other BaseExceptions: never, whatever `on` says.
        if retryable is None:
            types = policy._on_types  # Exception subclasses only, so a match is an Exception
            if types is not None:
                retryable = isinstance(error, types)
            elif not isinstance(error, Exception):
                retryable = False
            elif policy.on is is_transient:  # the default: reuse the status looked up above
                retryable = transient_with_status(error, status, policy.status_table)
            else:
                retryable = policy.should_retry(error)
        elif not isinstance(error, Exception):
            retryable = False
        if not retryable:
            self._give_up(NOT_RETRYABLE)
            return None
        # A retryable failure is charged to the budget even when no retry follows:
        # the budget measures how the server is doing, not what this call does next.
        budget = self.budget
        budget_allows = budget is None or budget.record_failure()
        if failures >= policy.max_retries:
            self._give_up(policy._exhausted)
            return None

        asked = None if plain else server_delay(error, status, self.wall + (now - self.start), response)
        if asked is None:
            delay = policy.backoff.delay(failures, policy.rng, self.delay)
        else:
            limit = policy.max_retry_after
            if limit is not None and asked > limit:
                self._give_up(f"; the server asked to wait {asked:g} s, over max_retry_after={limit:g} s")
                return None
            jitter = policy.retry_after_jitter
            delay = asked + jitter * (policy.rng or DEFAULT_RNG).random() if jitter else asked

        deadline = policy.deadline
        if deadline is not None and now - self.start + delay > deadline:
            self._give_up(f"; waiting {delay:.2f} s more would pass the {deadline:g} s deadline")
            return None
        if not budget_allows:
            self._give_up(BUDGET_EXHAUSTED)
            return None
        self.delay = delay
        return delay

    def _give_up(self, stop: str) -> None:
        """Record a give-up; ``stop`` is what follows the reason in the message."""
        self.delay = None
        self._stop = stop
