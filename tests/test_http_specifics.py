"""Client-specific behaviour of the adapters: pools, per-request policies, urllib's errors."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import httpx
import pytest
import requests

import retrykit.aiohttp
import retrykit.httpx
import retrykit.requests
import retrykit.urllib
from retrykit import Backoff, RetryPolicy
from retrykit._options import HTTPKWs, HTTPOptions
from retrykit.testing import FlakyServer, Reply, instant

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)
FIVE_FAILURES = [Reply.error(503, "x" * 100_000) for _ in range(5)]  # bodies bigger than the drain limit


def test_requests_pool_of_one_does_not_stall() -> None:
    with FlakyServer(FIVE_FAILURES) as server, instant():
        s = retrykit.requests.session(FAST, pool_connections=1, pool_maxsize=1, pool_block=True)
        assert s.get(server.url, timeout=5).status_code == 200
        assert s.get(server.url, timeout=5).status_code == 200
    assert len(server.requests) == 7


def test_httpx_pool_of_one_does_not_stall() -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    transport = retrykit.httpx.RetryTransport(FAST, httpx.HTTPTransport(limits=limits))
    with FlakyServer(FIVE_FAILURES) as server, instant(), httpx.Client(transport=transport, timeout=httpx.Timeout(5, pool=2)) as c:
        assert c.get(server.url).status_code == 200
        assert c.get(server.url).status_code == 200


def test_httpx_async_pool_of_one_does_not_stall() -> None:
    async def main(url: str) -> list[int]:
        limits = httpx.Limits(max_connections=1)
        transport = retrykit.httpx.AsyncRetryTransport(FAST, httpx.AsyncHTTPTransport(limits=limits))
        async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5, pool=2)) as c:
            return [(await c.get(url)).status_code, (await c.get(url)).status_code]

    with FlakyServer(FIVE_FAILURES) as server, instant():
        assert asyncio.run(main(server.url)) == [200, 200]


def test_aiohttp_pool_of_one_does_not_stall() -> None:
    async def main(url: str) -> list[int]:
        connector = aiohttp.TCPConnector(limit=1)
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(
            connector=connector, middlewares=(retrykit.aiohttp.middleware(FAST),), timeout=timeout
        ) as s:
            statuses = []
            for _ in range(2):
                async with s.get(url) as r:
                    statuses.append(r.status)
            return statuses

    with FlakyServer(FIVE_FAILURES) as server, instant():
        assert asyncio.run(main(server.url)) == [200, 200]


def test_aiohttp_cancelled_during_the_wait_releases_the_connection() -> None:
    slow = RetryPolicy(backoff=Backoff(base=30, cap=30, jitter=0))

    async def main(url: str) -> None:
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector, middlewares=(retrykit.aiohttp.middleware(slow),)) as s:
            task = asyncio.ensure_future(s.get(url))
            await asyncio.sleep(0.3)  # the first 503 came back; the middleware now waits 30 s
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            async with s.get(url, timeout=aiohttp.ClientTimeout(total=2)) as r:  # the pool's one slot is free
                assert r.status == 200

    with FlakyServer([Reply.error(503)]) as server:
        asyncio.run(main(server.url))


def test_httpx_per_request_policy_in_extensions() -> None:
    transport = retrykit.httpx.RetryTransport(FAST)
    with FlakyServer([Reply.error(503), Reply.error(503)]) as server, instant(), httpx.Client(transport=transport) as c:
        r = c.get(server.url, extensions={"retrykit": FAST.replace(max_retries=1)})
    assert r.status_code == 503
    assert len(server.requests) == 2


def test_httpx_rejects_a_bad_extension() -> None:
    with FlakyServer() as server, httpx.Client(transport=retrykit.httpx.RetryTransport()) as c:
        with pytest.raises(TypeError, match="RetryPolicy"):
            c.get(server.url, extensions={"retrykit": 3})


def test_aiohttp_per_request_middleware() -> None:
    async def main(url: str) -> int:
        async with aiohttp.ClientSession() as s:
            async with s.get(url, middlewares=(retrykit.aiohttp.middleware(FAST),)) as r:
                return r.status

    with FlakyServer([Reply.error(502)]) as server, instant():
        assert asyncio.run(main(server.url)) == 200


def test_httpx_never_modifies_the_callers_request() -> None:
    transport = retrykit.httpx.RetryTransport(FAST, idempotency_keys=True)
    with FlakyServer([Reply.error(503)]) as server, instant(), httpx.Client(transport=transport) as c:
        request = c.build_request("POST", server.url, content=b"x")
        c.send(request)
    assert "idempotency-key" not in request.headers
    assert server.requests[0].header("Idempotency-Key") == server.requests[1].header("Idempotency-Key")


def test_requests_never_modifies_the_callers_prepared_request() -> None:
    s = retrykit.requests.session(FAST, idempotency_keys=True)
    with FlakyServer([Reply.error(503)]) as server, instant():
        prepared = requests.Request("POST", server.url, data=b"x").prepare()
        assert s.send(prepared).status_code == 200
    assert "Idempotency-Key" not in prepared.headers


def test_requests_replays_a_seekable_file_body() -> None:
    s = retrykit.requests.session(FAST, retry_non_idempotent=True)
    with FlakyServer([Reply.error(503)]) as server, instant():
        assert s.post(server.url, data=io.BytesIO(b"file body")).status_code == 200
    assert [r.body for r in server.requests] == [b"file body", b"file body"]


def test_requests_existing_session_and_raise_for_status_inside_retry() -> None:
    existing = requests.Session()
    s = retrykit.requests.session(FAST, session=existing)
    assert s is existing
    with FlakyServer([Reply.error(503) for _ in range(6)]) as server, instant():

        @FAST
        def fetch() -> None:
            s.get(server.url).raise_for_status()  # a new HTTPError, but its response was given up on

        with pytest.raises(requests.HTTPError):
            fetch()
    assert len(server.requests) == 6


def test_urllib_raises_httperror_like_the_standard_library() -> None:
    with FlakyServer([Reply.error(503) for _ in range(6)]) as server, instant():
        with pytest.raises(urllib.error.HTTPError) as info:
            retrykit.urllib.urlopen(server.url, policy=FAST)
    assert info.value.code == 503
    assert "after 6 attempts" in info.value.__notes__[0]
    info.value.close()


def test_urllib_never_modifies_the_callers_request() -> None:
    request = urllib.request.Request("http://127.0.0.1:1/", data=b"x", method="POST")
    with FlakyServer([Reply.error(503)]) as server, instant():
        request.full_url = server.url
        with retrykit.urllib.urlopen(request, policy=FAST, idempotency_keys=True) as r:
            assert r.status == 200
    assert not request.has_header("Idempotency-key")


def test_urllib_uses_the_installed_opener_like_the_standard_library() -> None:
    seen: list[str] = []

    class Recorder(urllib.request.BaseHandler):
        def http_request(self, request: urllib.request.Request) -> urllib.request.Request:
            seen.append(request.get_method())
            return request

    urllib.request.install_opener(urllib.request.build_opener(Recorder()))
    try:
        with FlakyServer([Reply.error(503)]) as server, instant():
            with retrykit.urllib.urlopen(server.url, policy=FAST) as r:
                assert r.status == 200
    finally:
        urllib.request.install_opener(None)  # type: ignore[arg-type]
    assert seen == ["GET", "GET"]  # both attempts went through the installed opener


def test_adapter_options_are_validated() -> None:
    with pytest.raises(TypeError, match="idempotency_keys"):
        retrykit.requests.session(idempotency_keys="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="policy"):
        retrykit.httpx.RetryTransport(policy=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="raise_for_status"):
        retrykit.aiohttp.middleware(raise_for_status=1)  # type: ignore[arg-type]


def test_adapters_reject_unknown_keywords_naming_them() -> None:
    # The options are one unpacked TypedDict: at run time a typo is still a TypeError naming it.
    with pytest.raises(TypeError, match="idempotency_key"):
        retrykit.httpx.RetryTransport(idempotency_key=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="budget"):
        retrykit.aiohttp.middleware(budget=None)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="retries"):
        retrykit.urllib.urlopen("http://127.0.0.1:1/", retries=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="pool_size"):
        retrykit.requests.session(pool_size=2)  # type: ignore[call-arg]


@pytest.mark.parametrize("make", [retrykit.requests.session, retrykit.requests.RetryAdapter])
def test_requests_max_retries_is_a_type_error_pointing_at_the_policy(make: Any) -> None:
    with pytest.raises(TypeError, match=r"RetryPolicy\(max_retries=3\)"):
        make(max_retries=3)


def test_requests_urllib3_never_retries_under_the_policy() -> None:
    with FlakyServer([Reply.dropped() for _ in range(6)]) as server, instant() as clock:
        s = retrykit.requests.session(FAST)
        with pytest.raises(requests.ConnectionError):
            s.get(server.url, timeout=5)
        assert s.get_adapter(server.url).max_retries.total == 0  # type: ignore[attr-defined]
    assert len(server.requests) == 6  # the policy's 6 attempts, not 6 x urllib3's own
    assert len(clock.delays) == 5


def test_requests_a_pipe_body_is_one_shot_and_sent_once() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"streamed")
    os.close(write_end)
    with FlakyServer([Reply.error(503)]) as server, instant() as clock, os.fdopen(read_end, "rb") as pipe:
        s = retrykit.requests.session(FAST)
        assert s.put(server.url, data=pipe, timeout=5).status_code == 503  # plain requests sends it chunked too
    assert [r.body for r in server.requests] == [b"streamed"]
    assert clock.delays == []


def _raising_hook(event: object) -> None:
    raise RuntimeError("hook failed")


HOOKED = FAST(on_retry=_raising_hook)


def test_requests_a_raising_hook_leaks_no_pooled_connection() -> None:
    with FlakyServer([Reply.error(503)]) as server, instant():
        s = retrykit.requests.session(HOOKED, pool_connections=1, pool_maxsize=1, pool_block=True)
        with pytest.raises(RuntimeError, match="hook failed"):
            s.get(server.url, timeout=5)
        done: list[int] = []  # a leaked connection would make the next request wait forever: in a thread
        worker = threading.Thread(target=lambda: done.append(s.get(server.url, timeout=5).status_code), daemon=True)
        worker.start()
        worker.join(10)
    assert done == [200]


def test_httpx_a_raising_hook_leaks_no_pooled_connection() -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    transport = retrykit.httpx.RetryTransport(HOOKED, httpx.HTTPTransport(limits=limits))
    with FlakyServer([Reply.error(503)]) as server, instant(), httpx.Client(transport=transport, timeout=httpx.Timeout(5, pool=2)) as c:
        with pytest.raises(RuntimeError, match="hook failed"):
            c.get(server.url)
        assert c.get(server.url).status_code == 200  # a leaked connection: PoolTimeout


def test_async_clients_a_raising_hook_leaks_no_pooled_connection() -> None:
    async def main(url: str) -> tuple[int, int]:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        transport = retrykit.httpx.AsyncRetryTransport(HOOKED, httpx.AsyncHTTPTransport(limits=limits))
        async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5, pool=2)) as c:
            with pytest.raises(RuntimeError, match="hook failed"):
                await c.get(url)
            first = (await c.get(url)).status_code
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector, middlewares=(retrykit.aiohttp.middleware(HOOKED),)) as s:
            with pytest.raises(RuntimeError, match="hook failed"):
                await s.get(url)
            async with asyncio.timeout(5), s.get(url) as r:  # a leaked connection: waits for the connector
                return first, r.status

    with FlakyServer([Reply.error(503), Reply(200), Reply.error(503)]) as server, instant():
        assert asyncio.run(main(server.url)) == (200, 200)


def test_http_options_are_a_value_with_the_typed_dicts_fields() -> None:
    options = HTTPOptions(idempotency_keys=True)
    assert options._fields == tuple(HTTPKWs.__annotations__)
    assert options == HTTPOptions(idempotency_keys=True) != HTTPOptions()
    assert options.replace(raise_for_status=True).raise_for_status is True
    assert repr(options) == "HTTPOptions(idempotency_keys=True, retry_non_idempotent=False, raise_for_status=False, budgets=None, fleet=None)"


@pytest.mark.parametrize("session_raises", [False, True])
def test_aiohttp_an_outer_retry_does_not_multiply_the_middlewares(session_raises: bool) -> None:
    async def main(url: str) -> None:
        middlewares = (retrykit.aiohttp.middleware(FAST),)
        async with aiohttp.ClientSession(middlewares=middlewares, raise_for_status=session_raises) as s:

            @FAST
            async def fetch() -> None:
                async with s.get(url) as r:
                    r.raise_for_status()

            with pytest.raises(aiohttp.ClientResponseError) as info:
                await fetch()
            assert "after 6 attempts" in info.value.__notes__[0]

    with FlakyServer([Reply.error(503) for _ in range(6)]) as server, instant() as clock:
        asyncio.run(main(server.url))
    assert len(server.requests) == 6  # not 36
    assert len(clock.delays) == 5


def test_httpx_an_outer_retry_over_raise_for_status_does_not_multiply() -> None:
    with FlakyServer([Reply.error(503) for _ in range(6)]) as server, instant() as clock:
        with httpx.Client(transport=retrykit.httpx.RetryTransport(FAST)) as c:

            @FAST
            def fetch() -> None:
                c.get(server.url).raise_for_status()

            with pytest.raises(httpx.HTTPStatusError):
                fetch()
    assert len(server.requests) == 6
    assert len(clock.delays) == 5


def test_aiohttp_a_spent_total_timeout_gives_up_at_once_and_says_so() -> None:
    async def main(url: str) -> None:
        timeout = aiohttp.ClientTimeout(total=0.2)
        async with aiohttp.ClientSession(middlewares=(retrykit.aiohttp.middleware(FAST),), timeout=timeout) as s:
            with pytest.raises(TimeoutError) as info:
                await s.get(url)
            note = "\n".join(getattr(info.value, "__notes__", ()))
            assert "total timeout for the request has run out" in note
            assert "sock_read" in note  # how to bound each attempt instead

    with FlakyServer([Reply(200, delay=0.4)]) as server, instant() as clock:
        asyncio.run(main(server.url))
    assert len(server.requests) == 1
    assert clock.delays == []


def test_aiohttp_a_per_attempt_timeout_is_retried() -> None:
    async def main(url: str) -> int:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=0.2)
        async with aiohttp.ClientSession(middlewares=(retrykit.aiohttp.middleware(FAST),), timeout=timeout) as s:
            async with s.get(url) as r:
                return r.status

    with FlakyServer([Reply(200, delay=0.4)]) as server, instant() as clock:
        assert asyncio.run(main(server.url)) == 200
    assert len(server.requests) == 2
    assert clock.delays == [1.0]


def test_aiohttp_does_not_run_the_middleware_again_after_it_gave_up() -> None:
    # aiohttp re-runs the middlewares once after a ServerDisconnectedError on a GET: after the
    # policy gave up, that would be 6 more attempts. The next call is a call like any other.
    async def main(url: str) -> int:
        async with aiohttp.ClientSession(middlewares=(retrykit.aiohttp.middleware(FAST),)) as s:
            with pytest.raises(aiohttp.ServerDisconnectedError) as info:
                await s.get(url)
            assert "after 6 attempts" in info.value.__notes__[0]
            async with s.get(url) as r:
                return r.status

    with FlakyServer([Reply.dropped() for _ in range(6)]) as server, instant():
        assert asyncio.run(main(server.url)) == 200
    assert len(server.requests) == 7


def test_requests_an_unpickled_adapter_still_retries() -> None:
    import pickle

    adapter = pickle.loads(pickle.dumps(retrykit.requests.RetryAdapter(FAST)))
    s = requests.Session()
    s.mount("http://", adapter)
    with FlakyServer([Reply.error(503)]) as server, instant() as clock:
        assert s.get(server.url, timeout=5).status_code == 200
    assert clock.delays == [1.0]
    assert adapter.max_retries.total == 0  # outside a request urllib3 is told: no retries
