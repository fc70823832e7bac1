"""TLS certificate failures are never retried: every adapter, and a bare ``@retry`` around httpx."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import retrykit.httpx
from retrykit import Backoff, RetryPolicy, is_transient
from retrykit.testing import instant

from .clients import CLIENTS, Result
from .tls import make_cert, needs_openssl, tls_server

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)
Send = Callable[..., Result]

pytestmark = needs_openssl


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"), "wrong-host.test", "DNS:wrong-host.test")


@pytest.fixture(params=sorted(CLIENTS))
def send(request: pytest.FixtureRequest) -> Send:
    return CLIENTS[request.param]


def test_an_untrusted_certificate_is_one_handshake_and_no_wait(send: Send, certs: tuple[Path, Path]) -> None:
    with tls_server(certs) as server, instant() as clock, pytest.raises(Exception) as info:
        send(FAST, "GET", server.url)
    assert not isinstance(info.value, AssertionError)
    assert server.connections == 1
    assert server.requests == []
    assert clock.delays == []


def test_a_host_name_mismatch_is_not_retried_either(certs: tuple[Path, Path]) -> None:
    trusting = ssl.create_default_context(cafile=str(certs[0]))  # the certificate is trusted, its name is wrong
    with tls_server(certs) as server, instant() as clock:
        transport = retrykit.httpx.RetryTransport(FAST, httpx.HTTPTransport(verify=trusting))
        with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError) as info:
            client.get(server.url)
    chain: list[BaseException] = [info.value]
    while chain[-1].__context__ is not None:
        chain.append(chain[-1].__context__)
    assert isinstance(chain[-1], ssl.SSLCertVerificationError)  # two wrappers deep: httpx's, httpcore's
    assert "mismatch" in str(chain[-1])
    assert server.connections == 1
    assert clock.delays == []


def test_retry_around_a_bare_httpx_call_agrees(certs: tuple[Path, Path]) -> None:
    with tls_server(certs) as server, instant() as clock:

        @FAST
        def fetch() -> httpx.Response:
            return httpx.get(server.url)

        with pytest.raises(httpx.ConnectError) as info:
            fetch()
    assert not is_transient(info.value)
    assert "is not retryable" in info.value.__notes__[0]
    assert server.connections == 1
    assert clock.delays == []


def test_a_connect_error_without_a_certificate_failure_is_still_transient() -> None:
    error = httpx.ConnectError("refused")
    error.__context__ = ssl.SSLZeroReturnError()  # a TLS hiccup, not a verdict on the certificate
    assert is_transient(error)
    assert is_transient(httpx.ConnectError("refused"))
