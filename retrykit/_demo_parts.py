"""The demo's parts: for each, the local API's answers, the code run against them, and what it claims."""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import retrykit.urllib

from ._policy import RetryPolicy
from ._server import Received, Reply
from .errors import APIError

# Sent with every request of the demo; the summary checks it never shows up in what retrykit prints or logs.
API_KEY = "sk-demo-4f9c2a77e1"


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """What one part's code did: its result or error, the requests the server saw, the waits and log lines."""

    result: object
    error: BaseException | None
    requests: list[Received]
    delays: list[float]
    log: list[str]


Claim = tuple[str, bool]


@dataclasses.dataclass(frozen=True, slots=True)
class Part:
    """One section of the demo: the local API's answers, the code run against them, and what it claims.

    ``run(api, policy)`` is shown to the user as written (its body, without the
    docstring), so it must read like user code. ``claims`` returns (claim, held)
    pairs that the summary counts. Add a part by appending to :data:`PARTS`.
    """

    title: str
    replies: tuple[Reply, ...]
    run: Callable[[str, RetryPolicy], object]
    claims: Callable[[Outcome], Iterable[Claim]]
    paths: tuple[tuple[str, tuple[Reply, ...]], ...] = ()
    """Replies of their own for some paths, in order (FlakyServer's ``paths``), before ``replies``."""


# Part 1 --------------------------------------------------------------------------------------------------


def get_a_task(api: str, policy: RetryPolicy) -> object:
    """GET a task through retrykit.urllib.urlopen: the API answers 429, 500, drops the connection, 503, then 200."""
    request = urllib.request.Request(f"{api}/v1/tasks/task-1", headers={"Authorization": f"Bearer {API_KEY}"})
    with retrykit.urllib.urlopen(request, timeout=5, policy=policy, raise_for_status=True) as response:
        return json.loads(response.read())


def _get_a_task_claims(o: Outcome) -> Iterator[Claim]:
    yield "5 requests, the last answered 200 with the task", len(o.requests) == 5 and o.result == TASK
    yield "the wait after the 429 honoured its Retry-After: 1", bool(o.delays) and o.delays[0] >= 1.0
    yield "one WARNING line per retry", sum(line.startswith("WARNING ") for line in o.log) == 4


TASK = {"id": "task-1", "status": "done"}

# Part 2 --------------------------------------------------------------------------------------------------


def bad_api_key(api: str, policy: RetryPolicy) -> object:
    """A request with a bad API key: 401 is not retryable, so it fails at once with the error model's hint."""
    request = urllib.request.Request(f"{api}/v1/tasks/task-2", headers={"Authorization": f"Bearer {API_KEY}"})
    with retrykit.urllib.urlopen(request, timeout=5, policy=policy, raise_for_status=True) as response:
        return response.read()


def _fatal_claims(error_type: str, hint: str) -> Callable[[Outcome], Iterator[Claim]]:
    def claims(o: Outcome) -> Iterator[Claim]:
        yield f"exactly one request, then {error_type}", len(o.requests) == 1 and type(o.error).__name__ == error_type
        yield "its hint says how to fix it", isinstance(o.error, APIError) and o.error.hint == hint

    return claims


# Part 3 --------------------------------------------------------------------------------------------------


def out_of_credits(api: str, policy: RetryPolicy) -> object:
    """POST an image while out of credits: 402 is not retryable either."""
    request = urllib.request.Request(f"{api}/v1/images", data=b'{"prompt": "a cat"}', method="POST")
    with retrykit.urllib.urlopen(request, timeout=5, policy=policy, raise_for_status=True) as response:
        return response.read()


# Part 4 --------------------------------------------------------------------------------------------------


def post_with_a_key(api: str, policy: RetryPolicy) -> object:
    """POST with idempotency_keys=True: the 503 is retried, with the same Idempotency-Key on both attempts."""
    request = urllib.request.Request(f"{api}/v1/images", data=b'{"prompt": "a cat"}', method="POST")
    with retrykit.urllib.urlopen(
        request, timeout=5, policy=policy, idempotency_keys=True, raise_for_status=True
    ) as response:
        return json.loads(response.read())


def _post_with_a_key_claims(o: Outcome) -> Iterator[Claim]:
    keys = {r.header("Idempotency-Key") for r in o.requests}
    yield "2 requests, the second answered 200", len(o.requests) == 2 and o.error is None
    yield "both attempts carried one and the same Idempotency-Key", len(keys) == 1 and None not in keys


# Part 5 --------------------------------------------------------------------------------------------------


def give_up(api: str, policy: RetryPolicy) -> object:
    """A GET the API answers 503 every time: after 6 attempts you get urllib's own error, with a note."""
    with retrykit.urllib.urlopen(f"{api}/v1/tasks/task-3", timeout=5, policy=policy) as response:
        return response.read()


