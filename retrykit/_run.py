"""One call's retry driver: reads the clock, asks the engine, charges the budget, reports; the faces sleep and loop."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from . import _instruments, _runtime
from ._engine import GAVE_UP_MARK, Budget, RetryState, Rules, Stop
from ._misuse import refuse_async_hook
from ._report import Recovery, RetryEvent, Target, await_hook, call_hook, event, name_of, note
from ._scope import Scope

_time = time.time  # speed only: one global read, not a global and an attribute
_INHERITED = Stop.INHERITED  # a module constant: an Enum member read through its class costs more
# Stops where the policy (or an adapter's rule) declined to retry at all: the error is left
# unmarked, to whichever policy around it would retry it. Every other stop retried and stopped.
# A tuple, not a set: membership is an identity test, where a set would hash each Enum member in Python.
DECLINED = (Stop.NOT_RETRYABLE, Stop.NOT_IDEMPOTENT, Stop.ONE_SHOT_BODY)


def _noted(error: BaseException) -> bool:
    """Whether a policy already put a give-up note on ``error``."""
    try:
        notes = getattr(error, "__notes__", None)
        return isinstance(notes, list) and any(isinstance(n, str) and n.startswith("retrykit: ") for n in notes)
    except Exception:
        return False


class Settings(Rules, Protocol):
    """What the faces read of a policy beyond the engine's :class:`Rules`."""

    @property
    def budget(self) -> Budget | None: ...
    @property
    def fleet(self) -> Scope | None: ...
    @property
    def clock(self) -> Callable[[], float]: ...
    @property
    def sleep(self) -> Callable[[float], object]: ...
    @property
    def async_sleep(self) -> Callable[[float], Awaitable[object]] | None: ...
    @property
    def on_retry(self) -> Callable[[RetryEvent], object] | None: ...
    @property
    def on_giveup(self) -> Callable[[RetryEvent], object] | None: ...
    @property
    def log(self) -> bool: ...
    @property
    def on_result(self) -> Callable[[Any], object] | None: ...


