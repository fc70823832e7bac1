"""httpx adapter: transports that retry by a policy, sync and async (httpx is imported here only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, Unpack

from ._extras import missing_extra

try:
    import httpx
except ImportError as _missing:  # the client is an extra: say which one
    raise missing_extra("httpx") from _missing

from ._http import IDEMPOTENCY_HEADER, HTTPKWs, HTTPOptions, RequestRetry, adrain, check_policy, drain
from ._policy import RetryPolicy

__all__ = ["EXTENSION", "AsyncRetryTransport", "RetryTransport"]

EXTENSION = "retrykit"
"""Request extension key for a per-request policy: ``client.get(url, extensions={"retrykit": policy})``."""


T = TypeVar("T", httpx.BaseTransport, httpx.AsyncBaseTransport)


class _Base(Generic[T]):
    """What the sync and async transports share: the constructor and the start of a request."""

    _default: Callable[[], T]

    def __init__(self, policy: RetryPolicy | None = None, transport: T | None = None, **options: Unpack[HTTPKWs]) -> None:
        self.policy: RetryPolicy = check_policy(policy)
        self.options: HTTPOptions = HTTPOptions(**options)
        self.transport: T = transport if transport is not None else self._default()

    def _start(self, request: httpx.Request) -> tuple[RequestRetry, httpx.Request]:
        policy = request.extensions.get(EXTENSION)
        if policy is not None and not isinstance(policy, RetryPolicy):
            raise TypeError(f"the {EXTENSION!r} request extension must be a RetryPolicy, got {type(policy).__name__}")
        # Only an in-memory body can be sent again; a generator's stream is one-shot.
        replayable = isinstance(request.stream, httpx.ByteStream)
        call = RequestRetry(
            policy or self.policy,
            self.options,
            request.method,
            request.url,
            request.headers,
            client="httpx",
            replayable=replayable,
        )
        if call.key is not None:  # a copy: never modify the caller's request
            headers = request.headers.copy()
            headers[IDEMPOTENCY_HEADER] = call.key
            request = httpx.Request(
                request.method, request.url, headers=headers, stream=request.stream, extensions=request.extensions
            )
        return call, request


class RetryTransport(_Base[httpx.BaseTransport], httpx.BaseTransport):
    """A sync transport that retries by ``policy`` around ``transport`` (default ``httpx.HTTPTransport()``).

    ``httpx.Client(transport=RetryTransport())``. A per-request policy goes in the
    ``"retrykit"`` request extension.
    """

    _default = httpx.HTTPTransport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        call, request = self._start(request)
        return call.drive(lambda: self.transport.handle_request(request), _status, _headers, _drain)

    def close(self) -> None:
        self.transport.close()


class AsyncRetryTransport(_Base[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport):
    """An async transport that retries by ``policy`` around ``transport`` (default ``httpx.AsyncHTTPTransport()``)."""

    _default = httpx.AsyncHTTPTransport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        call, request = self._start(request)
        return await call.adrive(lambda: self.transport.handle_async_request(request), _status, _headers, _adrain)

    async def aclose(self) -> None:
        await self.transport.aclose()


def _status(response: httpx.Response) -> int:
    return response.status_code


def _headers(response: httpx.Response) -> object:
    return response.headers


def _drain(response: httpx.Response) -> bytes:
    """Up to 64 KiB of an unread body, then close the response (returning its connection)."""
    try:
        return drain(response.stream)  # type: ignore[arg-type]
    finally:
        response.close()


async def _adrain(response: httpx.Response) -> bytes:
    """Async :func:`_drain`; the response is closed even if the call is cancelled meanwhile."""
    try:
        return await adrain(response.stream)  # type: ignore[arg-type]
    finally:
        await response.aclose()
