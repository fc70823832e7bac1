"""httpx's transports take the settings a client given ``transport=`` no longer applies: TLS, proxies, limits."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx
import pytest

import retrykit.httpx
from retrykit import Backoff, RetryPolicy
from retrykit.testing import FlakyServer, Reply, instant

from .tls import make_cert, needs_openssl, tls_server

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"), "localhost", "IP:127.0.0.1")


@needs_openssl
def test_custom_tls_reaches_the_inner_transport(certs: tuple[Path, Path]) -> None:
    trusting = ssl.create_default_context(cafile=str(certs[0]))
    transport = retrykit.httpx.RetryTransport(FAST, verify=trusting)
    with tls_server(certs, [Reply.error(503)]) as server, instant() as clock, httpx.Client(transport=transport) as c:
        assert server.url.startswith("https://")
        assert c.get(server.url).status_code == 200
    assert len(server.requests) == 2
    assert clock.delays == [1.0]


@needs_openssl
def test_custom_tls_reaches_the_async_inner_transport(certs: tuple[Path, Path]) -> None:
    async def main(url: str) -> int:
        trusting = ssl.create_default_context(cafile=str(certs[0]))
        transport = retrykit.httpx.AsyncRetryTransport(FAST, verify=trusting, http2=False)
        async with httpx.AsyncClient(transport=transport) as c:
            return (await c.get(url)).status_code

    with tls_server(certs, [Reply.error(503)]) as server, instant():
        assert asyncio.run(main(server.url)) == 200
    assert len(server.requests) == 2


def test_a_proxy_is_kept_and_every_retry_goes_through_it() -> None:
    # FlakyServer as a forward proxy: an http:// request reaches it in absolute form.
    with FlakyServer([Reply.error(503)]) as proxy, instant():
        transport = retrykit.httpx.RetryTransport(FAST, proxy=proxy.url)
        with httpx.Client(transport=transport) as c:
            assert c.get("http://api.example.invalid/v1/items").status_code == 200
    assert [r.path for r in proxy.requests] == ["http://api.example.invalid/v1/items"] * 2


def test_async_a_proxy_is_kept() -> None:
    async def main() -> int:
        async with httpx.AsyncClient(transport=retrykit.httpx.AsyncRetryTransport(FAST, proxy=proxy.url)) as c:
            return (await c.get("http://api.example.invalid/x")).status_code

    with FlakyServer([Reply.error(503)]) as proxy, instant():
        assert asyncio.run(main()) == 200
    assert len(proxy.requests) == 2


def test_limits_reach_the_inner_transport() -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    transport = retrykit.httpx.RetryTransport(FAST, limits=limits)
    with FlakyServer([Reply.error(503)] * 3) as server, instant(), httpx.Client(transport=transport, timeout=httpx.Timeout(5, pool=2)) as c:
        assert c.get(server.url).status_code == 200
        assert c.get(server.url).status_code == 200
    assert server.connections == 1  # one pooled connection, reused for every attempt


def test_transport_settings_with_a_given_transport_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="verify"):
        retrykit.httpx.RetryTransport(FAST, httpx.HTTPTransport(), verify=False)
    with pytest.raises(TypeError, match=r"RetryPolicy\(max_retries"):
        retrykit.httpx.AsyncRetryTransport(FAST, retries=3)  # type: ignore[call-arg]
