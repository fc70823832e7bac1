"""The sans-IO retry engine: (policy, attempt, error, now) -> retry after X seconds, or give up and why.

No sleeping, no clock reads, no I/O and no logging here: the faces in ``_policy``
read the clock, pass the time in, and act on the :class:`Decision`.
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


class RetryState:
    """One call's progress through a policy; lives on the caller's stack, never on the policy.

    :meth:`on_failure` is the whole decision procedure, in order: an error another
    policy already gave up on stops at once; then ``on`` decides whether it is
    retryable at all; then the retry count, the server's requested wait against
    ``max_retry_after``, the deadline, and the retry budget. It returns the delay
    (or None to give up) and leaves the details of that failure on the state:
    ``attempt``, ``elapsed``, ``error``, ``status``, ``delay``, and on a give-up
    ``stop``, ``hint`` and ``inherited``. Text (``reason``, ``stop``, the note) is
    built only when asked for: a retry nobody logs or hooks formats no string.
    """

    __slots__ = (
        "policy",
        "budget",
        "start",
        "attempt",
        "previous",
        "elapsed",
        "error",
        "status",
        "delay",
        "_stop",
        "hint",
        "inherited",
    )

    def __init__(self, policy: RetryPolicy, start: float, budget: RetryBudget | None = None) -> None:
        self.policy = policy
        # The policy's budget, unless the caller has a narrower one (the HTTP adapters' per-host budgets).
        self.budget = budget if budget is not None else policy.budget
        self.start = start
        self.attempt = 0  # attempts that failed so far
        self.previous: float | None = None  # the last delay, for strategies such as decorrelated jitter
        self.elapsed = 0.0
        self.error: BaseException | None = None
        self.status: int | None = None
        self.delay: float | None = None
        self._stop: str | None = None
        self.hint: str | None = None
        self.inherited = False

    @property
    def reason(self) -> str:
        """What failed, without secrets: ``HTTP 503 Service Unavailable``, ``ConnectionResetError``."""
        return "" if self.error is None else describe(self.error, self.status, self.policy.status_table)

    @property
    def stop(self) -> str | None:
        """Why the policy gave up on the last failure (None while it retries)."""
        if self._stop is None or self.error is None:
            return None
        return describe(self.error, self.status, self.policy.status_table) + self._stop

    def note(self, function: str) -> str:
        """The PEP 678 note added to the exception when the policy gives up."""
        attempt = self.attempt
        stop = self.stop
        if attempt == 1:
            text = f"retrykit: gave up on {function} after 1 attempt: {stop}"
        else:
            text = f"retrykit: gave up on {function} after {attempt} attempts over {self.elapsed:.2f} s: {stop}"
        return f"{text}\nHow to fix: {self.hint}" if self.hint else text

    def _give_up(self, stop: str, hint: str | None = None, inherited: bool = False) -> None:
        """Record a give-up; ``stop`` is what follows the reason in the message."""
        self.delay = None
        self._stop = stop
        self.hint = hint
        self.inherited = inherited

    def on_failure(self, error: BaseException, now: float, wall: float, retryable: bool | None = None) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to give up.

        ``now`` is the policy clock, ``wall`` epoch seconds (for HTTP-date
        Retry-After values). ``retryable`` overrides the policy's ``on`` when the
        caller has already classified the failure (the HTTP adapters do, by method
        and status table).
        """
        policy = self.policy
        failures = self.attempt
        self.attempt = failures + 1
        self.error = error
        elapsed = now - self.start
        self.elapsed = elapsed if elapsed > 0.0 else 0.0
        # Speed only: a plain exception (no status, response, headers or mark
        # anywhere) is proven so by one cached class check and one dict test.
        cls = type(error)
        bare = BARE_TYPES.get(cls)
        if bare is None:
            bare = bare_type(cls)
        if bare and not error.__dict__:
            response = status = None
        else:
            bare = False
            response = response_of(error)
            status = status_of(error, response)
            if getattr(error, GAVE_UP_MARK, False) or getattr(response, GAVE_UP_MARK, False):
                self.status = status
                self._give_up(": an inner retry already gave up on it", inherited=True)
                return None
        self.status = status

        # KeyboardInterrupt, CancelledError and other BaseExceptions: never, whatever `on` says.
        if retryable is None:
            types = policy.on_types  # Exception subclasses only, so a match is an Exception
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
            hint = policy.status_table.rule(status).hint if status is not None else None
            self._give_up(" is not retryable", hint or None)
            return None
        # A retryable failure is charged to the budget even when no retry follows:
        # the budget measures how the server is doing, not what this call does next.
        budget = self.budget
        budget_allows = budget is None or budget.record_failure()
        if failures >= policy.max_retries:
            self._give_up(f"; no retries left (max_retries={policy.max_retries})")
            return None

        asked = None if bare else server_delay(error, status, wall, response)
        if asked is None:
            delay = policy.backoff.delay(failures, policy.rng, self.previous)
        else:
            limit = policy.max_retry_after
            if limit is not None and asked > limit:
                self._give_up(f"; the server asked to wait {asked:g} s, over max_retry_after={limit:g} s")
                return None
            jitter = policy.retry_after_jitter
            delay = asked + jitter * (policy.rng or DEFAULT_RNG).random() if jitter else asked

        deadline = policy.deadline
        if deadline is not None and self.elapsed + delay > deadline:
            self._give_up(f"; waiting {delay:.2f} s more would pass the {deadline:g} s deadline")
            return None
        if not budget_allows:
            self._give_up("; the retry budget is exhausted (too many failures across calls)")
            return None
        self.previous = self.delay = delay
        return delay
