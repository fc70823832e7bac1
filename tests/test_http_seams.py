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


def test_a_post_not_retried_says_it_is_the_method_and_names_both_opt_ins(send: Send) -> None:
    with FlakyServer([Reply.error(503)]) as server, instant(), pytest.raises(APIError) as info:
        send(FAST, "POST", server.url, body=b"pay=1", raise_for_status=True)
    note = "\n".join(info.value.__notes__)
    assert "HTTP 503 Service Unavailable is not retried for a non-idempotent method" in note
    assert "idempotency_keys=True" in note
    assert "retry_non_idempotent=True" in note
    assert "Retry after a moment" not in note  # the table's hint would send the user the wrong way
    assert len(server.requests) == 1


def test_a_post_whose_connection_dropped_says_the_same(send: Send) -> None:
    with FlakyServer([Reply.dropped()]) as server, instant(), pytest.raises(Exception) as info:
        send(FAST, "POST", server.url, body=b"pay=1")
    note = "\n".join(getattr(info.value, "__notes__", ()))
    assert "is not retried for a non-idempotent method" in note
    assert "retry_non_idempotent=True" in note
    assert len(server.requests) == 1


def test_a_post_at_a_fatal_status_keeps_the_tables_words(send: Send) -> None:
    with FlakyServer([Reply.error(401)]) as server, instant(), pytest.raises(APIError) as info:
        send(FAST, "POST", server.url, body=b"x", raise_for_status=True)
    note = "\n".join(info.value.__notes__)
    assert "HTTP 401 Unauthorized is not retryable" in note
    assert "idempotency_keys" not in note


def test_giving_up_logs_one_warning_whether_the_final_response_is_returned_or_raised(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="retrykit")
    with FlakyServer([Reply.error(503) for _ in range(6)]) as server, instant():
        assert send(FAST, "GET", server.url + "/v1/items?key=SECRET").status == 503
        url = server.url
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 6  # five retries, one give-up
    assert f"GET {url}/v1/items gave up after 6 attempts over 31.00 s: HTTP 503 Service Unavailable; no retries left" in lines[-1]
    assert "SECRET" not in lines[-1]


def test_an_answer_that_was_never_retryable_logs_nothing(send: Send, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="retrykit")
    with FlakyServer([Reply.error(404)]) as server, instant():
        assert send(FAST, "GET", server.url).status == 404
    assert caplog.records == []


def test_an_adapters_deadline_counts_from_the_start_of_the_request(send: Send) -> None:
    # Each attempt takes 0.6 s by this policy's clock (time is a function of the requests
    # served, plus the waits slept): the first failure is already 0.6 s into the request,
    # so a 1.0 s backoff would pass the 1.5 s deadline, and the response is returned at once.
    slept: list[float] = []

    async def async_sleep(delay: float) -> None:
        slept.append(delay)

    with FlakyServer([Reply.error(503) for _ in range(6)]) as server:
        policy = FAST(
            deadline=1.5,
            clock=lambda: 0.6 * len(server.requests) + sum(slept),
            sleep=slept.append,
            async_sleep=async_sleep,
        )
        assert send(policy, "GET", server.url).status == 503
    assert len(server.requests) == 1
    assert slept == []


def test_an_outer_policy_stops_when_the_adapter_gave_up_on_an_error(send: Send) -> None:
    with FlakyServer([Reply.dropped() for _ in range(6)]) as server, instant() as clock:

        @FAST
        def outer() -> Result:
            return send(FAST, "GET", server.url)

        with pytest.raises(Exception) as info:
            outer()
    assert "inner retry already gave up" not in "".join(getattr(info.value, "__notes__", ()))
    assert len(server.requests) == 6  # not 36
    assert len(clock.delays) == 5


def test_a_one_shot_body_not_retried_says_why(send: Send) -> None:
    body = iter([b"chunk1", b"chunk2"])
    headers = {"Content-Length": "12"} if send is CLIENTS["urllib"] else {}
    with FlakyServer([Reply.error(503)]) as server, instant(), pytest.raises(APIError) as info:
        send(FAST, "PUT", server.url, body=body, headers=headers, raise_for_status=True)
    note = "\n".join(info.value.__notes__)
    assert "the request's body was a one-shot stream" in note
    assert "as bytes, or as a seekable file" in note
    assert len(server.requests) == 1


def test_a_raising_hook_error_comes_out_as_itself(send: Send) -> None:
    def hook(event: RetryEvent) -> None:
        raise RuntimeError("hook failed")

    with FlakyServer([Reply.error(503)]) as server, instant(), pytest.raises(RuntimeError, match="hook failed") as info:
        send(FAST(on_retry=hook), "GET", server.url)
    assert not getattr(info.value, "__notes__", None)  # not taken for a failed attempt of the request
    assert isinstance(info.value.__context__, APIError)  # the failure the hook was told about
    assert len(server.requests) == 1
