"""aiohttp adapter: a client middleware (aiohttp >= 3.12) that retries by a policy (aiohttp is imported here only)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Unpack

from ._extras import missing_extra

try:
    import aiohttp
    import aiohttp.payload
except ImportError as _missing:  # the client is an extra: say which one
    raise missing_extra("aiohttp") from _missing

from ._drain import adrain
from ._http import RequestRetry
from ._http_loops import adrive
from ._options import HTTPKWs, HTTPOptions, check_policy
from ._policy import RetryPolicy
from ._rules import IDEMPOTENCY_HEADER

Handler = Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]]
Middleware = Callable[[aiohttp.ClientRequest, Handler], Awaitable[aiohttp.ClientResponse]]

__all__ = ["middleware"]

_REMEMBERED = 16  # errors given up on, per middleware, that aiohttp may yet run it again for


def _replayable(body: object) -> bool:
    # Bytes, str, form and JSON bodies are kept in memory; streams and generators are one-shot.
    return body is None or body == b"" or isinstance(body, aiohttp.payload.BytesPayload)


def middleware(policy: RetryPolicy | None = None, **options: Unpack[HTTPKWs]) -> Middleware:
    """A client middleware that retries by ``policy`` (default: the error model's).

    For a whole session: ``ClientSession(middlewares=(middleware(),))``; for one
    request: ``session.get(url, middlewares=(middleware(policy),))``.
    """
    retry_policy = check_policy(policy)
    http_options = HTTPOptions.of(options)
    # aiohttp runs the middlewares once more after a ClientOSError or ServerDisconnectedError
    # on an idempotent request (taking it for a stale pooled connection): after the policy
    # gave up on one, that would be a second round of retries. Such an error is remembered
    # by the request's timer (one per session.request call, kept alive here so its id is not
    # reused) and raised again at once. A few at most: a call aiohttp does not re-run leaves its
    # entry until it is pushed out.
    gave_up: dict[int, tuple[object, BaseException]] = {}

    async def retrykit_middleware(request: aiohttp.ClientRequest, handler: Handler) -> aiohttp.ClientResponse:
        timer = getattr(request, "_timer", None)
        if timer is not None and gave_up:
            seen = gave_up.pop(id(timer), None)
            if seen is not None and seen[0] is timer:
                raise seen[1]
        call = RequestRetry(
            retry_policy,
            http_options,
            request.method,
            request.url,
            request.headers,
            client="aiohttp",
            replayable=_replayable(request.body),
        )
        if call.key is not None:
            # aiohttp builds this ClientRequest for the call: the caller's own objects are untouched.
            request.headers[IDEMPOTENCY_HEADER] = call.key

        async def send() -> aiohttp.ClientResponse:
            try:
                return await handler(request)
            except TimeoutError:
                # The request's ClientTimeout(total=...) spans this middleware: once it has
                # run out, every attempt fails at once. Give up now, and say why.
                call.out_of_time = _timed_out(request)
                raise

        try:
            response = await adrive(call, send, _status, _headers, _drain)
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as error:
            if timer is not None and call.run is not None and not isinstance(error, aiohttp.ClientConnectorError):
                if len(gave_up) >= _REMEMBERED:
                    del gave_up[next(iter(gave_up))]
                gave_up[id(timer)] = (timer, error)
            raise
        if call.final is not None:
            _carry_give_up(response, call)
        return response

    return retrykit_middleware


def _timed_out(request: aiohttp.ClientRequest) -> bool:
    """Whether the request's total timeout has run out (aiohttp keeps its timer private: duck-typed)."""
    timer = getattr(request, "_timer", None)
    try:
        timer.assert_timeout()  # type: ignore[union-attr]
    except TimeoutError:
        return True
    except Exception:  # another aiohttp, no timer: retry as usual
        return False
    return False


def _carry_give_up(response: aiohttp.ClientResponse, call: RequestRetry) -> None:
    """Make the error ``raise_for_status()`` builds for a response given up on carry the note and mark.

    aiohttp's ``ClientResponseError`` holds no reference to its response, so without
    this a policy around the caller (``@retry`` over ``raise_for_status()``, or a
    ``ClientSession(raise_for_status=True)``) would retry the request all over again.
    """
    check = response.raise_for_status

    def raise_for_status() -> None:
        try:
            check()
        except aiohttp.ClientResponseError as error:
            call.annotate(error)
            raise

    response.raise_for_status = raise_for_status  # type: ignore[method-assign]


def _status(response: aiohttp.ClientResponse) -> int:
    return response.status


def _headers(response: aiohttp.ClientResponse) -> object:
    return response.headers


async def _drain(response: aiohttp.ClientResponse) -> bytes:
    """Up to 64 KiB, then release the connection, even if the call is cancelled meanwhile."""
    try:
        return await adrain(response.content.iter_any())
    finally:
        response.release()
