"""RetryPolicy and its faces: decorator, call/acall and attempt blocks, all driving one engine."""

from __future__ import annotations

import time

from . import _runtime
from ._backoff import Backoff
from ._classify import is_transient
from ._config import Frozen, callable_or_none, count, number, optional_number
from ._engine import GAVE_UP_MARK, INHERITED, RetryEvent, RetryState, no_retries_left
from ._status import DEFAULT_STATUS_TABLE, StatusTable

TYPE_CHECKING = False
if TYPE_CHECKING:
    import random
    from collections.abc import Awaitable, Callable, Coroutine
    from types import TracebackType
    from typing import Any, ParamSpec, TypeVar, overload

    from ._backoff import BackoffStrategy
    from ._budget import RetryBudget

    P = ParamSpec("P")
    R = TypeVar("R")
    Predicate = Callable[[BaseException], bool]
    On = type[BaseException] | tuple[type[BaseException], ...] | Predicate
else:

    def overload(fn):  # typing.overload, without importing typing at start-up
        return fn


_DEFAULT_BACKOFF = Backoff()


def _exception_types(on: object) -> bool:
    if isinstance(on, type):
        return issubclass(on, BaseException)
    return isinstance(on, tuple) and all(isinstance(t, type) and issubclass(t, BaseException) for t in on)


def _all_exceptions(on: Any) -> bool:
    return all(issubclass(t, Exception) for t in (on if isinstance(on, tuple) else (on,)))


