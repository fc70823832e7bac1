"""The sans-IO retry engine: (rules, attempt, error, now) -> retry after X seconds, or give up and why.

No sleeping, no clock reads, no I/O, no logging, and no shared state: the faces
(``_run``, ``_loops``, ``_attempts``) read the clock, pass the time in, charge a
retry budget as an explicit second step, and act on the outcome. The engine knows
a policy only through :class:`Rules`, so it imports nothing above it.
"""

from __future__ import annotations

import enum
from typing import Protocol

from ._backoff import DEFAULT_RNG, TABLE_SIZE, Backoff, BackoffStrategy, Rng
from ._classify import bare_type, is_transient, response_of, server_delay, status_of, transient_with_status
from ._status import StatusTable

# Set on an exception once a policy has given up on it, so an outer policy
# re-raises it at once instead of retrying a failure that was already retried.
GAVE_UP_MARK = "__retrykit_gave_up__"

# The longest wait a retry may take: time.sleep() overflows just past 2**63 ns (about 9.22e9 s,
# 292 years). A server asking for longer is refused like one over max_retry_after, even without one.
LONGEST_WAIT = 9e9


class Stop(enum.Enum):
    """Why a policy gave up on a call: a value, so code can branch on it and instruments can count it."""

    INHERITED = "inherited"
    """An inner policy (or an adapter) already gave up on this error."""
    NOT_RETRYABLE = "not_retryable"
    """``on`` (or the status table) says asking again cannot help."""
    NO_RETRIES_LEFT = "no_retries_left"
    """``max_retries`` retries were made (or as many as ``testing.instant(attempts=)`` allows)."""
    SERVER_WAIT_TOO_LONG = "server_wait_too_long"
    """The server asked for a wait over ``max_retry_after``."""
    DEADLINE = "deadline"
    """The next wait would pass the deadline."""
    BUDGET = "budget"
    """The retry budget refused the retry (too many failures across calls)."""
    NOT_IDEMPOTENT = "not_idempotent"
    """Retryable, but the HTTP request's method is not idempotent and it may have been applied."""
    ONE_SHOT_BODY = "one_shot_body"
    """Retryable, but the HTTP request's body was a stream that cannot be sent again."""
    CLIENT_TIMEOUT = "client_timeout"
    """The client's own timeout for the whole request ran out: every further attempt would fail at once."""


_BARE = bare_type.values


class Rules(Protocol):
    """What the engine reads of a policy: ``RetryPolicy`` is one, a test double can be another."""

    @property
    def max_retries(self) -> int | None:
        """None: no count, the deadline alone ends the call (polling)."""
        ...
    @property
    def backoff(self) -> BackoffStrategy: ...
    @property
    def rng(self) -> Rng | None: ...
    @property
    def deadline(self) -> float | None: ...
    @property
    def max_retry_after(self) -> float | None: ...
    @property
    def retry_after_jitter(self) -> float: ...
    @property
    def status_table(self) -> StatusTable: ...
    @property
    def on(self) -> object: ...
    @property
    def retry_types(self) -> tuple[type[Exception], ...] | None:
        """The Exception types ``on`` names, when it names only those: tested inline, no call."""
        ...

    def should_retry(self, error: BaseException) -> bool: ...


class Budget(Protocol):
    """A shared retry throttle (``RetryBudget``, a fleet scope): the faces charge it, the engine never does."""

    def record_failure(self) -> bool: ...
    def record_success(self) -> None: ...


