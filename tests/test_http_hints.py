"""What the server says about retrying, read the same by every adapter with its real client."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from retrykit import Backoff, RetryPolicy
from retrykit.testing import FlakyServer, Reply, instant

from .clients import CLIENTS, Result

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)
Send = Callable[..., Result]


@pytest.fixture(params=sorted(CLIENTS))
def send(request: pytest.FixtureRequest) -> Send:
    return CLIENTS[request.param]


@pytest.mark.parametrize(
    "fields",
    [
        [("Retry-After", "2"), ("Retry-After", "3")],  # two fields: requests and httpx join them with ", "
        [("Retry-After", "2, 3")],
        [("Retry-After", "soon"), ("Retry-After", "2")],
    ],
)
def test_two_retry_after_values_take_the_first_valid_one(send: Send, fields: list[tuple[str, str]]) -> None:
    with FlakyServer([Reply(503, b"", fields)]) as server, instant() as clock:
        assert send(FAST, "GET", server.url).status == 200
    if fields[0][1] == "soon" and send in (CLIENTS["aiohttp"], CLIENTS["urllib"]):
        assert clock.delays == [1.0]  # these clients keep only the first field, which says nothing: backoff
    else:
        assert clock.delays == [2.0]


@pytest.mark.parametrize("status", [503, 429, 500])
def test_x_should_retry_false_is_never_retried(send: Send, status: int) -> None:
    with FlakyServer([Reply.error(status, headers={"x-should-retry": "false"})]) as server, instant() as clock:
        assert send(FAST, "GET", server.url).status == status
    assert len(server.requests) == 1
    assert clock.delays == []


@pytest.mark.parametrize("status", [400, 409, 404])
def test_x_should_retry_true_is_retried_even_when_the_table_says_fatal(send: Send, status: int) -> None:
    with FlakyServer([Reply.error(status, headers={"X-Should-Retry": "true"})]) as server, instant() as clock:
        assert send(FAST, "GET", server.url).status == 200
    assert len(server.requests) == 2
    assert clock.delays == [1.0]


def test_x_should_retry_garbage_leaves_the_table_in_charge(send: Send) -> None:
    with FlakyServer([Reply.error(503, headers={"x-should-retry": "maybe"}), Reply.error(400, headers={"x-should-retry": "1"})]) as server, instant():
        assert send(FAST, "GET", server.url).status == 400
    assert len(server.requests) == 2
