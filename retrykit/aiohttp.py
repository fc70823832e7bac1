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
from ._http import IDEMPOTENCY_HEADER, RequestRetry
from ._options import HTTPKWs, HTTPOptions, check_policy
from ._policy import RetryPolicy

Handler = Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]]
Middleware = Callable[[aiohttp.ClientRequest, Handler], Awaitable[aiohttp.ClientResponse]]

__all__ = ["middleware"]


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

    async def retrykit_middleware(request: aiohttp.ClientRequest, handler: Handler) -> aiohttp.ClientResponse:
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

        response = await call.adrive(send, _status, _headers, _drain)
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
