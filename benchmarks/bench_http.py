"""retrykit's HTTP adapters against each client's own retry add-on, in one run, over real sockets on 127.0.0.1.

Run: python benchmarks/bench_http.py   (after: pip install -e '.[bench]')

requests: retrykit.requests vs urllib3's Retry mounted on an HTTPAdapter; httpx: retrykit.httpx vs
httpx-retries; aiohttp: the retrykit middleware vs aiohttp-retry's RetryClient. Each against the bare
client, and against the loop a careful person writes around it. Two scenarios per client: a GET that
succeeds at once, and a GET answered 503, 503, then 200. Up to 5 retries everywhere, waiting disabled
by each library's own means. Every contender gets its own FlakyServer, and the requests it sent are
counted afterwards, so a contender that retried less (or more) than asked cannot look fast.
"""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import aiohttp
import aiohttp_retry
import httpx
import httpx_retries
import requests
import requests.adapters
import urllib3
from _timing import REPEATS, measure_together, report  # benchmarks/ is on sys.path when run as a script

import retrykit
import retrykit.aiohttp
import retrykit.httpx
import retrykit.requests
from retrykit import RetryPolicy
from retrykit.testing import FlakyServer, Reply

RETRIED = (429, 500, 502, 503, 504)
CALLS = {"success": 40, "503, 503, 200": 15}


def no_sleep(_: float) -> None:
    pass


async def no_async_sleep(_: float) -> None:
    pass


POLICY = RetryPolicy(sleep=no_sleep, async_sleep=no_async_sleep, log=False)
OK_BODY = b'{"ok": true}'
SESSIONS: list[Any] = []  # aiohttp sessions to close before their loop does


def script(scenario: str, calls: int) -> list[Reply]:
    if scenario == "success":
        return []
    return [Reply.error(503), Reply.error(503), Reply(200, {"ok": True})] * calls


def versions() -> str:
    libs = ", ".join(
        f"{name} {version(name)}" for name in ("requests", "urllib3", "httpx", "httpx-retries", "aiohttp", "aiohttp-retry")
    )
    return f"Python {platform.python_version()} on {platform.machine()}, {libs}, retrykit {retrykit.__version__}"


# -- contenders: each makes a "GET url -> body" function, and says how many requests one call sends ------


def requests_contenders() -> dict[str, Callable[[], Callable[[str], bytes]]]:
    def bare() -> Callable[[str], bytes]:
        s = requests.Session()
        return lambda url: s.get(url, timeout=5).content

    def hand_loop() -> Callable[[str], bytes]:
        s = requests.Session()

        def get(url: str) -> bytes:
            for attempt in range(6):
                r = s.get(url, timeout=5)
                if r.status_code not in RETRIED or attempt == 5:
                    return r.content
                r.close()
            raise AssertionError("unreachable")

        return get

    def ours() -> Callable[[str], bytes]:
        s = retrykit.requests.session(POLICY)
        return lambda url: s.get(url, timeout=5).content

    def urllib3_retry() -> Callable[[str], bytes]:
        s = requests.Session()
        retry = urllib3.Retry(total=5, backoff_factor=0, status_forcelist=RETRIED, raise_on_status=False)
        s.mount("http://", requests.adapters.HTTPAdapter(max_retries=retry))
        return lambda url: s.get(url, timeout=5).content

    return {"bare client": bare, "hand-written loop": hand_loop, "retrykit": ours, "urllib3 Retry": urllib3_retry}


def httpx_contenders() -> dict[str, Callable[[], Callable[[str], bytes]]]:
    def bare() -> Callable[[str], bytes]:
        c = httpx.Client(timeout=5)
        return lambda url: c.get(url).content

    def hand_loop() -> Callable[[str], bytes]:
        c = httpx.Client(timeout=5)

        def get(url: str) -> bytes:
            for attempt in range(6):
                r = c.get(url)
                if r.status_code not in RETRIED or attempt == 5:
                    return r.content
            raise AssertionError("unreachable")

        return get

    def ours() -> Callable[[str], bytes]:
        c = httpx.Client(transport=retrykit.httpx.RetryTransport(POLICY), timeout=5)
        return lambda url: c.get(url).content

    def peer() -> Callable[[str], bytes]:
        retry = httpx_retries.Retry(total=5, backoff_factor=0, status_forcelist=RETRIED)
        c = httpx.Client(transport=httpx_retries.RetryTransport(retry=retry), timeout=5)
        return lambda url: c.get(url).content

    return {"bare client": bare, "hand-written loop": hand_loop, "retrykit": ours, "httpx-retries": peer}


