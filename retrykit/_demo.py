"""The demo behind ``python -m retrykit demo``: runs each part, shows its code, what happened, and checks its claims."""

from __future__ import annotations

import inspect
import itertools
import logging
import re
import textwrap
import time
import urllib.error
from collections.abc import Callable, Iterable, Iterator

from ._backoff import Backoff
from ._demo_parts import API_KEY, PARTS, Claim, Outcome, Part
from ._policy import RetryPolicy
from ._server import FlakyServer, Received, Reply

__all__ = ["API_KEY", "PARTS", "code_of", "demo", "run_part"]


def code_of(function: Callable[..., object]) -> str:
    """The body of ``function`` as written, without its ``def`` line and docstring."""
    lines = textwrap.dedent(inspect.getsource(function)).splitlines()
    body = lines[1:]  # parts' signatures fit on one line
    if body and body[0].strip().startswith('"""'):
        end = next(i for i, line in enumerate(body) if line.rstrip().endswith('"""') and (i or line.count('"""') == 2))
        body = body[end + 1 :]
    return textwrap.dedent("\n".join(body)).strip("\n")  # a blank line after the docstring is not code


# Running the parts ---------------------------------------------------------------------------------------


class _Lines(logging.Handler):
    """Collects retrykit's log lines as a user's console would show them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def run_part(part: Part, policy: RetryPolicy) -> Outcome:
    """Run one part against a fresh local API that answers with the part's replies."""
    delays: list[float] = []
    policy = policy.replace(on_retry=lambda event: delays.append(event.delay or 0.0))
    handler = _Lines()
    logger = logging.getLogger("retrykit")
    logger.addHandler(handler)
    result: object = None
    error: BaseException | None = None
    try:
        script = FlakyServer(
            part.replies, default=Reply.error(500, "the demo's script ran out"), paths=dict(part.paths)
        )
        with script as server:
            try:
                result = part.run(server.url, policy)
            except Exception as exc:  # shown to the user below
                error = exc
                if isinstance(exc, urllib.error.HTTPError):
                    exc.close()  # urllib's HTTPError is also the response, holding its connection
            requests = list(server.requests)
    finally:
        logger.removeHandler(handler)
    return Outcome(result, error, requests, delays, handler.lines)


def _collapsed(lines: list[str]) -> Iterator[tuple[str, int]]:
    """Each log line with how many lines after it say the same but for the numbers (attempt, wait)."""
    for _, group in itertools.groupby(lines, key=lambda line: re.sub(r"[\d.]+", "#", line)):
        first, *alike = group
        yield first, len(alike)


def _answered(part: Part, requests: list[Received]) -> list[Reply]:
    """The reply each request got, in order: its path's own script first, as FlakyServer plays them."""
    shared = list(part.replies)
    paths = {path: list(replies) for path, replies in part.paths}
    answered = []
    for request in requests:
        own = paths.get(request.path.partition("?")[0])
        answered.append(own.pop(0) if own else shared.pop(0) if shared else Reply(500))
    return answered


def _answers(replies: Iterable[Reply]) -> str:
    def one(reply: Reply) -> str:
        if reply.drop:
            return "connection dropped"
        after = dict(reply.headers).get("Retry-After")
        return f"{reply.status} (Retry-After: {after})" if after else str(reply.status)

    return ", ".join(one(reply) for reply in replies)


def demo(scale: float, write: Callable[[str], object] = print) -> int:
    """Run every part at ``scale`` times the error model's real waits; 0 when every claim holds."""
    backoff = Backoff(base=1.0 * scale, cap=30.0 * scale, jitter=1.0 * scale)
    policy = RetryPolicy(backoff=backoff, retry_after_jitter=1.0 * scale)
    shown: list[str] = []

    def say(line: str = "") -> None:
        shown.append(line)
        write(line)

    say("retrykit demo: calls to a local API on 127.0.0.1 that fails the way docs/error-model.md describes.")
    say(
        f"Policy: {policy.max_attempts} attempts; wait min({backoff.base:g} * 2**n, {backoff.cap:g}) + uniform[0, "
        f"{backoff.jitter:g}) s after failure n (the error model's schedule at {scale:g}x); Retry-After as sent."
    )
    say("Each part shows its code (`api` is the local server's URL), what the API answered, and what happened.")
    claims: list[Claim] = []
    requests = 0
    started = time.monotonic()
    for number, part in enumerate(PARTS, 1):
        say()
        say(f"{number}. {part.title}")
        for line in code_of(part.run).splitlines():
            say(f"    | {line}")
        outcome = run_part(part, policy)
        requests += len(outcome.requests)
        say(f"  the API answered: {_answers(_answered(part, outcome.requests))}")
        for line, alike in _collapsed(outcome.log):
            say(f"  log: {line}" + (f"  (+{alike} more like it)" if alike else ""))
        if outcome.error is None:
            say(f"  returned: {outcome.result!r}")
        else:
            say(f"  raised: {type(outcome.error).__module__}.{type(outcome.error).__qualname__}: {outcome.error}")
            for note in getattr(outcome.error, "__notes__", []):
                for line in str(note).splitlines():
                    say(f"    {line}")
        for claim, ok in part.claims(outcome):
            claims.append((claim, ok))
            say(f"  {'ok' if ok else 'NOT TRUE'}: {claim}")
    claims.append(("the API key sent with the requests never appears above", not any(API_KEY in s for s in shown)))
    held = sum(1 for _, ok in claims if ok)
    say()
    say(
        f"summary: {len(PARTS)} parts, {requests} HTTP requests, {time.monotonic() - started:.1f} s; "
        f"{held} of {len(claims)} claims hold"
    )
    for claim, ok in claims:
        if not ok:
            say(f"  NOT TRUE: {claim}")
    if claims[-1][1]:
        say(f"  ok: {claims[-1][0]}")
    return 0 if held == len(claims) else 1