class RetryPolicy(Frozen):
    """How to retry: when, how often, how long to wait. Immutable, and safe to share.

    Use it as a decorator (``@policy`` on sync or async functions), call through it
    (``policy.call(fn, ...)``, ``await policy.acall(fn, ...)``), or retry a block::

        for attempt in policy.attempts():
            with attempt:
                ...

    The defaults are the spec's: 5 retries (6 attempts), ``Backoff()`` (1 s doubling
    to 30 s, plus up to 1 s of jitter), transient failures only, ``Retry-After``
    honoured up to 120 s.
    """

    __slots__ = (
        "max_retries",
        "backoff",
        "on",
        "deadline",
        "max_retry_after",
        "retry_after_jitter",
        "status_table",
        "budget",
        "rng",
        "clock",
        "sleep",
        "async_sleep",
        "on_retry",
        "on_giveup",
        "log",
        "should_retry",
        "_on_types",
        "_listening",
        "_exhausted",
    )
    _fields = (
        "max_retries",
        "backoff",
        "on",
        "deadline",
        "max_retry_after",
        "retry_after_jitter",
        "status_table",
        "budget",
        "rng",
        "clock",
        "sleep",
        "async_sleep",
        "on_retry",
        "on_giveup",
        "log",
    )
    max_retries: int
    backoff: BackoffStrategy
    on: On
    deadline: float | None
    max_retry_after: float | None
    retry_after_jitter: float
    status_table: StatusTable
    budget: RetryBudget | None
    rng: random.Random | None
    clock: Callable[[], float]
    sleep: Callable[[float], object]
    async_sleep: Callable[[float], Awaitable[object]] | None
    on_retry: Callable[[RetryEvent], object] | None
    on_giveup: Callable[[RetryEvent], object] | None
    log: bool
    should_retry: Predicate
    _on_types: type[BaseException] | tuple[type[BaseException], ...] | None
    _listening: bool
    _exhausted: str

    def __init__(
        self,
        *,
        max_retries: int = 5,
        backoff: BackoffStrategy = _DEFAULT_BACKOFF,
        on: On = is_transient,
        deadline: float | None = None,
        max_retry_after: float | None = 120.0,
        retry_after_jitter: float = 1.0,
        status_table: StatusTable = DEFAULT_STATUS_TABLE,
        budget: RetryBudget | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        async_sleep: Callable[[float], Awaitable[object]] | None = None,
        on_retry: Callable[[RetryEvent], object] | None = None,
        on_giveup: Callable[[RetryEvent], object] | None = None,
        log: bool = True,
    ) -> None:
        if not callable(getattr(backoff, "delay", None)):
            raise TypeError(f"backoff must have a delay(failures, rng, previous) method, got {type(backoff).__name__}")
        if not isinstance(status_table, StatusTable):
            raise TypeError(
                f"status_table must be a StatusTable (e.g. DEFAULT_STATUS_TABLE | {{408: True}}), got {type(status_table).__name__}"
            )
        should_retry: Predicate
        if on is is_transient:
            table = status_table

            def should_retry(error: BaseException) -> bool:
                return is_transient(error, table)

        elif _exception_types(on):
            types = on

            def should_retry(error: BaseException) -> bool:
                return isinstance(error, types)  # type: ignore[arg-type]

        elif callable(on) and not isinstance(on, type):
            should_retry = on
        else:
            raise TypeError(
                f"on must be an exception type, a tuple of them, or a predicate taking an exception, got {on!r}"
            )
        if rng is not None and not callable(getattr(rng, "random", None)):
            raise TypeError(f"rng must be a random.Random or None, got {type(rng).__name__}")
        if budget is not None and not callable(getattr(budget, "record_failure", None)):
            raise TypeError(f"budget must be a RetryBudget or None, got {type(budget).__name__}")
        if not isinstance(log, bool):
            raise TypeError(f"log must be a bool, got {type(log).__name__}")
        for name, fn in (("clock", clock), ("sleep", sleep)):
            if not callable(fn):
                raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
        deadline_s = optional_number("deadline", deadline)
        if deadline_s == 0.0:
            raise ValueError("deadline must be > 0 (or None for no deadline), got 0")
        self._init(
            max_retries=count("max_retries", max_retries),
            backoff=backoff,
            on=on,
            deadline=deadline_s,
            max_retry_after=optional_number("max_retry_after", max_retry_after),
            retry_after_jitter=number("retry_after_jitter", retry_after_jitter),
            status_table=status_table,
            budget=budget,
            rng=rng,
            clock=clock,
            sleep=sleep,
            async_sleep=callable_or_none("async_sleep", async_sleep),
            on_retry=callable_or_none("on_retry", on_retry),
            on_giveup=callable_or_none("on_giveup", on_giveup),
            log=log,
            should_retry=should_retry,
            # Precomputed so the engine tests exception types inline, without calling should_retry;
            # only when every type is an Exception, so a match can never be a KeyboardInterrupt.
            _on_types=on if _exception_types(on) and _all_exceptions(on) else None,
            # Whether a retry has an audience (a hook or the log): without one, it formats nothing.
            _listening=on_retry is not None or log,
            _exhausted=no_retries_left(max_retries),  # speed only: the usual give-up formats nothing
        )

    @property
    def max_attempts(self) -> int:
        """``max_retries + 1``: the first try and every retry."""
        return self.max_retries + 1

    # -- decorator ---------------------------------------------------------------

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, R]], /) -> Callable[P, Coroutine[Any, Any, R]]: ...
    @overload
    def __call__(self, fn: Callable[P, R], /) -> Callable[P, R]: ...  # noqa: F811
    @overload
    def __call__(  # noqa: F811
        self,
        fn: None = None,
        /,
        *,
        max_retries: int = ...,
        backoff: BackoffStrategy = ...,
        on: On = ...,
        deadline: float | None = ...,
        max_retry_after: float | None = ...,
        retry_after_jitter: float = ...,
        status_table: StatusTable = ...,
        budget: RetryBudget | None = ...,
        rng: random.Random | None = ...,
        clock: Callable[[], float] = ...,
        sleep: Callable[[float], object] = ...,
        async_sleep: Callable[[float], Awaitable[object]] | None = ...,
        on_retry: Callable[[RetryEvent], object] | None = ...,
        on_giveup: Callable[[RetryEvent], object] | None = ...,
        log: bool = ...,
    ) -> RetryPolicy: ...

    def __call__(self, fn: Any = None, /, **changes: Any) -> Any:  # noqa: F811
        """Decorate ``fn`` (``@policy``), or derive a policy (``@policy(max_retries=3)``)."""
        if fn is None:
            return self.replace(**changes) if changes else self
        if changes:
            raise TypeError("pass either a function to decorate or keyword options, not both")
        if isinstance(fn, type) and issubclass(fn, BaseException):
            raise TypeError(
                f"retry({fn.__name__}) got an exception class where a function was expected; "
                f"to retry on it, write retry(on={fn.__name__})"
            )
        if not callable(fn):
            raise TypeError(f"can only decorate a callable, got {type(fn).__name__}")
        return _decorate(self, fn)

    # -- call faces --------------------------------------------------------------

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``fn(*args, **kwargs)``, retrying it by this policy."""
        run = _Run(self, fn) if self.deadline is not None else None
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            error = exc
        else:
            if self.budget is not None:
                self.budget.record_success()
            return result
        try:
            return (run or _Run(self, fn)).retry_sync(fn, args, kwargs, error)
        finally:
            del error  # the first error's traceback holds this frame: no cycle through this local

    async def acall(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Await ``fn(*args, **kwargs)``, retrying it by this policy."""
        run = _Run(self, fn) if self.deadline is not None else None
        try:
            result = await fn(*args, **kwargs)
        except Exception as exc:
            error = exc
        else:
            if self.budget is not None:
                self.budget.record_success()
            return result
        try:
            return await (run or _Run(self, fn)).retry_async(fn, args, kwargs, error)
        finally:
            del error

    def attempts(self, name: str = "block") -> Attempts:
        """Attempts at a block of code, for ``for``/``async for`` with ``with attempt:`` inside."""
        return Attempts(self, name)

    def schedule(self, seed: int | None = None) -> list[float]:
        """The backoff delays this policy would wait between its attempts (no Retry-After, no deadline)."""
        import random

        rng = random.Random(seed)
        delays: list[float] = []
        previous: float | None = None
        for failures in range(self.max_retries):
            previous = self.backoff.delay(failures, rng, previous)
            delays.append(previous)
        return delays


