"""One way to send a request through each adapter with its real client, for parametrized tests."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import httpx

import retrykit.aiohttp
import retrykit.httpx
import retrykit.requests
import retrykit.urllib
from retrykit import RetryPolicy


class Result:
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body


def as_async(body: Any) -> Any:
    """An iterator body as an async generator (the async clients' one-shot stream); others as they are."""
    if not isinstance(body, Iterator):
        return body
    items = list(body)

    async def agen() -> Any:
        for item in items:
            yield item

    return agen()


def via_requests(policy: RetryPolicy, method: str, url: str, body: Any = None, headers: Any = None, **options: Any) -> Result:
    with retrykit.requests.session(policy, **options) as s:
        r = s.request(method, url, data=body, headers=headers, timeout=5)
        return Result(r.status_code, r.content)


def via_httpx(policy: RetryPolicy, method: str, url: str, body: Any = None, headers: Any = None, **options: Any) -> Result:
    with httpx.Client(transport=retrykit.httpx.RetryTransport(policy, **options), timeout=5) as c:
        r = c.request(method, url, content=body, headers=headers)
        return Result(r.status_code, r.content)


def via_httpx_async(policy: RetryPolicy, method: str, url: str, body: Any = None, headers: Any = None, **options: Any) -> Result:
    async def main() -> Result:
        content = as_async(body)
        async with httpx.AsyncClient(transport=retrykit.httpx.AsyncRetryTransport(policy, **options), timeout=5) as c:
            r = await c.request(method, url, content=content, headers=headers)
            return Result(r.status_code, r.content)

    return asyncio.run(main())


def via_aiohttp(policy: RetryPolicy, method: str, url: str, body: Any = None, headers: Any = None, **options: Any) -> Result:
    async def main() -> Result:
        data = as_async(body)
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(middlewares=(retrykit.aiohttp.middleware(policy, **options),), timeout=timeout) as s:
            async with s.request(method, url, data=data, headers=headers) as r:
                return Result(r.status, await r.read())

    return asyncio.run(main())


def via_urllib(policy: RetryPolicy, method: str, url: str, body: Any = None, headers: Any = None, **options: Any) -> Result:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with retrykit.urllib.urlopen(request, timeout=5, policy=policy, **options) as r:
            return Result(r.status, r.read())
    except urllib.error.HTTPError as e:  # urllib's bare behaviour for a final error status
        return Result(e.code, e.read())


CLIENTS: dict[str, Callable[..., Result]] = {
    "requests": via_requests,
    "httpx": via_httpx,
    "httpx-async": via_httpx_async,
    "aiohttp": via_aiohttp,
    "urllib": via_urllib,
}
