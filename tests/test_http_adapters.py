"""Every adapter, with its real client, against a real server on 127.0.0.1 (virtual time)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from retrykit import Backoff, HostBudgets, RetryBudget, RetryEvent, RetryPolicy, is_transient
from retrykit.errors import APIError, AuthenticationError, ServerError
from retrykit.testing import FlakyServer, Reply, instant, unused_port

from .clients import CLIENTS, Result

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)
Send = Callable[..., Result]


@pytest.fixture(params=sorted(CLIENTS))
def send(request: pytest.FixtureRequest) -> Send:
    return CLIENTS[request.param]


def test_5xx_then_success(send: Send) -> None:
    with FlakyServer([Reply.error(503), Reply.error(500)]) as server, instant() as clock:
        result = send(FAST, "GET", server.url + "/v1/items")
    assert result.status == 200
    assert len(server.requests) == 3
    assert clock.delays == [1.0, 2.0]


@pytest.mark.parametrize("status", [400, 401, 402, 404, 410])
def test_fatal_statuses_make_exactly_one_request(send: Send, status: int) -> None:
    with FlakyServer([Reply.error(status, "nope")]) as server, instant() as clock:
        result = send(FAST, "GET", server.url + "/v1/items")
    assert result.status == status
    assert len(server.requests) == 1
    assert clock.delays == []


def test_429_waits_for_retry_after(send: Send) -> None:
    with FlakyServer([Reply.error(429, retry_after=7)]) as server, instant() as clock:
        assert send(FAST, "GET", server.url).status == 200
    assert clock.delays == [7.0]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "2500"}, 2.5),
        ({"RateLimit": '"default";r=0;t=12'}, 12.0),
        ({"RateLimit-Reset": "9"}, 9.0),
        ({"X-RateLimit-Reset": "4"}, 4.0),
        ({"Retry-After": "3", "retry-after-ms": "9000"}, 3.0),
        ({"Retry-After": "garbage", "retry-after-ms": "1500"}, 1.5),
    ],
)
def test_other_rate_limit_signals_are_honoured(send: Send, headers: dict[str, str], expected: float) -> None:
    with FlakyServer([Reply.error(429, headers=headers)]) as server, instant() as clock:
        assert send(FAST, "GET", server.url).status == 200
    assert clock.delays == [expected]


def test_a_retry_after_over_the_cap_returns_the_response_at_once(send: Send) -> None:
    with FlakyServer([Reply.error(429, retry_after=3600)]) as server, instant() as clock:
        assert send(FAST, "GET", server.url).status == 429
    assert clock.delays == []
    assert len(server.requests) == 1


def test_retries_run_out_and_the_final_response_is_returned(send: Send) -> None:
    with FlakyServer([Reply.error(503, "busy") for _ in range(6)]) as server, instant() as clock:
        result = send(FAST, "GET", server.url)
    assert result.status == 503
    assert b"busy" in result.body  # the caller can still read the last body
    assert len(server.requests) == 6
    assert clock.delays == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_raise_for_status_gives_the_typed_error_with_note_and_hint(send: Send) -> None:
    with FlakyServer([Reply.error(503, "busy", code="overloaded") for _ in range(6)]) as server, instant():
        with pytest.raises(ServerError) as info:
            send(FAST, "GET", server.url, raise_for_status=True)
    error = info.value
    assert error.status == 503
    assert error.code == "overloaded"
    assert error.message == "busy"
    assert "after 6 attempts" in error.__notes__[0]
    with FlakyServer([Reply.error(401, "bad key", type="auth_error", code="invalid_api_key")]) as server:
        with pytest.raises(AuthenticationError) as auth:
            send(FAST, "GET", server.url, raise_for_status=True)
    assert auth.value.hint.startswith("Check that your API key")
    assert len(server.requests) == 1


def test_dropped_connections_are_retried(send: Send) -> None:
    with FlakyServer([Reply.dropped(), Reply.dropped()]) as server, instant() as clock:
        assert send(FAST, "GET", server.url).status == 200
    assert len(server.requests) == 3
    assert clock.delays == [1.0, 2.0]


def test_connection_refused_is_retried_then_raised_with_a_note(send: Send) -> None:
    events: list[RetryEvent] = []
    policy = FAST.replace(on_retry=events.append)
    with instant() as clock, pytest.raises(Exception) as info:
        send(policy, "GET", f"http://127.0.0.1:{unused_port()}/")
    assert len(events) == 5
    assert clock.delays == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert "after 6 attempts" in "".join(getattr(info.value, "__notes__", []))
    assert is_transient(info.value)


def test_post_is_not_retried_on_5xx_by_default(send: Send) -> None:
    with FlakyServer([Reply.error(503)]) as server, instant():
        assert send(FAST, "POST", server.url, body=b"pay=1").status == 503
    assert len(server.requests) == 1


def test_post_is_retried_on_429_the_request_was_not_applied(send: Send) -> None:
    with FlakyServer([Reply.error(429, retry_after=1)]) as server, instant():
        assert send(FAST, "POST", server.url, body=b"pay=1").status == 200
    assert [r.body for r in server.requests] == [b"pay=1", b"pay=1"]


def test_post_is_retried_when_the_connection_was_refused(send: Send) -> None:
    events: list[RetryEvent] = []
    with instant(), pytest.raises(Exception) as info:
        send(FAST.replace(on_retry=events.append), "POST", f"http://127.0.0.1:{unused_port()}/", body=b"x")
    assert len(events) == 5
    assert is_transient(info.value)


def test_idempotency_keys_are_stable_across_attempts_and_bodies_replayed(send: Send) -> None:
    with FlakyServer([Reply.error(503), Reply.error(502)]) as server, instant():
        assert send(FAST, "POST", server.url, body=b'{"amount": 5}', idempotency_keys=True).status == 200
    keys = {r.header("Idempotency-Key") for r in server.requests}
    assert len(server.requests) == 3
    assert len(keys) == 1
    assert None not in keys
    assert [r.body for r in server.requests] == [b'{"amount": 5}'] * 3


def test_each_logical_call_gets_its_own_key(send: Send) -> None:
    with FlakyServer() as server:
        send(FAST, "POST", server.url, body=b"a", idempotency_keys=True)
        send(FAST, "POST", server.url, body=b"a", idempotency_keys=True)
    assert server.requests[0].header("Idempotency-Key") != server.requests[1].header("Idempotency-Key")


def test_the_callers_idempotency_key_makes_post_retryable(send: Send) -> None:
    with FlakyServer([Reply.error(500)]) as server, instant():
        assert send(FAST, "POST", server.url, body=b"a", headers={"Idempotency-Key": "mine"}).status == 200
    assert [r.header("Idempotency-Key") for r in server.requests] == ["mine", "mine"]


def test_retry_non_idempotent_retries_post_without_a_key(send: Send) -> None:
    with FlakyServer([Reply.error(500)]) as server, instant():
        assert send(FAST, "PATCH", server.url, body=b"a", retry_non_idempotent=True).status == 200
    assert len(server.requests) == 2
    assert server.requests[0].header("Idempotency-Key") is None


def test_a_one_shot_stream_body_is_sent_once(send: Send) -> None:
    if send is CLIENTS["urllib"]:
        body: object = iter([b"chunk1", b"chunk2"])
        headers = {"Content-Length": "12"}
    else:
        body = iter([b"chunk1", b"chunk2"])
        headers = {}
    with FlakyServer([Reply.error(503)]) as server, instant():
        assert send(FAST, "PUT", server.url, body=body, headers=headers).status == 503
    assert len(server.requests) == 1
    assert server.requests[0].body == b"chunk1chunk2"


def test_no_secret_reaches_logs_or_errors(send: Send, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="retrykit")
    secret = "sk-live-SECRET"
    headers = {"Authorization": f"Bearer {secret}"}
    with FlakyServer([Reply.error(503) for _ in range(6)]) as server, instant(), pytest.raises(APIError) as info:
        send(FAST, "GET", f"{server.url}/v1?api_key={secret}", headers=headers, raise_for_status=True)
    texts = [r.getMessage() for r in caplog.records] + [str(info.value), repr(info.value), *info.value.__notes__]
    assert len(caplog.records) == 6  # five retries and the give-up
    for text in texts:
        assert secret not in text
    assert server.requests[0].header("Authorization") == f"Bearer {secret}"


def test_retries_do_not_multiply_around_an_adapter(send: Send) -> None:
    with FlakyServer([Reply.error(503) for _ in range(6)]) as server, instant() as clock:

        @FAST
        def outer() -> Result:
            return send(FAST, "GET", server.url, raise_for_status=True)

        with pytest.raises(ServerError):
            outer()
    assert len(server.requests) == 6
    assert len(clock.delays) == 5


def test_per_host_budgets_stop_retrying_a_failing_host_only(send: Send) -> None:
    budgets = HostBudgets(max_tokens=4)
    failing = FlakyServer(default=Reply.error(503))
    with failing, FlakyServer([Reply.error(503)]) as healthy, instant():
        assert send(FAST, "GET", failing.url, budgets=budgets).status == 503
        assert len(failing.requests) == 2  # 4 -> 3 tokens: retry; 3 -> 2: not above half
        assert send(FAST, "GET", failing.url, budgets=budgets).status == 503
        assert len(failing.requests) == 3  # the host's budget is spent: no retry at all
        assert send(FAST, "GET", healthy.url, budgets=budgets).status == 200
        assert len(healthy.requests) == 2  # another host keeps its own full budget


def test_bad_budgets_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="budgets"):
        CLIENTS["requests"](FAST, "GET", "http://127.0.0.1:1/", budgets=RetryBudget())
