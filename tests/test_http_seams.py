"""The adapters at their seams, each with its real client against 127.0.0.1: secrets, notes, logs, deadlines."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from retrykit import Backoff, RetryEvent, RetryPolicy
from retrykit.errors import APIError
from retrykit.testing import FlakyServer, Reply, instant

from .clients import CLIENTS, Result

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)
Send = Callable[..., Result]


@pytest.fixture(params=sorted(CLIENTS))
def send(request: pytest.FixtureRequest) -> Send:
    return CLIENTS[request.param]


def test_a_token_in_the_url_path_reaches_no_log_note_or_event(send: Send, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="retrykit")
    token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
    events: list[RetryEvent] = []
    policy = FAST(on_retry=events.append, on_giveup=events.append)
    path = f"/bot{token}/sendMessage;jsessionid=S3CR3T5E55I0N1D"
    with FlakyServer([Reply.error(503) for _ in range(6)]) as server, instant(), pytest.raises(APIError) as info:
        send(policy, "GET", server.url + path, raise_for_status=True)
    assert server.requests[0].path == path  # sent as given
    texts = [r.getMessage() for r in caplog.records] + [*info.value.__notes__, str(info.value)]
    texts += [f"{e.function} {e!r}" for e in events]
    assert len(events) == 6
    assert "/<redacted>/sendMessage" in events[0].function
    for text in texts:
        assert "ABC-DEF1234" not in text
        assert "S3CR3T" not in text


def test_a_retry_events_repr_shows_the_errors_type_not_its_message() -> None:
    events: list[RetryEvent] = []
    policy = FAST(on_retry=events.append, max_retries=1)
    with instant(), pytest.raises(ValueError):
        policy(on=ValueError).call(fail_with_a_key_in_the_message)
    assert len(events) == 1
    text = repr(events[0])
    assert "sk-SECRET" not in text
    assert "error=<ValueError>" in text
    assert text.startswith("RetryEvent(function='fail_with_a_key_in_the_message', attempt=1, max_attempts=2")


def fail_with_a_key_in_the_message() -> None:
    raise ValueError("GET https://api.example/v1?api_key=sk-SECRET failed")
