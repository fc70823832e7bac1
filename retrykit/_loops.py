"""The sync and async faces, side by side: the first try, the retry loop, and the decorator that picks them."""

from __future__ import annotations

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
    state, clock, listening, budget, scope, policy = run.state, run.clock, run.listening, run.budget, run.scope, run.policy
    decide, stop, on_result, source = state.decide, Stop, policy.on_result, run.source
    sleep = policy.sleep if source is None else source.sleep  # Run.sleep inlined
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
