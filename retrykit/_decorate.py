"""The decorator: a function retried by a policy, sync or async like it, keeping its name, signature and defaults."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from . import _runtime
from ._loops import call_async, call_sync, retry_async, retry_sync
from ._report import name_of
from ._run import Run, Settings


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