class RetryState:
    """One call's progress through a policy; lives on the caller's stack, never on the policy.

    :meth:`decide` is the whole decision procedure, in order: an error another
    policy already gave up on stops at once; then ``on`` decides whether it is
    retryable at all; then the retry count, the server's requested wait against
    ``max_retry_after``, and the deadline. :meth:`charge` is the separate,
    optional budget step. The outcome is the delay (a float) or a :class:`Stop`;
    the details stay on the state: ``attempt``, ``now`` (so ``elapsed``),
    ``error``, ``status``, ``delay``, ``stop`` and, for a refused wait, ``refused``.
    ``limit`` is the most retries this call may make: the policy's ``max_retries``
    unless the caller lowers it (``testing.instant(attempts=)`` does), None for no count.

    A result that ``on_result`` rejects comes here too, as the ``RetriesExhausted``
    the call would end with and ``retryable=True``: it is decided exactly like a
    retryable failure, and an HTTP response's status and ``Retry-After`` count alike.

    ``start`` is the policy clock when the call started, ``wall`` the epoch time
    at that moment: the wall clock at a later ``now`` is derived from them, so a
    face reads one clock per failure and HTTP-date ``Retry-After`` values still work.
    """

    __slots__ = (
        "rules",
        "limit",
        "start",
        "wall",
        "now",
        "attempt",
        "error",
        "status",
        "delay",
        "stop",
        "refused",
        "retryable",
        "asked",
    )

    def __init__(self, rules: Rules, start: float, wall: float) -> None:
        self.rules = rules
        self.limit = rules.max_retries
        self.start = self.now = start
        self.wall = wall
        self.attempt = 0  # attempts that failed so far
        self.error: BaseException | None = None
        self.status: int | None = None
        # The last wait chosen: None before the first retry and after a give-up. It is
        # also the "previous delay" that strategies such as decorrelated jitter grow from.
        self.delay: float | None = None
        self.stop: Stop | None = None
        self.refused: float | None = None  # the wait that was too long (server's, or past the deadline)
        self.retryable = False  # whether the last failure was one a budget should be charged for
        self.asked: float | None = None  # the wait the server asked for after the last failure (a fleet shares it)

    @property
    def elapsed(self) -> float:
        """Seconds from the start of the call to the last failure."""
        elapsed = self.now - self.start
        return elapsed if elapsed > 0.0 else 0.0

    def decide(self, error: BaseException, now: float, retryable: bool | None = None) -> float | Stop:
        """Seconds to wait before retrying after ``error``, or the :class:`Stop` that ends the call.

        ``now`` is the policy clock. ``retryable`` overrides the policy's ``on``
        when the caller has already classified the failure (the HTTP adapters do,
        by method and status table).
        """
        rules = self.rules
        failures = self.attempt
        self.attempt = failures + 1
        self.error = error
        self.now = now
        # Speed only: a plain exception (no status, response, headers or mark anywhere)
        # is proven so by one dict lookup and one dict test instead of seven getattrs.
        cls = error.__class__
        try:
            bare = _BARE[cls]
        except KeyError:
            bare = bare_type(cls)
        plain = bare and not error.__dict__
        if plain:
            status = response = asked = None
        else:
            response = response_of(error)
            status = status_of(error, response)
            try:
                inherited = getattr(error, GAVE_UP_MARK, False) or getattr(response, GAVE_UP_MARK, False)
            except Exception:  # a hostile __getattr__: the error is not ours to judge by its attributes
                inherited = False
            if inherited:
                self.status = status
                self.retryable = False
                self.asked = None
                return self._give_up(Stop.INHERITED)
        self.status = status

        # KeyboardInterrupt, CancelledError and other BaseExceptions: never, whatever `on` says.
        if retryable is None:
            types = rules.retry_types  # Exception subclasses only, so a match is an Exception
            if types is not None:
                retryable = isinstance(error, types)
            elif not isinstance(error, Exception):
                retryable = False
            elif rules.on is is_transient:  # the default: reuse the status looked up above
                retryable = transient_with_status(error, status, rules.status_table)
            else:
                retryable = rules.should_retry(error)
        elif not isinstance(error, Exception):
            retryable = False
        # A retryable failure is charged to a budget even when no retry follows:
        # the budget measures how the server is doing, not what this call does next.
        self.retryable = retryable
        if not retryable:
            self.asked = None  # set here, not on every failure: the retry path stores it below
            return self._give_up(Stop.NOT_RETRYABLE)
        # Read before counting retries: a fleet shares the server's wait even from a last attempt.
        if not plain:
            asked = server_delay(error, status, self.wall + (now - self.start), response)
        self.asked = asked
        most = self.limit
        if most is not None and failures >= most:
            return self._give_up(Stop.NO_RETRIES_LEFT)

        if asked is None:
            backoff = rules.backoff
            if backoff.__class__ is Backoff and failures < TABLE_SIZE:
                # Backoff.delay() inlined for the default strategy (speed only: a call less per retry, ~35 ns).
                delay = backoff.table[failures]
                if backoff.jitter:
                    delay += backoff.jitter * (rules.rng or DEFAULT_RNG).random()
            else:
                delay = backoff.delay(failures, rules.rng, self.delay)
        else:
            limit = rules.max_retry_after
            if asked > LONGEST_WAIT or (limit is not None and asked > limit):
                self.refused = asked
                return self._give_up(Stop.SERVER_WAIT_TOO_LONG)
            jitter = rules.retry_after_jitter
            delay = asked + jitter * (rules.rng or DEFAULT_RNG).random() if jitter else asked
        # NaN fails both comparisons: a broken strategy or rng stops here, never in time.sleep
        # and never slipping past the deadline check below.
        try:
            valid = 0.0 <= delay <= LONGEST_WAIT
        except TypeError:
            valid = False
        if not valid:
            raise bad_wait(rules, delay, asked, error)

        deadline = rules.deadline
        if deadline is not None and now - self.start + delay > deadline:
            self.refused = delay
            return self._give_up(Stop.DEADLINE)
        self.delay = delay
        return delay

    def charge(self, budget: Budget) -> float | Stop:
        """The budget step, after :meth:`decide`: a retryable failure takes a token; a refusal ends the call."""
        if self.retryable and not budget.record_failure() and self.stop is None:
            return self._give_up(Stop.BUDGET)
        stop = self.stop
        if stop is not None:
            return stop
        assert self.delay is not None  # decide() leaves either a stop or a delay
        return self.delay

    def on_failure(self, error: BaseException, now: float, retryable: bool | None = None) -> float | None:
        """:meth:`decide` without a budget, as "seconds to wait, or None to give up"."""
        outcome = self.decide(error, now, retryable)
        return None if outcome.__class__ is Stop else outcome  # type: ignore[return-value]

    def _give_up(self, stop: Stop) -> Stop:
        self.delay = None
        self.stop = stop
        return stop


