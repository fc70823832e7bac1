"""The sans-IO retry engine: (policy, attempt, error, now) -> retry after X seconds, or give up and why.

No sleeping, no clock reads, no I/O and no logging here: the faces in ``_policy``
read the clock, pass the time in, and act on the :class:`Decision`.
"""

from __future__ import annotations

from ._backoff import DEFAULT_RNG
from ._classify import describe, response_of, server_delay, status_of
from ._config import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
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


class Decision:
    """The engine's answer for one failure: retry after ``delay`` seconds, or give up because ``stop``."""

    __slots__ = ("retry", "delay", "attempt", "elapsed", "reason", "status", "stop", "hint", "inherited")

    def __init__(
        self,
        *,
        retry: bool,
        delay: float | None,
        attempt: int,
        elapsed: float,
        reason: str,
        status: int | None,
        stop: str | None = None,
        hint: str | None = None,
        inherited: bool = False,
    ) -> None:
        self.retry = retry
        self.delay = delay
        self.attempt = attempt
        self.elapsed = elapsed
        self.reason = reason
        self.status = status
        self.stop = stop
        self.hint = hint
        self.inherited = inherited

    def note(self, function: str) -> str:
        """The PEP 678 note added to the exception when the policy gives up."""
        attempts = f"{self.attempt} attempt{'s' if self.attempt != 1 else ''}"
        took = f" over {self.elapsed:.2f} s" if self.attempt > 1 else ""
        text = f"retrykit: gave up on {function} after {attempts}{took}: {self.stop}"
        if self.hint:
            text += f"\nHow to fix: {self.hint}"
        return text


class RetryState:
    """One call's progress through a policy; lives on the caller's stack, never on the policy.

    ``on_failure`` is the whole decision procedure, in order: an error another
    policy already gave up on stops at once; then ``on`` decides whether it is
    retryable at all; then the retry count, the server's requested wait against
    ``max_retry_after``, the deadline, and the retry budget.
    """

    __slots__ = ("policy", "start", "failures", "previous")

    def __init__(self, policy: RetryPolicy, start: float) -> None:
        self.policy = policy
        self.start = start
        self.failures = 0
        self.previous: float | None = None

    def on_failure(self, error: BaseException, now: float, wall: float, retryable: bool | None = None) -> Decision:
        """Decide what to do after ``error``; ``now`` is the policy clock, ``wall`` epoch seconds.

        ``retryable`` overrides the policy's ``on`` when the caller has already
        classified the failure (the HTTP adapters do, by method and status table).
        """
        policy = self.policy
        failures = self.failures
        self.failures = failures + 1
        attempt = failures + 1
        elapsed = max(0.0, now - self.start)
        status = status_of(error)
        table = policy.status_table
        reason = describe(error, status, table)

        def give_up(stop: str, *, hint: str | None = None, inherited: bool = False) -> Decision:
            return Decision(
                retry=False,
                delay=None,
                attempt=attempt,
                elapsed=elapsed,
                reason=reason,
                status=status,
                stop=stop,
                hint=hint,
                inherited=inherited,
            )

        if getattr(error, GAVE_UP_MARK, False) or getattr(response_of(error), GAVE_UP_MARK, False):
            return give_up(f"{reason}: an inner retry already gave up on it", inherited=True)
        if retryable is None:
            retryable = isinstance(error, Exception) and policy.should_retry(error)
        if not retryable or not isinstance(error, Exception):
            hint = table.rule(status).hint if status is not None else None
            return give_up(f"{reason} is not retryable", hint=hint or None)
        # A retryable failure is charged to the budget even when no retry follows:
        # the budget measures how the server is doing, not what this call does next.
        budget = policy.budget
        budget_allows = budget is None or budget.record_failure()
        if failures >= policy.max_retries:
            return give_up(f"{reason}; no retries left (max_retries={policy.max_retries})")

        asked = server_delay(error, status, wall)
        if asked is not None:
            limit = policy.max_retry_after
            if limit is not None and asked > limit:
                return give_up(f"{reason}; the server asked to wait {asked:g} s, over max_retry_after={limit:g} s")
            jitter = policy.retry_after_jitter
            delay = asked + jitter * (policy.rng or DEFAULT_RNG).random() if jitter else asked
        else:
            delay = policy.backoff.delay(failures, policy.rng, self.previous)

        deadline = policy.deadline
        if deadline is not None and elapsed + delay > deadline:
            return give_up(f"{reason}; waiting {delay:.2f} s more would pass the {deadline:g} s deadline")
        if not budget_allows:
            return give_up(f"{reason}; the retry budget is exhausted (too many failures across calls)")

        self.previous = delay
        return Decision(retry=True, delay=delay, attempt=attempt, elapsed=elapsed, reason=reason, status=status)

