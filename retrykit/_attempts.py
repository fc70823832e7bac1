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


class Attempt:
    """One attempt of an :meth:`RetryPolicy.attempts` loop: use it as ``with attempt:`` (or ``async with``).

    With a policy that has ``on_result``, hand the block's result to the attempt
    (``attempt.result = value``): a rejected one is retried like a failure, and the
    accepted one stays readable as ``attempt.result`` after the loop.
    """

    __slots__ = ("_loop", "number")

    def __init__(self, loop: AttemptLoop, number: int) -> None:
        self._loop = loop
        self.number: int = number
        """1 for the first try, 2 for the first retry, and so on."""

    def __enter__(self) -> Attempt:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        loop = self._loop
        if exc is None:  # the success path, inlined (speed only): see _ended()
            run = loop._run
            if run is not None:
                run.state.error = None
                run.succeeded()  # the budget's, and the fleet's
            elif loop._policy.budget is not None:
                loop._policy.budget.record_success()
            return False
        return self._exit(exc)

    def _exit(self, exc: BaseException | None) -> bool:
        loop = self._loop
        swallow = self._settle(exc)
        run = loop._run
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
        loop = self._loop
        try:
            swallow = self._settle(exc)
        finally:
            run = loop._run
            if run is not None and run.pending is not None:
                await run.flush(exc)
        return swallow

    def _settle(self, exc: BaseException | None) -> bool:
        """The block ended: True to swallow ``exc`` and go round again."""
        return self._loop._ended(exc)

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
    """An attempt of a policy with ``on_result``: it takes the block's result and has it checked.

    A class of its own so that attempts of other policies carry and check nothing.
    """

    __slots__ = ("_result",)

    @property
    def result(self) -> Any:
        try:
            return self._result
        except AttributeError:
            raise AttributeError(f"no result was handed to attempt {self.number} (attempt.result = value)") from None

    @result.setter
    def result(self, value: Any) -> None:
        self._result = value

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        return self._exit(exc)  # no inlined success path: a result is checked first

    def _settle(self, exc: BaseException | None) -> bool:
        if exc is None:
            try:
                result = self._result
            except AttributeError:
                raise TypeError(
                    f"the policy has on_result, but attempt {self.number} was handed no result: "
                    "set attempt.result = value in the block"
                ) from None
            loop = self._loop
            on_result = loop._policy.on_result
            if on_result is not None and on_result(result):
                loop._rejected(result)  # raises RetriesExhausted if the policy gives up
                return False
        return self._loop._ended(exc)


class AttemptLoop:
    """One loop over a block's attempts: its own count, waits and run."""

    __slots__ = ("_policy", "_name", "_run", "_delay", "_done", "_number", "_asynchronous", "_attempt")

    def __init__(self, policy: Settings, name: str, asynchronous: bool, attempt: type[Attempt] = Attempt) -> None:
        self._policy = policy
        self._name = name
        self._asynchronous = asynchronous
        self._attempt = attempt
        self._run: Run | None = None
        self._delay: float | None = None
        self._done = False
        self._number = 0

    def _ended(self, exc: BaseException | None) -> bool:
        """An attempt's block ended (``exc`` None on success); True to swallow ``exc`` and go round again."""
        if exc is None:
            run = self._run
            if run is not None:
                run.state.error = None  # the last failure's traceback holds the caller's frame: let go
                run.succeeded()  # the budget's, and the fleet's
            elif self._policy.budget is not None:
                self._policy.budget.record_success()
            return False
        if not isinstance(exc, Exception):  # KeyboardInterrupt, cancellation: never retried
            run = self._run
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
        if delay is None:
            return False
        self._delay = delay
        self._done = False
        return True

    def _rejected(self, result: Any) -> None:
        """Record a result on_result rejected, as a retryable failure; raise RetriesExhausted on a give-up."""
        error = RetriesExhausted(result, self._number)
        try:
            if not self._failed(error, True):
                raise error
        finally:
            del error  # its traceback would hold this frame: no cycle through this local

    def _begin(self) -> Attempt:
        if self._number == 0 and (self._policy.deadline is not None or self._policy.fleet is not None):
            # From the loop's first attempt: the deadline's clock, the fleet's first turn.
            self._run = Run(self._policy, self._name, asynchronous=self._asynchronous)
        self._number += 1
        self._delay = None
        self._done = True  # until the attempt reports a retryable failure
        return self._attempt(self, self._number)

    def _waited(self, fault: BaseException, run: Run) -> None:
        """The wait failed (KeyboardInterrupt, cancellation, a raising sleep): keep the failure as context, let go."""
        keep_context(fault, run.state.error)
        run.state.error = None

    def __iter__(self) -> AttemptLoop:
        return self

    def __next__(self) -> Attempt:
        if self._done:
            raise StopIteration
        run = self._run
        if self._delay is not None and run is not None:
            sleep = run.sleep
            if self._number == 1 and sleep is _time_sleep:  # once per loop, before its first wait
                warn_if_blocking(self._name, 3)
            try:
                sleep(self._delay)
            except BaseException as fault:
                self._waited(fault, run)
                raise
        attempt = self._begin()
        run = self._run
        if run is not None and run.scope is not None:
            try:
                run.wait_turn()  # another member's cooldown, or the pace
            except BaseException as fault:
                self._waited(fault, run)
                raise
        return attempt

    def __aiter__(self) -> AttemptLoop:
        return self

    async def __anext__(self) -> Attempt:
        if self._done:
            raise StopAsyncIteration
        run = self._run
        if self._delay is not None and run is not None:
            if run.pending is not None:  # an async on_retry hook, called in a sync ``with``: awaited here
                await run.flush(run.state.error)
            try:
                await run.async_sleep(self._delay)
            except BaseException as fault:
                self._waited(fault, run)
                raise
        attempt = self._begin()
        run = self._run
        if run is not None and run.scope is not None:
            try:
                await run.await_turn()
            except BaseException as fault:
                self._waited(fault, run)
                raise
        return attempt


class Attempts(AttemptLoop):
    """The attempts of one retried block; iterate it with ``for`` or ``async for``.

    Reusable and shareable: the first ``for`` runs on this object itself (the usual
    ``for attempt in policy.attempts():`` makes nothing more), every later one (in
    any thread) on an :class:`AttemptLoop` of its own, so a module-level
    ``ATTEMPTS = policy.attempts()`` runs its block on every loop.
    """

    __slots__ = ("_fresh",)
    _kind: type[Attempt] = Attempt

    def __init__(self, policy: Settings, name: str) -> None:  # AttemptLoop.__init__ inlined: speed only
        self._policy = policy
        self._name = name
        self._asynchronous = False
        self._attempt = self._kind
        self._run = None
        self._delay = None
        self._done = False
        self._number = 0
        self._fresh = [True]  # list.pop() is atomic: exactly one loop gets this object itself

    def __iter__(self) -> AttemptLoop:
        try:
            self._fresh.pop()
        except IndexError:
            return AttemptLoop(self._policy, self._name, False, self._kind)
        return self

    def __aiter__(self) -> AttemptLoop:
        try:
            self._fresh.pop()
        except IndexError:
            return AttemptLoop(self._policy, self._name, True, self._kind)
        self._asynchronous = True
        return self

    def __repr__(self) -> str:
        return f"<Attempts {self._name!r}>"


class CheckedAttempts(Attempts):
    """The attempts of a block retried by a policy with ``on_result``: each takes and checks the block's result."""

    __slots__ = ()
    _kind = _CheckedAttempt