def _name_of(fn: object) -> str:
    if isinstance(fn, str):
        return fn
    target = getattr(fn, "func", fn)  # functools.partial
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None)
    return name if isinstance(name, str) else type(target).__qualname__


_logger: Any = None


def _log_retry(fn: object, state: RetryState, max_attempts: int) -> None:
    """Log one retry on the "retrykit" logger: one line, no header values, no messages."""
    global _logger
    if _logger is None:  # logging is imported on the first retry, not at start-up
        import logging

        _logger = logging.getLogger("retrykit")
    if _logger.isEnabledFor(30):  # logging.WARNING
        _logger.warning(
            "%s failed on attempt %d/%d (%s); retrying in %.2f s",
            _name_of(fn),
            state.attempt,
            max_attempts,
            state.reason,
            state.delay,
        )


def _call_hook(hook: Callable[[RetryEvent], object], event: RetryEvent) -> None:
    """Call ``on_retry`` or ``on_giveup``; if it raises, its error carries the failure as ``__context__``."""
    try:
        hook(event)
    except BaseException as hook_error:
        if hook_error.__context__ is None and hook_error is not event.error:
            hook_error.__context__ = event.error
        raise


class _Run(RetryState):
    """One call's retry driver, created at its first failure (or at its start, with a deadline).

    It is the engine's per-call state plus the time source: it reads the clock,
    asks the engine, and carries out the outcome's side effects (hooks, logging,
    the give-up note); the faces only call, sleep and loop.
    """

    __slots__ = ("fn", "clock", "source")

    def __init__(self, policy: RetryPolicy, fn: object, budget: RetryBudget | None = None) -> None:
        # The policy's clock and sleeps, unless testing.instant() replaces them all.
        source = self.source = _runtime.override
        if source is None:
            clock = self.clock = policy.clock
            wall = time.time()
        else:
            clock = self.clock = source.clock
            wall = source.wall()
        self.fn = fn
        RetryState.__init__(self, policy, clock(), wall, budget)

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
        return self.wall + (self.clock() - self.start)

    def failed(self, error: BaseException, retryable: bool | None = None) -> float | None:
        """Seconds to wait before the next attempt, or None to give up (note and mark already set)."""
        delay = self.on_failure(error, self.clock(), retryable)
        if delay is None:
            self.gave_up(error)
        elif self.policy._listening:
            self.retried()
        return delay

    def retried(self) -> None:
        """Tell whoever listens about a retry: events and log text exist only for them."""
        policy = self.policy
        if policy.on_retry is not None:
            _call_hook(policy.on_retry, self._event())
        if policy.log:
            _log_retry(self.fn, self, policy.max_retries + 1)

    def gave_up(self, error: BaseException) -> None:
        """Note and mark the error the policy gives up on (unless an inner policy already did)."""
        try:
            if self._stop is not INHERITED:
                error.add_note(self.note(_name_of(self.fn)))
                setattr(error, GAVE_UP_MARK, True)
                if self.policy.on_giveup is not None:
                    _call_hook(self.policy.on_giveup, self._event())
        finally:
            # The call is over. Without this, the error's traceback holds the frame that
            # holds this run, which holds the error: a reference cycle on every give-up.
            self.error = None

    def _event(self) -> RetryEvent:
        assert self.error is not None
        return RetryEvent(
            function=_name_of(self.fn),
            attempt=self.attempt,
            max_attempts=self.policy.max_retries + 1,
            delay=self.delay,
            elapsed=self.elapsed,
            error=self.error,
            reason=self.reason,
            status=self.status,
            stop=self.stop,
        )

    def succeeded(self) -> None:
        budget = self.budget
        if budget is not None:
            budget.record_success()

    def retry_sync(self, fn: Callable[..., R], args: Any, kwargs: Any, error: BaseException) -> R:
        # failed() unrolled, with its names bound once: for speed only, this loop
        # runs once per failed attempt. retry_async is the same loop, awaiting.
        on_failure, clock, sleep, listening = self.on_failure, self.clock, self.sleep, self.policy._listening
        while True:
            delay = on_failure(error, clock())
            if delay is None:
                self.gave_up(error)
                try:
                    raise error
                finally:
                    del error  # no frame -> exception -> traceback -> frame cycle left behind
            if listening:
                self.retried()
            sleep(delay)
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                error = exc
            else:
                self.succeeded()
                return result

    async def retry_async(self, fn: Callable[..., Awaitable[R]], args: Any, kwargs: Any, error: BaseException) -> R:
        on_failure, clock, sleep, listening = self.on_failure, self.clock, self.async_sleep, self.policy._listening
        while True:
            delay = on_failure(error, clock())
            if delay is None:
                self.gave_up(error)
                try:
                    raise error
                finally:
                    del error
            if listening:
                self.retried()
            await sleep(delay)
            try:
                result = await fn(*args, **kwargs)
            except Exception as exc:
                error = exc
            else:
                self.succeeded()
                return result


