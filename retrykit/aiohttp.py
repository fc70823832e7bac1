"""aiohttp adapter: a client middleware (aiohttp >= 3.12) that retries by a policy (aiohttp is imported here only)."""

from __future__ import annotations

import aiohttp
import aiohttp.payload

from ._http import DRAIN_LIMIT, IDEMPOTENCY_HEADER, HTTPOptions, RequestRetry, check_policy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ._budget import HostBudgets
    from ._policy import RetryPolicy

    Handler = Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]]
    Middleware = Callable[[aiohttp.ClientRequest, Handler], Awaitable[aiohttp.ClientResponse]]

__all__ = ["middleware"]


def _replayable(body: object) -> bool:
    # Bytes, str, form and JSON bodies are kept in memory; streams and generators are one-shot.
    return body is None or body == b"" or isinstance(body, aiohttp.payload.BytesPayload)


def middleware(
    policy: RetryPolicy | None = None,
    *,
    idempotency_keys: bool = False,
    retry_non_idempotent: bool = False,
    raise_for_status: bool = False,
    budgets: HostBudgets | None = None,
) -> Middleware:
    """A client middleware that retries by ``policy`` (default: the spec's).

    For a whole session: ``ClientSession(middlewares=(middleware(),))``; for one
    request: ``session.get(url, middlewares=(middleware(policy),))``.
    """
    retry_policy = check_policy(policy)
    options = HTTPOptions(
        idempotency_keys=idempotency_keys,
        retry_non_idempotent=retry_non_idempotent,
        raise_for_status=raise_for_status,
        budgets=budgets,
    )

    async def retrykit_middleware(request: aiohttp.ClientRequest, handler: Handler) -> aiohttp.ClientResponse:
        call = RequestRetry(
            retry_policy,
            options,
            request.method,
            request.url,
            request.headers,
            client="aiohttp",
            replayable=_replayable(request.body),
        )
        if call.key is not None:
            # aiohttp builds this ClientRequest for the call: the caller's own objects are untouched.
            request.headers[IDEMPOTENCY_HEADER] = call.key
        return await call.adrive(lambda: handler(request), _status, _headers, _drain)

    return retrykit_middleware


def _status(response: aiohttp.ClientResponse) -> int:
    return response.status


def _headers(response: aiohttp.ClientResponse) -> object:
    return response.headers


async def _drain(response: aiohttp.ClientResponse) -> bytes:
    """Read up to 64 KiB, then release the connection, even if the call is cancelled meanwhile."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= DRAIN_LIMIT:
            chunk = await response.content.readany()
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except Exception:
        pass
    finally:
        response.release()
    return b"".join(chunks)
