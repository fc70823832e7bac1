"""Attempt blocks: ``for attempt in policy.attempts(): with attempt: ...`` (and ``async for``)."""

from __future__ import annotations

from types import TracebackType

from ._run import Run, Settings


class Attempt:
    """One attempt of an :meth:`RetryPolicy.attempts` loop: use it as ``with attempt:``."""

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
            budget = self._owner._policy.budget
            if budget is not None:
                budget.record_success()
            return False
        if not isinstance(exc, Exception):
            return False
        return self._owner._failed(exc)

    def __repr__(self) -> str:
        return f"<Attempt {self.number}>"


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

    def _failed(self, error: BaseException) -> bool:
        """Record a failed attempt; True to swallow it and go round again."""
        run = self._run
        if run is None:
            run = self._run = Run(self._policy, self._name)
            delay = run.failed(error, now=run.created)  # made at this failure: one clock read
        else:
            delay = run.failed(error)
        if delay is None:
            return False
        self._delay = delay
        self._done = False
        return True

    def _begin(self) -> Attempt:
        if self._number == 0 and self._policy.deadline is not None:
            self._run = Run(self._policy, self._name)
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
        return self._begin()

    def __aiter__(self) -> Attempts:
        return self

    async def __anext__(self) -> Attempt:
        if self._done:
            raise StopAsyncIteration
        if self._delay is not None and self._run is not None:
            await self._run.async_sleep(self._delay)
        return self._begin()
