"""Attempt blocks: ``for attempt in policy.attempts(): with attempt: ...`` (and ``async for``, ``async with``)."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from ._misuse import refuse_async_hook, warn_if_blocking
from ._report import keep_context
from ._results import RetriesExhausted
from ._run import Run, Settings

_time_sleep = time.sleep
_UNSET: Any = object()  # no result handed to a checked attempt yet


class Attempt:
    """The attempts of one loop over a block: use each as ``with attempt:`` (or ``async with``).

    One object per loop, handed out once per attempt: it is the loop's iterator, and
    ``number`` is the attempt now running. Each loop has its own (``Attempts`` is
    reusable), so loops in several threads never share one.

    With a policy that has ``on_result``, hand the block's result to the attempt
    (``attempt.result = value``): a rejected one is retried like a failure, and the
    accepted one stays readable as ``attempt.result`` after the loop.
    """

    # One object for the loop and its attempts (not an iterator making an attempt each
    # time): a block that succeeds first time makes one object and calls no __init__ twice.
    __slots__ = ("_policy", "_name", "_asynchronous", "_run", "_delay", "number")

    def __init__(self, policy: Settings, name: str, asynchronous: bool) -> None:
        self._policy = policy
        self._name = name
        self._asynchronous = asynchronous
        self._run: Run | None = None
        self._delay: float | None = None  # the wait before the next attempt: set only by a failure to retry
        self.number: int = 0
        """1 for the first try, 2 for the first retry, and so on."""

    # -- the loop: each step counts an attempt, after its wait -------------------------------------

    def __iter__(self) -> Attempt:
        return self

    def __next__(self) -> Attempt:
        delay = self._delay
        if delay is None:
            if self.number:  # the last attempt succeeded, or its failure was not retried
                raise StopIteration
            if self._policy.deadline is None and self._policy.fleet is None:  # speed only: the usual first try
                self.number = 1
                return self
        run = self._step()
        if run is not None:
            try:
                if delay is not None:
                    sleep = run.sleep
                    if sleep is _time_sleep and self.number == 1:  # once per loop, before its first wait
                        warn_if_blocking(self._name, 3)
                    sleep(delay)
                if run.scope is not None:
                    run.wait_turn()  # another member's cooldown, or the pace
            except BaseException as fault:
                self._waited(fault, run)
                raise
            # The failure was waited after: let go of it, so a loop left before the next ``with``
            # (break, return) leaves no cycle through its traceback, which holds the caller's frame.
            run.state.error = None
        self.number += 1  # after the wait: an interrupted one starts no attempt
        return self

    def __aiter__(self) -> Attempt:
        return self

    async def __anext__(self) -> Attempt:
        delay = self._delay
        if delay is None and self.number:
            raise StopAsyncIteration
        run = self._step()
        if run is not None:
            try:
                if delay is not None and run.pending is not None:  # an async on_retry hook, called in a sync ``with``
                    await run.flush(run.state.error)
                if delay is not None:
                    await run.async_sleep(delay)
                if run.scope is not None:
                    await run.await_turn()
            except BaseException as fault:
                self._waited(fault, run)
                raise
            run.state.error = None  # waited after: let go (see __next__)
        self.number += 1
        return self

    def _step(self) -> Run | None:
        """Before the next attempt (counted once its wait is over): the run when there is a wait or a turn to take."""
        self._delay = None
        if not self.number:
            policy = self._policy
            if policy.deadline is None and policy.fleet is None:
                return None
            # From the loop's first attempt: the deadline's clock, the fleet's first turn.
            run = self._run = Run(policy, self._name, asynchronous=self._asynchronous)
            return run if run.scope is not None else None
        return self._run

    def _waited(self, fault: BaseException, run: Run) -> None:
        """The wait failed (KeyboardInterrupt, cancellation, a raising sleep or hook): keep the failure as context, let go."""
        keep_context(fault, run.state.error)
        run.state.error = None

    # -- the block: each ``with attempt:`` settles one attempt -------------------------------------

    def __enter__(self) -> Attempt:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if exc is None:  # the success path, inlined (speed only): see _ended()
            run = self._run
            if run is not None:
                run.state.error = None
                run.succeeded()  # the budget's, and the fleet's
            elif self._policy.budget is not None:
                self._policy.budget.record_success()
            return False
        return self._exit(exc)

    def _exit(self, exc: BaseException | None) -> bool:
        swallow = self._settle(exc)
        run = self._run
        if run is not None and run.pending is not None and not swallow:
            # An async hook on a give-up, in a sync ``with`` (async loop): nothing can await it here.
            pending, run.pending = run.pending, None
            assert exc is not None
            refuse_async_hook(pending, run.policy.on_giveup, exc)
        return swallow

    async def __aenter__(self) -> Attempt:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        try:
            swallow = self._settle(exc)
        finally:
            run = self._run
            if run is not None and run.pending is not None:
                try:
                    await run.flush(exc)
                except BaseException:  # the hook raised: the loop ends, let go of the failure (no cycle via the caller)
                    run.state.error = None
                    raise
        return swallow

    def _settle(self, exc: BaseException | None) -> bool:
        """The block ended: True to swallow ``exc`` and go round again."""
        return self._ended(exc)

    def _ended(self, exc: BaseException | None) -> bool:
        """An attempt's block ended (``exc`` None on success); True to swallow ``exc`` and go round again."""
        run = self._run
        if exc is None:
            if run is not None:
                run.state.error = None  # the last failure's traceback holds the caller's frame: let go
                run.succeeded()  # the budget's, and the fleet's
            elif self._policy.budget is not None:
                self._policy.budget.record_success()
            return False
        if not isinstance(exc, Exception):  # KeyboardInterrupt, cancellation: never retried
            if run is not None:
                run.state.error = None
            return False
        return self._failed(exc)

    def _failed(self, error: BaseException, retryable: bool | None = None) -> bool:
        """Record a failed attempt; True to swallow it and go round again."""
        run = self._run
        try:
            if run is None:
                run = self._run = Run(self._policy, self._name, asynchronous=self._asynchronous)
                delay = run.failed(error, retryable, now=run.created)  # made at this failure: one clock read
            else:
                delay = run.failed(error, retryable)
        except BaseException:  # a raising hook ends the loop: let go of the failure (no cycle via the caller)
            if run is not None:
                run.state.error = None
            raise
        self._delay = delay
        return delay is not None

    @property
    def result(self) -> Any:
        """The block's result, as handed to the attempt (only a policy with ``on_result`` takes one)."""
        raise AttributeError(f"no result was handed to attempt {self.number} (attempt.result = value)")

    @result.setter
    def result(self, value: Any) -> None:
        raise TypeError("the policy has no on_result: a result handed to the attempt would never be checked")

    def __repr__(self) -> str:
        return f"<Attempt {self.number}>"