def aiohttp_contenders() -> dict[str, Callable[[], Callable[[str], Any]]]:
    # Sessions must be made inside the running loop; each maker returns "GET url -> awaitable body".
    def reader(s: aiohttp.ClientSession) -> Callable[[str], Any]:
        SESSIONS.append(s)

        async def get(url: str) -> bytes:
            async with s.get(url) as r:
                return await r.read()

        return get

    def bare() -> Callable[[str], Any]:
        return reader(aiohttp.ClientSession())

    def hand_loop() -> Callable[[str], Any]:
        s = aiohttp.ClientSession()
        SESSIONS.append(s)

        async def get(url: str) -> bytes:
            for attempt in range(6):
                async with s.get(url) as r:
                    body = await r.read()
                    if r.status not in RETRIED or attempt == 5:
                        return body
            raise AssertionError("unreachable")

        return get

    def ours() -> Callable[[str], Any]:
        return reader(aiohttp.ClientSession(middlewares=(retrykit.aiohttp.middleware(POLICY),)))

    def peer() -> Callable[[str], Any]:
        options = aiohttp_retry.ExponentialRetry(attempts=6, start_timeout=0, statuses=set(RETRIED))
        client = aiohttp_retry.RetryClient(retry_options=options)
        SESSIONS.append(client)

        async def get(url: str) -> bytes:
            async with client.get(url) as r:
                return await r.read()

        return get

    return {"bare client": bare, "hand-written loop": hand_loop, "retrykit": ours, "aiohttp-retry": peer}


# -- running -------------------------------------------------------------------------------------------


def run_sync(client: str, makers: dict[str, Callable[[], Callable[[str], bytes]]], scenario: str) -> None:
    calls = CALLS[scenario]
    names = [n for n in makers if scenario == "success" or n != "bare client"]
    servers = {n: FlakyServer(script(scenario, calls * 200)).__enter__() for n in names}
    try:
        stmts: dict[str, tuple[Callable[[], object], int]] = {}
        for name in names:
            get, url = makers[name](), servers[name].url

            def call(get: Callable[[str], bytes] = get, url: str = url) -> None:
                get(url)

            if get(url) != OK_BODY:  # warm up (a connection in the pool), and see that it got through
                raise SystemExit(f"{client} {name}: the call did not end with the 200")
            stmts[name] = (call, calls)
        samples = {k: [x / 1000 for x in v] for k, v in measure_together(stmts).items()}  # µs
        print(f"\n{client}, {scenario}: µs per call")
        report("", samples, {**references(scenario), "add-on": list(makers)[-1]}, unit="µs")  # the add-on is the last contender
        check(servers, scenario)
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)


def run_aiohttp(makers: dict[str, Callable[[], Callable[[str], Any]]], scenario: str) -> None:
    calls = CALLS[scenario]
    names = [n for n in makers if scenario == "success" or n != "bare client"]
    servers = {n: FlakyServer(script(scenario, calls * 200)).__enter__() for n in names}
    loop = asyncio.new_event_loop()
    try:
        gets = {}
        for name in names:
            get = loop.run_until_complete(_make(makers[name]))
            url = servers[name].url
            if loop.run_until_complete(get(url)) != OK_BODY:  # warm up, and see that it got through
                raise SystemExit(f"aiohttp {name}: the call did not end with the 200")
            gets[name] = (get, url)

        def driver(get: Callable[[str], Any], url: str) -> Callable[[], object]:
            async def many() -> None:
                for _ in range(calls):
                    await get(url)

            return lambda: loop.run_until_complete(many())

        stmts: dict[str, tuple[Callable[[], object], int]] = {n: (driver(*gets[n]), 1) for n in names}
        samples = {k: [x / calls / 1000 for x in v] for k, v in measure_together(stmts).items()}  # µs
        print(f"\naiohttp, {scenario}: µs per call")
        report("", samples, {**references(scenario), "add-on": list(makers)[-1]}, unit="µs")  # the add-on is the last contender
        check(servers, scenario)
    finally:
        loop.run_until_complete(_close_sessions())
        loop.close()
        for server in servers.values():
            server.__exit__(None, None, None)


async def _close_sessions() -> None:
    while SESSIONS:
        await SESSIONS.pop().close()
    await asyncio.sleep(0.1)  # let the connections close before the loop does


async def _make(maker: Callable[[], Callable[[str], Any]]) -> Callable[[str], Any]:
    return maker()


def references(scenario: str) -> dict[str, str]:
    """Ratios to the bare client when nothing fails; to the hand-written loop around it when something does."""
    return {"bare": "bare client"} if scenario == "success" else {"loop": "hand-written loop"}


def check(servers: dict[str, FlakyServer], scenario: str) -> None:
    """Every contender sent exactly 1 request per call, or 3 with the two 503s: no more, no fewer."""
    per_call = 1 if scenario == "success" else 3
    expected = per_call * (1 + REPEATS * CALLS[scenario])  # the warm-up call, then the measured ones
    wrong = {name: len(server.requests) for name, server in servers.items() if len(server.requests) != expected}
    if wrong:
        raise SystemExit(f"expected {expected} requests from each contender, got {wrong}")


def main() -> None:
    print(versions())
    for scenario in CALLS:
        run_sync("requests", requests_contenders(), scenario)
        run_sync("httpx", httpx_contenders(), scenario)
        run_aiohttp(aiohttp_contenders(), scenario)


if __name__ == "__main__":
    main()