def _is_async(fn: object) -> bool:
    import inspect

    if inspect.iscoroutinefunction(fn):
        return True
    # A callable object whose __call__ is `async def` is async too.
    dunder_call = getattr(type(fn), "__call__", None)  # noqa: B004 - the method itself, not callability
    return not inspect.isfunction(fn) and not inspect.ismethod(fn) and inspect.iscoroutinefunction(dunder_call)


def _decorate(policy: RetryPolicy, fn: Callable[..., Any]) -> Callable[..., Any]:
    import functools
    import inspect

    name = _name_of(fn)  # computed once here, not at every give-up
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(
            f"cannot retry generator function {_name_of(fn)}: a generator fails while being consumed, "
            "after the call returned; retry the code that consumes it instead"
        )
    if _is_async(fn):
        if policy.deadline is not None or policy.budget is not None:
            # The general path, for a deadline (which needs the start time) or a budget.
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await policy.acall(fn, *args, **kwargs)

        else:

            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                # Inlined rather than calling acall(): one frame less on every call.
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    error = exc
                try:
                    return await _Run(policy, name).retry_async(fn, args, kwargs, error)
                finally:
                    del error  # the first error's traceback holds this frame: no cycle through this local

        return functools.wraps(fn)(async_wrapper)

    if policy.deadline is not None or policy.budget is not None:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return policy.call(fn, *args, **kwargs)

    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # The success path is exactly this try/return: no clock read, no allocation.
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                error = exc
            try:
                return _Run(policy, name).retry_sync(fn, args, kwargs, error)
            finally:
                del error  # the first error's traceback holds this frame: no cycle through this local

    return functools.wraps(fn)(wrapper)


class Attempt:
    """One attempt of an :meth:`RetryPolicy.attempts` loop: use it as ``with attempt:``."""

    __slots__ = ("_owner", "number")

    def __init__(self, owner: Attempts, number: int) -> None:
        self._owner = owner
        self.number = number
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

    def __init__(self, policy: RetryPolicy, name: str) -> None:
        self._policy = policy
        self._name = name
        self._run: _Run | None = None
        self._delay: float | None = None
        self._done = False
        self._number = 0

    def _failed(self, error: BaseException) -> bool:
        """Record a failed attempt; True to swallow it and go round again."""
        if self._run is None:
            self._run = _Run(self._policy, self._name)
        delay = self._run.failed(error)
        if delay is None:
            return False
        self._delay = delay
        self._done = False
        return True

    def _begin(self) -> Attempt:
        if self._number == 0 and self._policy.deadline is not None:
            self._run = _Run(self._policy, self._name)
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


retry = RetryPolicy()
"""The spec's default policy: ``@retry``, ``@retry(max_retries=3, on=MyError)``, ``retry.call(fn)``."""