def _give_up_claims(o: Outcome) -> Iterator[Claim]:
    notes = getattr(o.error, "__notes__", [])
    yield (
        "6 requests, then the last error itself (urllib's HTTPError)",
        len(o.requests) == 6 and type(o.error).__name__ == "HTTPError",
    )
    yield "its note says why retrykit gave up", any("no retries left (max_retries=5)" in n for n in notes)


# Part 6 --------------------------------------------------------------------------------------------------


def poll_a_task(api: str, policy: RetryPolicy) -> object:
    """Create an image task (202), then poll it with on_result until it is done: no count, a deadline."""
    create = urllib.request.Request(f"{api}/v1/images", data=b'{"prompt": "a cat"}', method="POST")
    with retrykit.urllib.urlopen(create, timeout=5, policy=policy, raise_for_status=True) as response:
        task = json.loads(response.read())

    @policy(on_result=lambda task: task["status"] != "done", max_retries=None, deadline=60)
    def get_task(task_id: str) -> dict[str, str]:
        with retrykit.urllib.urlopen(f"{api}/v1/images/{task_id}", timeout=5, raise_for_status=True) as response:
            task: dict[str, str] = json.loads(response.read())
        return task

    return get_task(task["id"])


def _poll_claims(o: Outcome) -> Iterator[Claim]:
    yield "1 POST, then 3 polls, the last one done", len(o.requests) == 4 and o.result == IMAGE_DONE
    yield (
        "each pending result was retried like a failure (backoff, log line)",
        len(o.delays) == 2 and all("(result rejected)" in line for line in o.log if line.startswith("WARNING ")),
    )


IMAGE_PENDING = {"id": "img-7", "status": "pending"}
IMAGE_DONE = {"id": "img-7", "status": "done", "url": "https://images.example/img-7.png"}

# Part 7 --------------------------------------------------------------------------------------------------


def poll_an_expired_task(api: str, policy: RetryPolicy) -> object:
    """Poll a task older than 30 days: 410 is final, so the poll fails at once with the error model's hint."""

    @policy(on_result=lambda task: task["status"] != "done", max_retries=None, deadline=60)
    def get_task(task_id: str) -> dict[str, str]:
        with retrykit.urllib.urlopen(f"{api}/v1/images/{task_id}", timeout=5, raise_for_status=True) as response:
            task: dict[str, str] = json.loads(response.read())
        return task

    return get_task("img-1")


def _error(status: int, message: str, type: str, code: str, **extra: Any) -> Reply:
    return Reply.error(status, message, type=type, code=code, **extra)


OVERLOADED = _error(503, "Overloaded", "server_error", "overloaded")

PARTS: list[Part] = [
    Part(
        "A GET that meets 429, 500, a dropped connection and 503, then succeeds",
        (
            _error(
                429, "Rate limit exceeded. Please slow down.", "rate_limit_error", "rate_limit_exceeded", retry_after=1
            ),
            _error(500, "Internal error", "server_error", "internal_error"),
            Reply.dropped(),
            OVERLOADED,
            Reply(200, TASK),
        ),
        get_a_task,
        _get_a_task_claims,
    ),
    Part(
        "A bad API key (401)",
        (_error(401, "Invalid API key", "authentication_error", "invalid_api_key"),),
        bad_api_key,
        _fatal_claims(
            "AuthenticationError", "Check that your API key is valid and included in the Authorization header."
        ),
    ),
    Part(
        "Out of credits (402)",
        (_error(402, "Insufficient credits", "billing_error", "insufficient_credits"),),
        out_of_credits,
        _fatal_claims("InsufficientCreditsError", "Top up credits in the Dashboard."),
    ),
    Part(
        "A POST with an idempotency key (503, then 200)",
        (OVERLOADED, Reply(200, {"id": "img-7", "status": "queued"})),
        post_with_a_key,
        _post_with_a_key_claims,
    ),
    Part("Giving up (503 six times)", (OVERLOADED,) * 6, give_up, _give_up_claims),
    Part(
        "Polling a task until it is done (created, pending, pending, done)",
        (),
        poll_a_task,
        _poll_claims,
        paths=(
            ("/v1/images", (Reply(202, IMAGE_PENDING),)),
            ("/v1/images/img-7", (Reply(200, IMAGE_PENDING), Reply(200, IMAGE_PENDING), Reply(200, IMAGE_DONE))),
        ),
    ),
    Part(
        "Polling an expired task (410)",
        (),
        poll_an_expired_task,
        _fatal_claims("GoneError", "Resource has expired (e.g., an image generation task older than 30 days)."),
        paths=(("/v1/images/img-1", (_error(410, "Task expired", "invalid_request_error", "gone"),)),),
    ),
]
