"""The adapters' two request loops, side by side: send, let the request's driver decide, release, wait.

Each adapter supplies how to send once, read a response's status and headers, and
drain-and-release it (returning up to 64 KiB of body, for the typed error). Every
decision, the attempt's span and a retried error's frames are the driver's
(:class:`~retrykit._http.RequestRetry`); the loops only send, await, drain and wait.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._http import RequestRetry

R = TypeVar("R")


def drive(
    call: RequestRetry,
    send: Callable[[], R],
    status: Callable[[R], int],
    headers: Callable[[R], object],
    drain: Callable[[R], bytes],
) -> R:
    """Send until a response is handed back or an error re-raised."""
    scope = call.scope
    tracing = call.tracing  # instruments that trace each attempt: usually none
    while True:
        if scope is not None:  # the host's cooldown (another caller's 429) and pace, before every send
            scope.wait_turn(call.sleep)
        if tracing:
            call.began()
        try:
            response = send()
        except BaseException as error:
            delay = call.check_error(error)  # None for a BaseException that is not an Exception too
            if delay is None:
                raise
        else:
            try:
                delay = call.check_response(status(response), headers(response), response)
            except BaseException:  # a hook raised: the response goes to nobody, its connection back to the pool
                drain(response)
                raise
            if delay is None:
                if call.should_raise():
                    raise call.final_error(drain(response), headers(response))
                return response
            drain(response)
        call.sleep(delay)


async def adrive(
    call: RequestRetry,
    send: Callable[[], Awaitable[R]],
    status: Callable[[R], int],
    headers: Callable[[R], object],
    drain: Callable[[R], Awaitable[bytes]],
) -> R:
    """:func:`drive`, awaiting the sends, drains, waits and ``async def`` hooks."""
    call.asynchronous = True
    scope = call.scope
    tracing = call.tracing
    while True:
        if scope is not None:
            await scope.await_turn(call.async_sleep)
        if tracing:
            call.began()
        try:
            response = await send()
        except BaseException as error:
            delay = await call.acheck_error(error)
            if delay is None:
                raise
        else:
            try:
                delay = call.check_response(status(response), headers(response), response)
                if call.run is not None and call.run.pending is not None:
                    await call.run.flush(call.final)
            except BaseException:
                await drain(response)
                raise
            if delay is None:
                if call.should_raise():
                    raise call.final_error(await drain(response), headers(response))
                return response
            await drain(response)
        await call.async_sleep(delay)
