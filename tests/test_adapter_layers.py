"""The adapters at the seams of the core: what they mark, what they leave for the collector, async hooks."""

from __future__ import annotations

import gc
from collections.abc import Callable

import pytest

from retrykit import RetryPolicy
from retrykit._engine import RetryState
from retrykit._http import RequestRetry
from retrykit._run import Run
from retrykit.testing import FlakyServer, Reply, instant

from .clients import CLIENTS, Result

QUIET = RetryPolicy(log=False)


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_post_the_adapter_declined_is_retried_by_the_users_own_policy(client: str) -> None:
    # The adapter declines a POST (it may have been applied); the user chose to wrap the call in
    # a policy of their own, so that one follows the status table: 6 requests, not 1.
    send = CLIENTS[client]
    outer = RetryPolicy(max_retries=5, log=False)
    with FlakyServer(default=Reply.error(503, "busy")) as server, instant():
        with pytest.raises(Exception) as raised:
            outer.call(send, QUIET, "POST", server.url + "/v1/images", b"{}", raise_for_status=True)
    assert len(server.requests) == 6
    assert not any("no retries left" in note for note in getattr(raised.value, "__notes__", ())[:-1])


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_get_the_adapter_retried_and_gave_up_on_is_not_retried_again_outside(client: str) -> None:
    send = CLIENTS[client]
    outer = RetryPolicy(max_retries=5, log=False)
    with FlakyServer(default=Reply.error(503, "busy")) as server, instant():
        with pytest.raises(Exception):  # noqa: B017 - each client raises its own error
            outer.call(send, QUIET.replace(max_retries=2), "GET", server.url + "/v1/tasks/1", raise_for_status=True)
    assert len(server.requests) == 3


def _retry_objects_in_cycles(call: Callable[[], object]) -> list[str]:
    """The engine's, driver's and request's objects that only the cycle collector would free after ``call``."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        call()
        gc.collect()
        found = [type(o).__name__ for o in gc.garbage if isinstance(o, (RetryState, Run, RequestRetry))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_request_that_recovers_after_a_dropped_connection_leaves_no_cycle(client: str) -> None:
    send = CLIENTS[client]
    with FlakyServer() as server, instant():

        def call() -> Result:
            server.add(Reply.dropped())
            server.add(Reply(200, {"ok": True}))
            return send(QUIET, "GET", server.url + "/v1/tasks/1")

        call()  # warm up: the client's own one-time objects are not ours to count
        assert _retry_objects_in_cycles(call) == []


@pytest.mark.parametrize("client", ["httpx-async", "aiohttp"])
def test_an_async_hook_is_awaited_by_the_async_adapters(client: str) -> None:
    hook_calls: list[int] = []

    async def on_retry(event: object) -> None:
        hook_calls.append(getattr(event, "attempt", 0))

    policy = RetryPolicy(on_retry=on_retry, log=False)
    with FlakyServer([Reply.error(503, "busy"), Reply(200, {"ok": True})]) as server, instant():
        result = CLIENTS[client](policy, "GET", server.url + "/v1/tasks/1")
    assert result.status == 200
    assert hook_calls == [1]
