from __future__ import annotations

import socket
import urllib.error
import warnings

import aiohttp
import httpx
import pytest
import requests
import urllib3

from retrykit import DEFAULT_STATUS_TABLE, is_transient
from retrykit._classify import NEVER_RETRIED_ERRORS, TRANSIENT_ERRORS, WRAPPER_ERRORS, status_of


class StatusError(Exception):
    def __init__(self, status: object) -> None:
        super().__init__(f"status {status}")
        self.status_code = status


class Response:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.headers = headers or {}

    def __bool__(self) -> bool:  # like requests.Response: falsy for error statuses
        return self.status_code < 400


class WrappedError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("wrapped")
        self.response = response


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(),
        ConnectionResetError(),
        BrokenPipeError(),
        TimeoutError(),
        requests.ConnectionError(),
        requests.Timeout(),
        requests.exceptions.ChunkedEncodingError(),
        urllib3.exceptions.ProtocolError(),
        httpx.ConnectError("x"),
        httpx.ReadTimeout("x"),
        httpx.RemoteProtocolError("x"),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError(),
        urllib.error.URLError(ConnectionRefusedError()),
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
        urllib.error.URLError(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")),
    ],
)
def test_connection_and_timeout_errors_are_transient(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError(),
        KeyError(),
        RuntimeError(),
        OSError(),
        requests.exceptions.SSLError(),
        requests.exceptions.MissingSchema(),
        httpx.LocalProtocolError("x"),
        urllib.error.URLError("unknown url type: foo"),
        KeyboardInterrupt(),
        SystemExit(1),
    ],
)
def test_bugs_and_permanent_failures_are_not_transient(error: BaseException) -> None:
    assert not is_transient(error)


@pytest.mark.parametrize(("status", "retried"), [(400, False), (401, False), (404, False), (429, True), (503, True)])
def test_status_is_read_from_the_error_or_its_response(status: int, retried: bool) -> None:
    assert is_transient(StatusError(status)) is retried
    assert is_transient(WrappedError(Response(status))) is retried


def test_status_attributes_in_order() -> None:
    class Both(Exception):
        status_code = 503
        code = 404

    assert status_of(Both()) == 503

    class Code(Exception):
        code = 429

    assert status_of(Code()) == 429


def test_non_status_codes_are_ignored() -> None:
    class Envelope(Exception):
        code = "rate_limit_exceeded"

    assert status_of(Envelope()) is None
    assert status_of(StatusError(True)) is None
    assert status_of(StatusError(7)) is None


def test_real_client_errors_carry_their_status() -> None:
    request = httpx.Request("GET", "http://x")
    error = httpx.HTTPStatusError("x", request=request, response=httpx.Response(503, request=request))
    assert status_of(error) == 503 and is_transient(error)
    response = requests.Response()
    response.status_code = 401
    assert status_of(requests.HTTPError(response=response)) == 401
    http_error = urllib.error.HTTPError("http://x", 502, "Bad Gateway", {}, None)  # type: ignore[arg-type]
    assert status_of(http_error) == 502 and is_transient(http_error)


def test_reading_an_aiohttp_status_never_touches_its_deprecated_code() -> None:
    error = aiohttp.ClientResponseError(None, (), status=503)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert status_of(error) == 503
        assert is_transient(error)


def test_a_derived_table_applies() -> None:
    assert not is_transient(StatusError(408))
    assert is_transient(StatusError(408), DEFAULT_STATUS_TABLE | {408: True})


def test_a_broken_attribute_does_not_break_classification() -> None:
    class Hostile(Exception):
        @property
        def status_code(self) -> int:
            raise RuntimeError("boom")

        @property
        def response(self) -> object:
            raise RuntimeError("boom")

    assert not is_transient(Hostile())


def _lookup(qualified: str) -> type:
    import importlib

    module, _, name = qualified.rpartition(".")
    obj: object = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    assert isinstance(obj, type)
    return obj


@pytest.mark.parametrize("name", sorted(TRANSIENT_ERRORS | NEVER_RETRIED_ERRORS | set(WRAPPER_ERRORS)))
def test_every_named_class_exists_in_its_library(name: str) -> None:
    cls = _lookup(name)
    assert f"{cls.__module__}.{cls.__qualname__}" == name


def test_classifying_imports_no_http_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, retrykit\n"
        "retrykit.is_transient(ConnectionError()); retrykit.is_transient(ValueError())\n"
        "bad = [m for m in ('requests', 'httpx', 'aiohttp', 'urllib3', 'asyncio', 'logging') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def raise_(error: BaseException) -> None:
    raise error


def test_classes_made_on_the_fly_do_not_grow_the_caches_without_bound() -> None:
    from retrykit import RetryPolicy
    from retrykit._classify import TYPE_CACHE_LIMIT, _type_verdicts, bare_type
    from retrykit.testing import instant

    policy = RetryPolicy(max_retries=1, log=False)
    with instant():
        for n in range(3 * TYPE_CACHE_LIMIT):
            plain = type(f"Plain{n}", (ConnectionError,), {})
            rich = type(f"Rich{n}", (Exception,), {"status_code": 503})
            assert is_transient(plain()) and is_transient(rich())
            for error in (plain(), rich()):
                with pytest.raises(type(error)):
                    policy.call(raise_, error)  # through the engine's own plain-class cache
    assert len(_type_verdicts) <= TYPE_CACHE_LIMIT
    assert len(bare_type) <= TYPE_CACHE_LIMIT
