"""Attempt blocks: ``for attempt in policy.attempts(): with attempt: ...`` (and ``async for``)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from ._results import RetriesExhausted
from ._run import Run, Settings


class Attempt:
    """One attempt of an :meth:`RetryPolicy.attempts` loop: use it as ``with attempt:``.

    With a policy that has ``on_result``, hand the block's result to the attempt
    (``attempt.result = value``): a rejected one is retried like a failure, and the
    accepted one stays readable as ``attempt.result`` after the loop.
    """

    __slots__ = ("_owner", "number")

    def __init__(self, owner: Attempts, number: int) -> None:
        self._owner = owner
        self.number: int = number
        """1 for the first try, 2 for the first retry, and so on."""

    def __enter__(self) -> Attempt:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if exc is None:
            owner = self._owner
            run = owner._run
            if run is not None:
                run.succeeded()  # the budget's, and the fleet's
            elif owner._policy.budget is not None:
                owner._policy.budget.record_success()
            return False
        if not isinstance(exc, Exception):
            return False
        return self._owner._failed(exc)

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
        if exc is None:
            try:
                result = self._result
            except AttributeError:
                raise TypeError(
                    f"the policy has on_result, but attempt {self.number} was handed no result: "
                    "set attempt.result = value in the block"
                ) from None
            owner = self._owner
            on_result = owner._policy.on_result
            if on_result is not None and on_result(result):
                owner._rejected(result)  # raises RetriesExhausted if the policy gives up
                return False
        return super().__exit__(exc_type, exc, tb)


class Attempts:
    """The attempts of one retried block; iterate it with ``for`` or ``async for``."""

    __slots__ = ("_policy", "_name", "_run", "_delay", "_done", "_number")

    def __init__(self, policy: Settings, name: str) -> None:
        self._policy = policy
        self._name = name
        self._run: Run | None = None
        self._delay: float | None = None
        self._done = False
        self._number = 0

    def _failed(self, error: BaseException, retryable: bool | None = None) -> bool:
        """Record a failed attempt; True to swallow it and go round again."""
        run = self._run
        if run is None:
            run = self._run = Run(self._policy, self._name)
            delay = run.failed(error, retryable, now=run.created)  # made at this failure: one clock read
        else:
            delay = run.failed(error, retryable)
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
            self._run = Run(self._policy, self._name)  # from the start: the deadline's clock, the fleet's first turn
        self._number += 1
        self._delay = None
        self._done = True  # until the attempt reports a retryable failure
        return Attempt(self, self._number)

    def __iter__(self) -> Attempts:
        return self

    def __next__(self) -> Attempt:
        if self._done:
            raise StopIteration
        if self._delay is not None and self._run is not None:
            self._run.sleep(self._delay)
        attempt = self._begin()
        run = self._run
        if run is not None and run.scope is not None:
            run.wait_turn()
        return attempt

    def __aiter__(self) -> Attempts:
        return self

    async def __anext__(self) -> Attempt:
        if self._done:
            raise StopAsyncIteration
        if self._delay is not None and self._run is not None:
            await self._run.async_sleep(self._delay)
        attempt = self._begin()
        run = self._run
        if run is not None and run.scope is not None:
            await run.await_turn()
        return attempt


class CheckedAttempts(Attempts):
    """The attempts of a block retried by a policy with ``on_result``: each takes and checks the block's result."""

    __slots__ = ()

    def _begin(self) -> Attempt:
        return _CheckedAttempt(self, Attempts._begin(self).number)  # the plain one is dropped: bookkeeping only
