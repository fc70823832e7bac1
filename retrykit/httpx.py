"""httpx adapter: transports that retry by a policy, sync and async (httpx is imported here only)."""

from __future__ import annotations

import httpx

from ._budget import HostBudgets
from ._http import DRAIN_LIMIT, IDEMPOTENCY_HEADER, HTTPOptions, RequestRetry, check_policy
from ._policy import RetryPolicy

__all__ = ["EXTENSION", "AsyncRetryTransport", "RetryTransport"]

EXTENSION = "retrykit"
"""Request extension key for a per-request policy: ``client.get(url, extensions={"retrykit": policy})``."""


class _Base:
    def __init__(
        self,
        policy: RetryPolicy | None,
        *,
        idempotency_keys: bool,
        retry_non_idempotent: bool,
        raise_for_status: bool,
        budgets: HostBudgets | None,
    ) -> None:
        self.policy = check_policy(policy)
        self.options = HTTPOptions(
            idempotency_keys=idempotency_keys,
            retry_non_idempotent=retry_non_idempotent,
            raise_for_status=raise_for_status,
            budgets=budgets,
        )

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


class RetryTransport(_Base, httpx.BaseTransport):
    """A sync transport that retries by ``policy`` around ``transport`` (default ``httpx.HTTPTransport()``).

    ``httpx.Client(transport=RetryTransport())``. A per-request policy goes in the
    ``"retrykit"`` request extension.
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        idempotency_keys: bool = False,
        retry_non_idempotent: bool = False,
        raise_for_status: bool = False,
        budgets: HostBudgets | None = None,
    ) -> None:
        super().__init__(
            policy,
            idempotency_keys=idempotency_keys,
            retry_non_idempotent=retry_non_idempotent,
            raise_for_status=raise_for_status,
            budgets=budgets,
        )
        self.transport = transport if transport is not None else httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        call, request = self._start(request)
        return call.drive(lambda: self.transport.handle_request(request), _status, _headers, _drain)

    def close(self) -> None:
        self.transport.close()


def _status(response: httpx.Response) -> int:
    return response.status_code


def _headers(response: httpx.Response) -> object:
    return response.headers


def _drain(response: httpx.Response) -> bytes:
    """Read up to 64 KiB of an unread body, then close the response (returning its connection)."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.stream:  # type: ignore[union-attr]
            chunks.append(chunk)
            size += len(chunk)
            if size > DRAIN_LIMIT:
                break
    except Exception:  # a broken body must not stop the retry
        pass
    finally:
        response.close()
    return b"".join(chunks)


class AsyncRetryTransport(_Base, httpx.AsyncBaseTransport):
    """An async transport that retries by ``policy`` around ``transport`` (default ``httpx.AsyncHTTPTransport()``)."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        idempotency_keys: bool = False,
        retry_non_idempotent: bool = False,
        raise_for_status: bool = False,
        budgets: HostBudgets | None = None,
    ) -> None:
        super().__init__(
            policy,
            idempotency_keys=idempotency_keys,
            retry_non_idempotent=retry_non_idempotent,
            raise_for_status=raise_for_status,
            budgets=budgets,
        )
        self.transport = transport if transport is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        call, request = self._start(request)
        return await call.adrive(lambda: self.transport.handle_async_request(request), _status, _headers, _adrain)

    async def aclose(self) -> None:
        await self.transport.aclose()


async def _adrain(response: httpx.Response) -> bytes:
    """Async :func:`_drain`; the response is closed even if the call is cancelled meanwhile."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.stream:  # type: ignore[union-attr]
            chunks.append(chunk)
            size += len(chunk)
            if size > DRAIN_LIMIT:
                break
    except Exception:
        pass
    finally:
        await response.aclose()
    return b"".join(chunks)
