"""The sans-IO retry engine: (policy, attempt, error, now) -> retry after X seconds, or give up and why.

No sleeping, no clock reads, no I/O and no logging here: the faces in ``_policy``
read the clock, pass the time in, and act on the :class:`Decision`.
"""

from __future__ import annotations

from ._backoff import DEFAULT_RNG
from ._classify import describe, is_bare, is_transient, response_of, server_delay, status_of, transient_with_status
from ._config import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._policy import RetryPolicy
    from ._status import StatusTable

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
    """The engine's answer for one failure: retry after ``delay`` seconds, or give up because ``stop``.

    Text (``reason``, ``stop``, the note) is built only when asked for: a retry
    that nobody logs or hooks costs no string formatting.
    """

    __slots__ = ("retry", "delay", "attempt", "elapsed", "error", "status", "table", "_stop", "hint", "inherited")

    def __init__(
        self,
        retry: bool,
        delay: float | None,
        attempt: int,
        elapsed: float,
        error: BaseException,
        status: int | None,
        table: StatusTable,
        stop: str | None = None,
        hint: str | None = None,
        inherited: bool = False,
    ) -> None:
        self.retry = retry
        self.delay = delay
        self.attempt = attempt
        self.elapsed = elapsed
        self.error = error
        self.status = status
        self.table = table
        self._stop = stop
        self.hint = hint
        self.inherited = inherited

    @property
    def reason(self) -> str:
        """What failed, without secrets: ``HTTP 503 Service Unavailable``, ``ConnectionResetError``."""
        return describe(self.error, self.status, self.table)

    @property
    def stop(self) -> str | None:
        """Why the policy gives up (None when it retries)."""
        return None if self._stop is None else self._stop.replace("{reason}", self.reason)

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

    __slots__ = ("policy", "start", "failures", "previous", "_retry")

    def __init__(self, policy: RetryPolicy, start: float) -> None:
        self.policy = policy
        self.start = start
        self.failures = 0
        self.previous: float | None = None
        self._retry: Decision | None = None

    def on_failure(self, error: BaseException, now: float, wall: float, retryable: bool | None = None) -> Decision:
        """Decide what to do after ``error``; ``now`` is the policy clock, ``wall`` epoch seconds.

        ``retryable`` overrides the policy's ``on`` when the caller has already
        classified the failure (the HTTP adapters do, by method and status table).
        """
        policy = self.policy
        failures = self.failures
        self.failures = attempt = failures + 1
        elapsed = now - self.start
        if elapsed < 0.0:
            elapsed = 0.0
        table = policy.status_table
        bare = is_bare(error)
        response = None if bare else response_of(error)
        status = None if bare else status_of(error, response)

        if not bare and (getattr(error, GAVE_UP_MARK, False) or getattr(response, GAVE_UP_MARK, False)):
            stop = "{reason}: an inner retry already gave up on it"
            return Decision(False, None, attempt, elapsed, error, status, table, stop, inherited=True)
        if not isinstance(error, Exception):  # KeyboardInterrupt, CancelledError...: never, whatever `on` says
            retryable = False
        elif retryable is None:
            if policy.on is is_transient:  # the default: reuse the status looked up above
                retryable = transient_with_status(error, status, table)
            else:
                retryable = policy.should_retry(error)
        if not retryable:
            hint = table.rule(status).hint if status is not None else None
            return Decision(False, None, attempt, elapsed, error, status, table, "{reason} is not retryable", hint or None)
        # A retryable failure is charged to the budget even when no retry follows:
        # the budget measures how the server is doing, not what this call does next.
        budget = policy.budget
        budget_allows = budget is None or budget.record_failure()
        if failures >= policy.max_retries:
            stop = f"{{reason}}; no retries left (max_retries={policy.max_retries})"
            return Decision(False, None, attempt, elapsed, error, status, table, stop)

        asked = None if bare else server_delay(error, status, wall, response)
        if asked is not None:
            limit = policy.max_retry_after
            if limit is not None and asked > limit:
                stop = f"{{reason}}; the server asked to wait {asked:g} s, over max_retry_after={limit:g} s"
                return Decision(False, None, attempt, elapsed, error, status, table, stop)
            jitter = policy.retry_after_jitter
            delay = asked + jitter * (policy.rng or DEFAULT_RNG).random() if jitter else asked
        else:
            delay = policy.backoff.delay(failures, policy.rng, self.previous)

        deadline = policy.deadline
        if deadline is not None and elapsed + delay > deadline:
            stop = f"{{reason}}; waiting {delay:.2f} s more would pass the {deadline:g} s deadline"
            return Decision(False, None, attempt, elapsed, error, status, table, stop)
        if not budget_allows:
            stop = "{reason}; the retry budget is exhausted (too many failures across calls)"
            return Decision(False, None, attempt, elapsed, error, status, table, stop)

        self.previous = delay
        # One call's retry decisions reuse one object: a retry path that allocates
        # nothing per attempt (a give-up, rare by comparison, gets a fresh one).
        decision = self._retry
        if decision is None:
            self._retry = Decision(True, delay, attempt, elapsed, error, status, table)
            return self._retry
        decision.delay = delay
        decision.attempt = attempt
        decision.elapsed = elapsed
        decision.error = error
        decision.status = status
        return decision
