"""RetryPolicy: the configuration (validated once, frozen, shareable) and the faces it hands out."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, overload

from . import _decorate, _engine, _loops
from ._attempts import Attempts, CheckedAttempts
from ._backoff import Backoff, BackoffStrategy, Rng
from ._budget import RetryBudget
from ._classify import is_transient
from ._config import Duration, Frozen, callable_or_none, count, duration, optional_duration
from ._fleet import Fleet
from ._report import RetryEvent
from ._report import name_of as _name
from ._scope import Scope
from ._status import DEFAULT_STATUS_TABLE, StatusTable

P = ParamSpec("P")
R = TypeVar("R")
Predicate = Callable[[BaseException], bool]
On = type[BaseException] | tuple[type[BaseException], ...] | Callable[[BaseException], bool]

_DEFAULT_BACKOFF = Backoff()


def _exception_types(on: object) -> tuple[type[BaseException], ...] | None:
    """``on`` as a tuple of exception types, or None if it is not one type or a tuple of them."""
    types = on if isinstance(on, tuple) else (on,)
    if all(isinstance(t, type) and issubclass(t, BaseException) for t in types):
        return types
    return None


class RetryPolicy(Frozen):
    """How to retry: when, how often, how long to wait. Immutable, and safe to share.

    Use it as a decorator (``@policy`` on sync or async functions), call through it
    (``policy.call(fn, ...)``, ``await policy.acall(fn, ...)``), or retry a block::

        for attempt in policy.attempts():
            with attempt:
                ...

    ``on_result=predicate`` retries a call whose result the predicate rejects, like
    a retryable failure; out of retries or time, ``RetriesExhausted`` carries the
    last result. Polling is a policy with a ``deadline`` and ``max_retries=None``.

    The defaults are the error model's (docs/error-model.md): 5 retries (6 attempts), ``Backoff()`` (1 s doubling
    to 30 s, plus up to 1 s of jitter), transient failures only, ``Retry-After``
    honoured up to 120 s. Besides its own ``on_retry``/``on_giveup`` hooks, every
    policy reports to the global instruments (:func:`retrykit.set_instruments`);
    ``log=False`` skips those that write log lines.
    """

    __slots__ = (
        "max_retries",
        "backoff",
        "on",
        "on_result",
        "deadline",
        "max_retry_after",
        "retry_after_jitter",
        "status_table",
        "budget",
        "fleet",
        "rng",
        "clock",
        "sleep",
        "async_sleep",
        "on_retry",
        "on_giveup",
        "log",
        "retry_types",
        "_predicate",
    )
    max_retries: int | None
    backoff: BackoffStrategy
    on: On
    on_result: Callable[[Any], bool] | None
    deadline: float | None
    max_retry_after: float | None
    retry_after_jitter: float
    status_table: StatusTable
    budget: RetryBudget | None
    fleet: Scope | None
    rng: Rng | None
    clock: Callable[[], float]
    sleep: Callable[[float], object]
    async_sleep: Callable[[float], Awaitable[object]] | None
    on_retry: Callable[[RetryEvent], object] | None
    on_giveup: Callable[[RetryEvent], object] | None
    log: bool
    retry_types: tuple[type[Exception], ...] | None
    """The exception types ``on`` names, when they are all ``Exception`` subclasses (tested inline)."""
    _predicate: Predicate

    def __init__(
        self,
        *,
        max_retries: int | None = 5,
        backoff: BackoffStrategy = _DEFAULT_BACKOFF,
        on: On = is_transient,
        on_result: Callable[[Any], bool] | None = None,
        deadline: Duration | None = None,
        max_retry_after: Duration | None = 120.0,
        retry_after_jitter: Duration = 1.0,
        status_table: StatusTable = DEFAULT_STATUS_TABLE,
        budget: RetryBudget | None = None,
        fleet: Scope | None = None,
        rng: Rng | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        async_sleep: Callable[[float], Awaitable[object]] | None = None,
        on_retry: Callable[[RetryEvent], object] | None = None,
        on_giveup: Callable[[RetryEvent], object] | None = None,
        log: bool = True,
    ) -> None:
        for label, value in (("backoff", backoff), ("rng", rng), ("budget", budget)):
            if isinstance(value, type):  # backoff=FullJitter: its delay() would fail at the first retry
                raise TypeError(f"{label} must be an instance, got the class {value.__name__}; write {label}={value.__name__}()")
        if not callable(getattr(backoff, "delay", None)):
            raise TypeError(f"backoff must have a delay(failures, rng, previous) method, got {type(backoff).__name__}")
        if not isinstance(status_table, StatusTable):
            raise TypeError(
                f"status_table must be a StatusTable (e.g. DEFAULT_STATUS_TABLE | {{408: True}}), got {type(status_table).__name__}"
            )
        types = _exception_types(on)
        predicate: Predicate
        if on is is_transient:
            table = status_table

            def predicate(error: BaseException) -> bool:
                return is_transient(error, table)

        elif types is not None:

            def predicate(error: BaseException) -> bool:
                return isinstance(error, types)

        elif callable(on) and not isinstance(on, type):
            predicate = on
        else:
            raise TypeError(
                f"on must be an exception type, a tuple of them, or a predicate taking an exception, got {on!r}"
            )
        if rng is not None and not callable(getattr(rng, "random", None)):
            raise TypeError(f"rng must be a random.Random or None, got {type(rng).__name__}")
        if budget is not None and not callable(getattr(budget, "record_failure", None)):
            raise TypeError(f"budget must be a RetryBudget or None, got {type(budget).__name__}")
        if fleet is not None and not isinstance(fleet, Scope):
            hint = ' (a policy takes one scope: fleet.scope("image-api"))' if isinstance(fleet, Fleet) else ""
            raise TypeError(f"fleet must be a fleet scope or None, got {type(fleet).__name__}{hint}")
        if not isinstance(log, bool):
            raise TypeError(f"log must be a bool, got {type(log).__name__}")
        for name, fn in (("clock", clock), ("sleep", sleep)):
            if not callable(fn):
                raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
        if sleep is not time.sleep and _decorate.is_async(sleep):  # sleep=asyncio.sleep would return a coroutine and never wait
            raise TypeError(f"sleep must be a sync function; {_name(sleep)} is async: pass it as async_sleep=")
        if async_sleep is not None and type(async_sleep).__name__ == "builtin_function_or_method":
            # A builtin cannot be an async function: async_sleep=time.sleep would block, then fail to be awaited.
            raise TypeError(
                f"async_sleep must be an async function (such as asyncio.sleep), got the sync builtin {_name(async_sleep)}"
            )
        deadline = optional_duration("deadline", deadline, minimum=-math.inf)
        if deadline is not None and deadline <= 0.0:  # one wording for 0 and for -5
            raise ValueError(f"deadline must be > 0 (or None for no deadline), got {deadline:g}")
        if max_retries is None and deadline is None:
            raise ValueError(
                "max_retries=None (retry until the deadline, e.g. to poll) needs a deadline: "
                "set deadline=, or a number of retries"
            )
        # The rest of the parameters, validated (or converted to seconds) in place, then stored by name.
        if max_retries is not None:
            max_retries = count("max_retries", max_retries)
        on_result = callable_or_none("on_result", on_result)
        max_retry_after = optional_duration("max_retry_after", max_retry_after)
        retry_after_jitter = duration("retry_after_jitter", retry_after_jitter)
        async_sleep = callable_or_none("async_sleep", async_sleep)
        on_retry = callable_or_none("on_retry", on_retry)
        on_giveup = callable_or_none("on_giveup", on_giveup)
        self._init_fields(
            RetryPolicy,
            locals(),
            # Only when every type is an Exception, so a match can never be a KeyboardInterrupt.
            retry_types=types if types is not None and all(issubclass(t, Exception) for t in types) else None,
            _predicate=predicate,
        )

    @property
    def max_attempts(self) -> int | None:
        """``max_retries + 1``: the first try and every retry (None: as many as the deadline allows)."""
        return None if self.max_retries is None else self.max_retries + 1

    def should_retry(self, error: BaseException) -> bool:
        """Whether ``on`` selects ``error`` (before counting attempts, deadlines or budgets)."""
        return self._predicate(error)

    # -- decorator ---------------------------------------------------------------

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, R]], /) -> Callable[P, Coroutine[Any, Any, R]]: ...
    @overload
    def __call__(self, fn: Callable[P, R], /) -> Callable[P, R]: ...
    @overload
    def __call__(
        self,
        fn: None = None,
        /,
        *,
        max_retries: int | None = ...,
        backoff: BackoffStrategy = ...,
        on: On = ...,
        on_result: Callable[[Any], bool] | None = ...,
        deadline: Duration | None = ...,
        max_retry_after: Duration | None = ...,
        retry_after_jitter: Duration = ...,
        status_table: StatusTable = ...,
        budget: RetryBudget | None = ...,
        fleet: Scope | None = ...,
        rng: Rng | None = ...,
        clock: Callable[[], float] = ...,
        sleep: Callable[[float], object] = ...,
        async_sleep: Callable[[float], Awaitable[object]] | None = ...,
        on_retry: Callable[[RetryEvent], object] | None = ...,
        on_giveup: Callable[[RetryEvent], object] | None = ...,
        log: bool = ...,
    ) -> RetryPolicy: ...

    def __call__(self, fn: Any = None, /, **changes: Any) -> Any:
        """Decorate ``fn`` (``@policy``), or derive a policy (``@policy(max_retries=3)``)."""
        if fn is None:
            return self.replace(**changes) if changes else self
        if changes:
            raise TypeError("pass either a function to decorate or keyword options, not both")
        types = _exception_types(fn)
        if types is not None:
            names = ", ".join(t.__name__ for t in types)
            written = f"({names})" if isinstance(fn, tuple) else names
            what = "exception classes" if isinstance(fn, tuple) else "an exception class"
            raise TypeError(
                f"retry({written}) got {what} where a function was expected; to retry on it, write retry(on={written})"
            )
        if not callable(fn) and not isinstance(fn, classmethod):
            raise TypeError(f"can only decorate a callable, got {type(fn).__name__}")
        return _decorate.decorate(self, fn)

    # -- call faces --------------------------------------------------------------

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``fn(*args, **kwargs)``, retrying it by this policy."""
        return _loops.call_sync(self, fn, args, kwargs)

    async def acall(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Await ``fn(*args, **kwargs)``, retrying it by this policy."""
        return await _loops.call_async(self, fn, args, kwargs)

    def attempts(self, name: str = "block") -> Attempts:
        """Attempts at a block of code, for ``for``/``async for`` with ``with attempt:`` inside."""
        # A policy with on_result gets attempts that take and check the block's result; the others pay nothing.
        return Attempts(self, name) if self.on_result is None else CheckedAttempts(self, name)

    def schedule(self, seed: int | None = None) -> list[float]:
        """The backoff delays this policy would wait between its attempts (no Retry-After, no deadline).

        Without a retry count (``max_retries=None``), the delays the deadline allows, the calls taking no time.
        """
        import random

        rules = self.replace(rng=random.Random(seed))
        if self.max_retries is not None:
            rules = rules.replace(deadline=None)
        return _engine.schedule(rules, ConnectionError())


retry: RetryPolicy = RetryPolicy()
"""The error model's default policy: ``@retry``, ``@retry(max_retries=3, on=MyError)``, ``retry.call(fn)``."""
