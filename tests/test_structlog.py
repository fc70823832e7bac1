"""The structlog instrument with the real structlog: one event per retry, give-up and recovery, key/value fields."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import capture_logs

import retrykit
from retrykit import Backoff, RetryPolicy
from retrykit.structlog import StructlogInstrument
from retrykit.testing import FlakyServer, Reply, instant

from .clients import CLIENTS
from .helpers import Flaky, HTTPFailure

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)


@pytest.fixture(autouse=True)
def _structlog_instrument() -> Iterator[None]:
    retrykit.set_instruments([StructlogInstrument()])
    yield
    retrykit.set_instruments(None)


def test_one_event_per_retry_and_give_up_with_key_value_fields() -> None:
    def fetch_report() -> None:
        raise HTTPFailure(503, {"Authorization": "Bearer sk-SECRET"})

    with capture_logs() as logs, instant(), pytest.raises(HTTPFailure):
        FAST.replace(max_retries=1).call(fetch_report)
    retried, gave_up = logs
    assert retried["event"] == "retrykit.retry" and retried["log_level"] == "warning"
    assert retried["function"].endswith("fetch_report")
    assert (retried["attempt"], retried["max_attempts"], retried["wait"]) == (1, 2, 1.0)
    assert retried["reason"] == "HTTP 503 Service Unavailable" and retried["error_type"] == "503"
    assert gave_up["event"] == "retrykit.giveup" and gave_up["log_level"] == "error"
    assert gave_up["attempt"] == 2 and "no retries left" in gave_up["stop"] and "wait" not in gave_up
    assert "SECRET" not in repr(logs) and "api_key" not in repr(logs)


def test_a_recovery_is_one_info_event() -> None:
    with capture_logs() as logs, instant():
        FAST.call(Flaky(TimeoutError(), TimeoutError()))
    assert [log["event"] for log in logs] == ["retrykit.retry", "retrykit.retry", "retrykit.recovered"]
    assert logs[-1] == {
        "event": "retrykit.recovered",
        "log_level": "info",
        "function": "Flaky",
        "attempts": 3,
        "elapsed": 3.0,
    }


def test_requests_carry_method_and_host_but_never_the_path() -> None:
    with FlakyServer([Reply.error(500)]) as server, capture_logs() as logs, instant():
        CLIENTS["httpx"](FAST, "GET", f"{server.url}/v1/accounts/acct_123?key=sk-SECRET")
        host = f"127.0.0.1:{server.port}"
    retried, recovered = logs
    assert (retried["function"], retried["method"], retried["host"]) == ("httpx", "GET", host)
    assert (recovered["function"], recovered["method"], recovered["host"]) == ("httpx", "GET", host)
    assert "acct_123" not in repr(logs) and "SECRET" not in repr(logs)


def test_log_false_silences_it_like_the_logging_instrument() -> None:
    with capture_logs() as logs, instant():
        FAST.replace(log=False).call(Flaky(TimeoutError()))
    assert logs == []


def test_a_logger_of_your_own_is_used() -> None:
    logger = structlog.get_logger("payments").bind(service="billing")
    retrykit.set_instruments([StructlogInstrument(logger)])
    with capture_logs() as logs, instant():
        FAST.call(Flaky(TimeoutError()))
    assert [log["service"] for log in logs] == ["billing", "billing"]