def bad_wait(rules: Rules, delay: object, asked: float | None, error: BaseException) -> Exception:
    """The error for a wait no sleep can take, naming what produced it; the failure is its context."""
    if asked is None:
        source = f"backoff {type(rules.backoff).__name__}.delay() (rng={rules.rng!r})"
    else:
        source = f"retry_after_jitter={rules.retry_after_jitter:g} with rng={rules.rng!r}"
    kind = ValueError if isinstance(delay, (int, float)) and not isinstance(delay, bool) else TypeError
    problem = kind(
        f"{source} gave a wait of {delay!r}: a wait must be a number of seconds from 0 to {LONGEST_WAIT:g}"
    )
    problem.__context__ = error
    return problem


SCHEDULE_LIMIT = 10_000


def schedule(rules: Rules, error: BaseException) -> list[float]:
    """The delays ``rules`` would wait if every attempt failed with ``error`` (no clock, no budget).

    Without a retry count only the deadline ends it; waits of zero would never reach
    it, so the list stops at ``SCHEDULE_LIMIT`` delays.
    """
    state = RetryState(rules, 0.0, 0.0)
    delays: list[float] = []
    now = 0.0
    while len(delays) < SCHEDULE_LIMIT:
        outcome = state.decide(error, now, True)
        if outcome.__class__ is Stop:
            return delays
        delays.append(outcome)  # type: ignore[arg-type]
        now += outcome  # type: ignore[operator]
    return delays