class Run:
    """One call's driver, created at its first failure (or at its start, with a deadline).

    It holds the engine's per-call :class:`RetryState` and the time source (the
    policy's clock and sleeps, or those of ``testing.instant()``), and carries out
    each outcome's side effects: the budget step, hooks, the global instruments
    (the log line is one of them), the give-up note.
    """

    __slots__ = (
        "policy",
        "state",
        "fn",
        "budget",
        "scope",
        "clock",
        "source",
        "target",
        "instruments",
        "listening",
        "created",
        "asynchronous",
        "pending",
    )

    def __init__(self, policy: Settings, fn: object, start: float | None = None, *, asynchronous: bool = False) -> None:
        # The policy's clock and sleeps, unless testing.instant() replaces them all.
        source = self.source = _runtime.override
        if source is None:
            clock = self.clock = policy.clock
            wall = _time()
        else:
            clock = self.clock = source.clock
            wall = source.wall()
        self.policy = policy
        self.fn = fn  # the callable (or its name): named only when a line or note needs it
        self.target: Target | None = None  # the call in bounded terms; made from the name when an event needs it
        self.budget = policy.budget  # narrower for a request: see narrowed()
        self.scope = policy.fleet  # the fleet scope this call shares a cooldown, pace and budget with
        # The global instruments as they are now, for the whole call (a policy with log=False skips the loggers).
        instruments = self.instruments = _instruments.everyone if policy.log else _instruments.quiet
        # Whether a retry has an audience (a hook or an instrument): without one, it formats nothing.
        self.listening = instruments != () or policy.on_retry is not None
        # The clock now: a run made at a failure is the time of that failure, and the loops
        # use it as such, so each failure costs one clock read. ``start`` (read by the caller
        # when a deadline counts from the call's start) goes back from it, as does the wall clock.
        now = self.created = clock()
        if start is None:
            self.state = RetryState(policy, now, wall)
        else:
            self.state = RetryState(policy, start, wall - (now - start))
        if source is not None and source.attempts is not None:  # instant(attempts=N): at most N - 1 retries
            state = self.state
            if state.limit is None or source.attempts - 1 < state.limit:
                state.limit = source.attempts - 1
        # An async face awaits what an ``async def`` hook returns (see flush()); a sync one refuses it.
        self.asynchronous = asynchronous
        self.pending: Awaitable[object] | None = None

    def narrowed(self, budget: Budget | None, scope: Scope | None, target: Target) -> Run:
        """This run, for one HTTP request: its host's budget and fleet scope (where it has its own), and its target."""
        if budget is not None:
            self.budget = budget
        if scope is not None:
            self.scope = scope
        self.target = target
        return self

    @property
    def sleep(self) -> Callable[[float], object]:
        source = self.source
        return self.policy.sleep if source is None else source.sleep

    @property
    def async_sleep(self) -> Callable[[float], Awaitable[object]]:
        source = self.source
        if source is None:
            return self.policy.async_sleep or _runtime.framework_sleep
        return source.async_sleep

    def wall_time(self) -> float:
        """Epoch seconds now, by this call's time source."""
        state = self.state
        return state.wall + (self.clock() - state.start)

    def failed(
        self,
        error: BaseException,
        retryable: bool | None = None,
        now: float | None = None,
        refusal: Stop = Stop.NOT_RETRYABLE,
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up (note and mark already set).

        ``now`` is the time of the failure when the caller has it (``created``, for a
        run made at this failure); otherwise the clock is read. ``refusal`` is why a
        caller's ``retryable=False`` stops the call, when it knows better than "not
        retryable" (the HTTP adapters' method rule).
        """
        state = self.state
        outcome = state.decide(error, self.clock() if now is None else now, retryable)
        if outcome is Stop.NOT_RETRYABLE and refusal is not outcome:
            outcome = state.stop = refusal
        if self.scope is not None:
            outcome = self.share()
        elif self.budget is not None:
            outcome = state.charge(self.budget)
        if outcome.__class__ is Stop:
            self.gave_up(error)
            return None
        if self.listening:
            self.retried()
        return outcome  # type: ignore[return-value]

    # -- the fleet's steps: after the engine's decision, and before each send ----------------------

    def share(self) -> float | Stop:
        """The budget step with a fleet: tell the scope (the server's wait closes it for everyone), charge it."""
        state = self.state
        allowed = self.scope.failed(state.asked, state.retryable)  # type: ignore[union-attr]  # only with a scope
        return state.charge(self.budget if allowed and self.budget is not None else ALLOW if allowed else REFUSE)

    async def ashare(self) -> float | Stop:
        """:meth:`share` for async calls."""
        state = self.state
        allowed = await self.scope.afailed(state.asked, state.retryable)  # type: ignore[union-attr]
        return state.charge(self.budget if allowed and self.budget is not None else ALLOW if allowed else REFUSE)

    def wait_turn(self) -> None:
        """Before sending: wait out the scope's cooldown (another member's server wait) and pace."""
        self.scope.wait_turn(self.sleep)  # type: ignore[union-attr]  # only with a scope

    async def await_turn(self) -> None:
        """:meth:`wait_turn` for async calls."""
        await self.scope.await_turn(self.async_sleep)  # type: ignore[union-attr]

    def retried(self) -> None:
        """Tell the hook, then the instruments, about a retry: the event exists only for them."""
        hook = self.policy.on_retry
        instruments = [i for i in self.instruments if i.hears_retries()] if self.instruments else ()
        if hook is None and not instruments:
            return
        happened = event(self.state, name_of(self.fn), self.labels())
        if hook is not None:
            self._hook(hook, happened)
        for instrument in instruments:
            call_hook(instrument.on_retry, happened)

    def gave_up(self, error: BaseException) -> None:
        """Note the error the policy gives up on, and mark it unless the policy merely declined it.

        The mark tells an outer policy (or an adapter's caller) that this error was
        already retried: only a policy that would have retried it and stopped sets
        it, so an inner ``@retry(on=KeyError)`` leaves a ``ConnectionError`` to the
        outer one. Nothing is added to an error an inner policy already gave up on;
        a declined error gets one note, however many policies decline it. Noting
        and marking are best effort: an exception that refuses attributes comes out
        as itself.
        """
        state = self.state
        try:
            stop = state.stop
            if stop is _INHERITED:
                return
            fn = self.fn
            name = fn if fn.__class__ is str else name_of(fn)  # the decorator's runs carry the name
            declined = stop in DECLINED
            if not (declined and _noted(error)):
                try:
                    error.add_note(note(state, name))
                except Exception:  # a frozen or hostile exception, a tuple __notes__
                    pass
            if not declined:
                try:
                    setattr(error, GAVE_UP_MARK, True)
                except Exception:
                    pass
            hook = self.policy.on_giveup
            # A first failure the policy declined (a 404, a ValueError, a POST it may not
            # repeat) is the call's answer, not a give-up: the hook hears of it, instruments don't.
            instruments = self.instruments if state.attempt > 1 or not declined else ()
            if hook is not None or instruments:
                happened = event(state, name, self.labels())
                if hook is not None:
                    self._hook(hook, happened)
                for instrument in instruments:
                    call_hook(instrument.on_giveup, happened)
        finally:
            # The call is over. Without this, the error's traceback holds the frame that
            # holds this run, which holds the error: a reference cycle on every give-up.
            state.error = None

    @property
    def exhausted(self) -> bool:
        """Whether the last give-up should mark what is handed back: the policy stopped retrying, not declined."""
        stop = self.state.stop
        return stop is not None and stop not in DECLINED

    def _hook(self, hook: Callable[[RetryEvent], object], ev: RetryEvent) -> None:
        pending = call_hook(hook, ev)
        if pending is not None:
            if not self.asynchronous:
                self.state.error = None
                refuse_async_hook(pending, hook, ev.error)
            self.pending = pending

    async def flush(self, error: BaseException | None) -> None:
        """Await what an ``async def`` hook returned (async faces only, after a retry or give-up)."""
        pending = self.pending
        if pending is not None:
            self.pending = None
            await await_hook(pending, error)

    def labels(self) -> Target:
        """The call in bounded terms, for instruments: its name, unless the caller gave more (HTTP)."""
        target = self.target
        if target is None:
            target = self.target = Target(name_of(self.fn))
        return target

    def succeeded(self) -> None:
        """The call succeeded: count it for the budget and the fleet, and after a retry report a recovery."""
        budget = self.budget
        if budget is not None:
            budget.record_success()
        if self.scope is not None:
            self.scope.succeeded()
        state = self.state
        if self.instruments and state.attempt:  # failed at least once: a recovery (a run can start before that)
            elapsed = self.clock() - state.start
            recovery = Recovery(
                function=name_of(self.fn), target=self.labels(), attempts=state.attempt + 1, elapsed=max(elapsed, 0.0)
            )
            for instrument in self.instruments:
                instrument.on_recovered(recovery)


class _Verdict:
    """A budget whose answer is already known: the fleet scope's, charged with the server's wait."""

    __slots__ = ("allowed",)

    def __init__(self, allowed: bool) -> None:
        self.allowed = allowed

    def record_failure(self) -> bool:
        return self.allowed

    def record_success(self) -> None:
        pass


ALLOW, REFUSE = _Verdict(True), _Verdict(False)
