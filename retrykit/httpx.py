"""httpx adapter: transports that retry by a policy, sync and async (httpx is imported here only)."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar, Unpack

from ._extras import missing_extra

try:
    import httpx
except ImportError as _missing:  # the client is an extra: say which one
    raise missing_extra("httpx") from _missing

from ._drain import adrain, drain
from ._http import RequestRetry
from ._http_loops import adrive, drive
from ._options import HTTPKWs, HTTPOptions, check_policy
from ._policy import RetryPolicy
from ._rules import IDEMPOTENCY_HEADER

__all__ = ["EXTENSION", "AsyncRetryTransport", "RetryTransport", "TransportKWs"]

EXTENSION = "retrykit"
"""Request extension key for a per-request policy: ``client.get(url, extensions={"retrykit": policy})``."""


T = TypeVar("T", httpx.BaseTransport, httpx.AsyncBaseTransport)


class TransportKWs(HTTPKWs, total=False):
    """retrykit's keywords, and those of the ``httpx.HTTPTransport`` it builds when given no ``transport``.

    A client given ``transport=`` no longer configures TLS, HTTP/2, pool limits or
    proxies itself (httpx's design): these keywords are where they go instead.
    """

    verify: ssl.SSLContext | str | bool
    cert: str | tuple[str, str] | tuple[str, str, str] | None
    trust_env: bool
    http1: bool
    http2: bool
    limits: httpx.Limits
    proxy: httpx.URL | str | httpx.Proxy | None
    uds: str | None
    local_address: str | None
    socket_options: Iterable[tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]] | None


class _Base(Generic[T]):
    """What the sync and async transports share: the constructor and the start of a request."""

    _default: Callable[..., T]

    def __init__(
        self, policy: RetryPolicy | None = None, transport: T | None = None, **options: Unpack[TransportKWs]
    ) -> None:
        self.policy: RetryPolicy = check_policy(policy)
        settings: dict[str, Any] = dict(options)
        self.options: HTTPOptions = HTTPOptions.take(settings)
        if "retries" in settings:  # httpx's own connect retries, under ours
            raise TypeError("retries= would retry connections under retrykit's policy; pass RetryPolicy(max_retries=...) instead")
        if transport is None:
            transport = self._default(**settings)
        elif settings:
            raise TypeError(
                f"{', '.join(sorted(settings))} configure the transport retrykit builds; "
                "with transport=..., configure that transport instead"
            )
        self.transport: T = transport

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
        return drive(call, lambda: self.transport.handle_request(request), _status, _headers, _drain)

    def close(self) -> None:
        self.transport.close()


class AsyncRetryTransport(_Base[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport):
    """An async transport that retries by ``policy`` around ``transport`` (default ``httpx.AsyncHTTPTransport()``)."""

    _default = httpx.AsyncHTTPTransport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        call, request = self._start(request)
        return await adrive(call, lambda: self.transport.handle_async_request(request), _status, _headers, _adrain)

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
