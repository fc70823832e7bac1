"""What each HTTP adapter adds to a request that succeeds at once, measured without sockets.

Run: python benchmarks/bench_adapters.py   (after: pip install -e '.[bench]')

Each client sends to a canned 200 instead of the network (requests: an HTTPAdapter whose send
builds its Response from a ready urllib3 response; httpx: MockTransport; aiohttp: the middleware called with a handler
that returns a ready response; urllib: an installed opener whose http handler answers from
memory), once bare and once through retrykit's adapter. The difference of the two medians is
the adapter's own cost per request: the figure the README promises to keep at or under 3 us.
"""

from __future__ import annotations

import asyncio
import email.message
import io
import statistics
import urllib.request
import urllib.response
from collections.abc import Callable
from typing import Any

import httpx
import requests
import requests.adapters
import urllib3
from _timing import measure_together  # benchmarks/ is on sys.path when run as a script

import retrykit.aiohttp
import retrykit.httpx
import retrykit.requests
import retrykit.urllib
from retrykit import RetryPolicy

POLICY = RetryPolicy(log=False)
URL = "http://api.example.invalid/v1/items"
N = 20_000


class _CannedAdapter(requests.adapters.HTTPAdapter):
    """An HTTPAdapter whose network is a ready urllib3 response (built into a Response as requests does)."""

    raw = urllib3.HTTPResponse(
        body=io.BytesIO(b"{}"), headers={"Content-Type": "application/json"}, status=200, preload_content=False
    )

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        return self.build_response(request, self.raw)


class _CannedRetryAdapter(retrykit.requests.RetryAdapter, _CannedAdapter):
    """retrykit's adapter over the same canned network (its super().send is the canned one)."""


def requests_pair() -> dict[str, tuple[Callable[[], object], int]]:
    request = requests.Request("GET", URL).prepare()
    bare, wrapped = _CannedAdapter(), _CannedRetryAdapter(POLICY)
    return {"requests bare": (lambda: bare.send(request), N), "requests retrykit": (lambda: wrapped.send(request), N)}


CANNED_HTTPX = httpx.Response(200, content=b"{}")  # one response for every request: only the transports differ


def httpx_pair() -> dict[str, tuple[Callable[[], object], int]]:
    canned = httpx.MockTransport(lambda request: CANNED_HTTPX)
    wrapped = retrykit.httpx.RetryTransport(POLICY, canned)
    request = httpx.Request("GET", URL)
    return {
        "httpx bare": (lambda: canned.handle_request(request), N),
        "httpx retrykit": (lambda: wrapped.handle_request(request), N),
    }


def _in_one_loop(loop: asyncio.AbstractEventLoop, make: Callable[[], Any]) -> tuple[Callable[[], object], int]:
    async def many() -> None:
        for _ in range(N):
            await make()

    return (lambda: loop.run_until_complete(many())), 1


def async_pairs(loop: asyncio.AbstractEventLoop) -> dict[str, tuple[Callable[[], object], int]]:
    canned = httpx.MockTransport(lambda request: CANNED_HTTPX)
    wrapped = retrykit.httpx.AsyncRetryTransport(POLICY, canned)  # MockTransport serves async requests too
    request = httpx.Request("GET", URL)

    class Request:  # what the middleware reads of an aiohttp ClientRequest
        method, url, headers, body = "GET", URL, {"Accept": "*/*"}, None

    class Response:  # what it reads of a ClientResponse
        status, headers = 200, {"Content-Type": "application/json"}

    aio_request, aio_response = Request(), Response()

    async def handler(request: Any) -> Any:
        return aio_response

    middleware = retrykit.aiohttp.middleware(POLICY)
    return {
        "httpx-async bare": _in_one_loop(loop, lambda: canned.handle_async_request(request)),
        "httpx-async retrykit": _in_one_loop(loop, lambda: wrapped.handle_async_request(request)),
        "aiohttp bare": _in_one_loop(loop, lambda: handler(aio_request)),
        "aiohttp retrykit": _in_one_loop(loop, lambda: middleware(aio_request, handler)),  # type: ignore[arg-type]
    }


class _CannedHTTP(urllib.request.BaseHandler):
    handler_order = 100  # before urllib's own HTTPHandler

    def http_open(self, request: urllib.request.Request) -> Any:
        headers = email.message.Message()
        headers["Content-Type"] = "application/json"
        response = urllib.response.addinfourl(io.BytesIO(b"{}"), headers, request.full_url, 200)
        response.msg = "OK"  # type: ignore[attr-defined]
        return response


def urllib_pair() -> dict[str, tuple[Callable[[], object], int]]:
    urllib.request.install_opener(urllib.request.build_opener(_CannedHTTP()))
    return {
        "urllib bare": (lambda: urllib.request.urlopen(URL), N // 4),
        "urllib retrykit": (lambda: retrykit.urllib.urlopen(URL, policy=POLICY), N // 4),
    }


def main() -> None:
    loop = asyncio.new_event_loop()
    stmts = {**requests_pair(), **httpx_pair(), **async_pairs(loop), **urllib_pair()}
    samples = measure_together(stmts)
    loop.close()
    urllib.request.install_opener(None)  # type: ignore[arg-type]
    print("success path without sockets: us per request (median of 11 interleaved rounds)")
    for client in ("requests", "httpx", "httpx-async", "aiohttp", "urllib"):
        bare, wrapped = samples[f"{client} bare"], samples[f"{client} retrykit"]
        if client in ("httpx-async", "aiohttp"):
            bare, wrapped = [x / N for x in bare], [x / N for x in wrapped]
        # The overhead is the median of the per-round differences: both sides of a round share its drift.
        overhead = statistics.median(w - b for w, b in zip(wrapped, bare, strict=True)) / 1000
        print(
            f"  {client:<12} bare {statistics.median(bare) / 1000:6.2f} us   "
            f"retrykit {statistics.median(wrapped) / 1000:6.2f} us   adapter's own cost {overhead:5.2f} us"
        )


if __name__ == "__main__":
    main()