class _CheckedAttempt(Attempt):
    """The attempts of a policy with ``on_result``: each takes the block's result and has it checked.

    A class of its own so that attempts of other policies carry and check nothing.
    """

    __slots__ = ("_result",)

    def __init__(self, policy: Settings, name: str, asynchronous: bool) -> None:
        super().__init__(policy, name, asynchronous)
        self._result = _UNSET

    @property
    def result(self) -> Any:
        result = self._result
        if result is _UNSET:
            raise AttributeError(f"no result was handed to attempt {self.number} (attempt.result = value)")
        return result

    @result.setter
    def result(self, value: Any) -> None:
        self._result = value

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        return self._exit(exc)  # no inlined success path: a result is checked first

    def _settle(self, exc: BaseException | None) -> bool:
        result, self._result = self._result, _UNSET  # each attempt hands its own result
        if exc is None:
            if result is _UNSET:
                raise TypeError(
                    f"the policy has on_result, but attempt {self.number} was handed no result: "
                    "set attempt.result = value in the block"
                )
            on_result = self._policy.on_result
            if on_result is None or not on_result(result):
                self._result = result  # accepted: readable after the loop
            else:
                self._rejected(result)  # raises RetriesExhausted if the policy gives up
                return False
        return self._ended(exc)

    def _rejected(self, result: Any) -> None:
        """Record a result on_result rejected, as a retryable failure; raise RetriesExhausted on a give-up."""
        error = RetriesExhausted(result, self.number)
        try:
            if not self._failed(error, True):
                raise error
        finally:
            del error  # its traceback would hold this frame: no cycle through this local


class Attempts:
    """The attempts of one retried block; iterate it with ``for`` or ``async for``.

    Reusable and shareable: each ``for`` (in any thread) runs a loop of its own, so a
    module-level ``ATTEMPTS = policy.attempts()`` runs its block on every loop.
    """

    __slots__ = ("_policy", "_name")
    _kind: type[Attempt] = Attempt

    def __init__(self, policy: Settings, name: str) -> None:
        self._policy = policy
        self._name = name

    def __iter__(self) -> Attempt:
        return self._kind(self._policy, self._name, False)

    def __aiter__(self) -> Attempt:
        return self._kind(self._policy, self._name, True)

    def __repr__(self) -> str:
        return f"<Attempts {self._name!r}>"


class CheckedAttempts(Attempts):
    """The attempts of a block retried by a policy with ``on_result``: each takes and checks the block's result."""

    __slots__ = ()
    _kind = _CheckedAttempt
