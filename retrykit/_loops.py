"""The sync and async faces, side by side: the first try, the retry loop, and the decorator that picks them."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from types import CoroutineType
from typing import Any, TypeVar

from . import _runtime
from ._engine import Stop
from ._misuse import check_awaitable, refuse_coroutine, warn_if_blocking
from ._report import keep_context, name_of
from ._results import RetriesExhausted
from ._run import Run, Settings

R = TypeVar("R")
_time_sleep = time.sleep  # the one sleep that blocks an event loop's thread (a custom sleep is the user's call)


def _start(policy: Settings) -> float | None:
    """The call's start on the policy's clock (or instant()'s), read only when a deadline needs it."""
    if policy.deadline is None:
        return None
    return (_runtime.override or policy).clock()


# -- sync ------------------------------------------------------------------------


def call_sync(policy: Settings, fn: Callable[..., R], args: Any, kwargs: Any, name: object = None) -> R:
    """The first try, then :func:`retry_sync` after a failure."""
    start = _start(policy)  # a deadline counts from the start of the call
    scope = policy.fleet
    if scope is not None:  # the fleet's cooldown and pace apply to the first try too
        scope.wait_turn((_runtime.override or policy).sleep)
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:
        error = exc
    else:
        on_result = policy.on_result
        if on_result is None or not on_result(result):
            if result.__class__ is CoroutineType:  # one pointer test: retry.call(async_fn) ran nothing
                refuse_coroutine(result, fn)
            if policy.budget is not None:
                policy.budget.record_success()
            if scope is not None:
                scope.succeeded()
            return result
        error = RetriesExhausted(result, 1)
    try:
        return retry_sync(Run(policy, name or fn, start=start), fn, args, kwargs, error)
    finally:
        del error  # the first error's traceback holds this frame: no cycle through this local


def retry_sync(run: Run, fn: Callable[..., R], args: Any, kwargs: Any, error: BaseException) -> R:
    """Ask, wait, try again, until a success or a give-up (which re-raises the error itself).

    A result ``on_result`` rejects is the failure of its attempt: a ``RetriesExhausted``
    decided as retryable, which is what the call raises if the policy gives up on it.
    Every exit (success, give-up, a raising hook or sleep, KeyboardInterrupt while
    waiting) lets go of the last error, so its traceback (which holds this frame)
    leaves no reference cycle behind.
    """
    # Run.failed() unrolled, with its names bound once: for speed only, this loop runs
    # once per failed attempt. retry_async is the same loop, awaiting.
    state, clock, sleep, listening, budget, scope = run.state, run.clock, run.sleep, run.listening, run.budget, run.scope
    decide, stop, on_result = state.decide, Stop, run.policy.on_result
    now = run.created  # the run was made at this failure
    rejected = True if error.__class__ is RetriesExhausted else None  # None: `on` decides
    if sleep is _time_sleep:  # once per failing call, not per retry
        warn_if_blocking(run.fn)
    try:
        while True:
            delay = decide(error, now, rejected)
            if scope is not None:
                delay = run.share()
            elif budget is not None:
                delay = state.charge(budget)
            if delay.__class__ is stop:  # not isinstance(): one attribute read, on every failure
                run.gave_up(error)
                raise error
            if listening:
                run.retried()
            try:
                sleep(delay)  # type: ignore[arg-type]
                if scope is not None:
                    run.wait_turn()  # another member's cooldown, or the pace (the server's wait was just slept)
            except BaseException as fault:  # KeyboardInterrupt, or a sleep that fails: keep what it waited after
                keep_context(fault, error)
                raise
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                error = exc
                rejected = None
            else:
                if on_result is None or not on_result(result):
                    run.succeeded()
                    return result
                error = RetriesExhausted(result, state.attempt + 1)
                rejected = True
            now = clock()
    finally:
        state.error = None
        del error  # no frame -> exception -> traceback -> frame cycle left behind


# -- async -----------------------------------------------------------------------


async def call_async(
    policy: Settings, fn: Callable[..., Awaitable[R]], args: Any, kwargs: Any, name: object = None
) -> R:
    """:func:`call_sync`, awaiting; ``fn`` may be any callable that returns an awaitable."""
    start = _start(policy)  # a deadline counts from the start of the call
    scope = policy.fleet
    if scope is not None:
        override = _runtime.override
        await scope.await_turn(override.async_sleep if override else policy.async_sleep or _runtime.framework_sleep)
    try:
        result = await fn(*args, **kwargs)
    except Exception as exc:
        if exc.__class__ is TypeError and exc.__traceback__ is not None and exc.__traceback__.tb_next is None:
            check_awaitable(fn, args, kwargs, exc)  # raised by the await itself: fn is not async
        error = exc
    else:
        on_result = policy.on_result
        if on_result is None or not on_result(result):
            if policy.budget is not None:
                policy.budget.record_success()
            if scope is not None:
                scope.succeeded()
            return result
        error = RetriesExhausted(result, 1)
    try:
        return await retry_async(Run(policy, name or fn, start=start, asynchronous=True), fn, args, kwargs, error)
    finally:
        del error


async def retry_async(run: Run, fn: Callable[..., Awaitable[R]], args: Any, kwargs: Any, error: BaseException) -> R:
    """:func:`retry_sync`, awaiting the call, the sleep and ``async def`` hooks."""
    state, clock, sleep, listening, budget, scope = run.state, run.clock, run.async_sleep, run.listening, run.budget, run.scope
    decide, stop, on_result = state.decide, Stop, run.policy.on_result
    now = run.created  # the run was made at this failure
    rejected = True if error.__class__ is RetriesExhausted else None  # None: `on` decides
    waiting: Awaitable[object] | None = None
    try:
        while True:
            delay = decide(error, now, rejected)
            if scope is not None:
                delay = await run.ashare()
            elif budget is not None:
                delay = state.charge(budget)
            if delay.__class__ is stop:
                run.gave_up(error)
                if run.pending is not None:
                    await run.flush(error)
                raise error
            if listening:
                run.retried()
                if run.pending is not None:
                    await run.flush(error)
            try:
                waiting = sleep(delay)  # type: ignore[arg-type]
                await waiting
                if scope is not None:
                    await run.await_turn()
            except BaseException as fault:  # cancellation, or a sleep that fails: keep what it waited after
                keep_context(fault, error)
                if fault.__class__ is TypeError and not hasattr(type(waiting), "__await__"):
                    raise TypeError(f"async_sleep {name_of(sleep)} returned {type(waiting).__name__}, not an awaitable") from fault
                raise
            try:
                result = await fn(*args, **kwargs)
            except Exception as exc:
                error = exc
                rejected = None
            else:
                if on_result is None or not on_result(result):
                    run.succeeded()
                    return result
                error = RetriesExhausted(result, state.attempt + 1)
                rejected = True
            now = clock()
    finally:
        state.error = None
        waiting = None
        del error


# -- the decorator ---------------------------------------------------------------


def is_async(fn: object) -> bool:
    """Whether calling ``fn`` gives a coroutine: an ``async def``, or an object whose ``__call__`` is one."""
    import inspect  # here, not at start-up: inspect costs more to import than all of retrykit

    if inspect.iscoroutinefunction(fn):
        return True
    dunder_call = getattr(type(fn), "__call__", None)  # noqa: B004 - the method itself, not callability
    return not inspect.isfunction(fn) and not inspect.ismethod(fn) and inspect.iscoroutinefunction(dunder_call)


def decorate(policy: Settings, fn: Any) -> Any:
    """``fn`` retried by ``policy``, sync or async like ``fn``, with its name, docstring, signature and defaults.

    Above ``@staticmethod`` or ``@classmethod``, the function inside is retried and
    rewrapped, so it stays a static or class method.
    """
    if isinstance(fn, (staticmethod, classmethod)):
        return type(fn)(decorate(policy, fn.__func__))
    wrapped = _decorate(policy, fn)
    # functools.wraps copies neither: introspection (and tools that read them) see fn's defaults.
    defaults, kwdefaults = getattr(fn, "__defaults__", None), getattr(fn, "__kwdefaults__", None)
    if isinstance(defaults, tuple):
        wrapped.__defaults__ = defaults
    if isinstance(kwdefaults, dict):
        wrapped.__kwdefaults__ = kwdefaults
    return wrapped


def _decorate(policy: Settings, fn: Callable[..., Any]) -> Any:
    import inspect

    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(
            f"cannot retry generator function {name_of(fn)}: a generator fails while being consumed, "
            "after the call returned; retry the code that consumes it instead"
        )
    name = name_of(fn)  # computed once here, not at every give-up
    if policy.on_result is not None or policy.fleet is not None:
        # Results are checked, and a fleet's turn taken, in call_sync/call_async, so the wrappers
        # below stay free of them: a policy without on_result or a fleet pays nothing for either.
        if is_async(fn):

            async def async_checking(*args: Any, **kwargs: Any) -> Any:
                return await call_async(policy, fn, args, kwargs, name)

            return functools.wraps(fn)(async_checking)

        def checking(*args: Any, **kwargs: Any) -> Any:
            return call_sync(policy, fn, args, kwargs, name)

        return functools.wraps(fn)(checking)
    # Without a deadline (which needs the start time) or a budget (which counts successes),
    # the first try is inlined: the success path is then exactly a try/return, no call and
    # no allocation, which is what makes it cheaper than a hand-written loop.
    deadline, budget, clock = policy.deadline, policy.budget, policy.clock
    general = deadline is not None or budget is not None
    if is_async(fn):
        if general:

            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                # call_async() inlined (one frame less per call), with the policy's choices bound once.
                start = None if deadline is None else (clock() if _runtime.override is None else _runtime.override.clock())
                try:
                    result = await fn(*args, **kwargs)
                except Exception as exc:
                    error = exc
                else:
                    if budget is not None:
                        budget.record_success()
                    return result
                try:
                    return await retry_async(Run(policy, name, start=start, asynchronous=True), fn, args, kwargs, error)
                finally:
                    del error

        else:

            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    error = exc
                try:
                    return await retry_async(Run(policy, name, asynchronous=True), fn, args, kwargs, error)
                finally:
                    del error  # the first error's traceback holds this frame: no cycle through this local

        return functools.wraps(fn)(async_wrapper)

    for label in ("on_retry", "on_giveup"):
        hook = getattr(policy, label)
        if hook is not None and is_async(hook):
            raise TypeError(
                f"{label}={name_of(hook)} is an async hook, but {name}() is sync: nothing can await it; "
                "use a sync hook, or retry an async function"
            )
    if general:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # call_sync() inlined (one frame less per call), with the policy's choices bound once.
            start = None if deadline is None else (clock() if _runtime.override is None else _runtime.override.clock())
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                error = exc
            else:
                if budget is not None:
                    budget.record_success()
                return result
            try:
                return retry_sync(Run(policy, name, start=start), fn, args, kwargs, error)
            finally:
                del error

    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                error = exc
            try:
                return retry_sync(Run(policy, name), fn, args, kwargs, error)
            finally:
                del error  # the first error's traceback holds this frame: no cycle through this local

    return functools.wraps(fn)(wrapper)
