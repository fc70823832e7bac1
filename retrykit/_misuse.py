"""Calling mistakes, named: a coroutine where a value was due, a sync callable given to ``acall``, an
async hook where nothing awaits it, and a blocking sleep inside a running event loop."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from ._report import name_of
from ._runtime import in_event_loop


def refuse_async_hook(pending: Awaitable[object], hook: object, error: BaseException) -> None:
    """An async hook on a sync call: close its coroutine (no "never awaited" warning) and say so."""
    close = getattr(pending, "close", None)
    if close is not None:
        close()
    problem = TypeError(
        f"hook {name_of(hook)} is async, but this retry cannot await it (async functions under a policy, "
        "await policy.acall(...) and async attempt blocks do): use a sync hook here"
    )
    problem.__context__ = error
    try:
        raise problem
    finally:
        del problem  # its traceback holds this frame: no cycle through this local


def refuse_coroutine(result: Any, fn: object) -> None:
    """``retry.call(async_fn)``: close the coroutine (no "never awaited" warning) and point to ``acall``."""
    result.close()
    raise TypeError(
        f"{name_of(fn)} returned a coroutine: a sync call cannot retry it; use `await policy.acall(...)` "
        "(or decorate the async function with the policy)"
    )


def check_awaitable(fn: object, args: Any, kwargs: Any, exc: TypeError) -> None:
    """A TypeError from ``await fn(...)`` itself: say so if ``fn`` is not async (it ran once, not retried)."""
    if "can't be used in 'await' expression" in str(exc):
        raise TypeError(
            f"{name_of(fn)} did not return an awaitable: acall() awaits what fn returns; "
            "for a sync function use policy.call(...)"
        ) from exc


def warn_if_blocking(fn: object, stacklevel: int = 4) -> None:
    """Warn that a sync retry is about to ``time.sleep`` inside a running event loop, blocking every task.

    ``stacklevel`` 4 points at the caller of a decorated function; an attempt block passes 3.
    """
    if in_event_loop():
        import warnings

        warnings.warn(
            f"retrykit: {name_of(fn)} is retried with time.sleep inside a running event loop, "
            "which blocks every other task while it waits; retry it asynchronously instead "
            "(an async def under @retry, await policy.acall(...), or async for attempt in policy.attempts())",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
