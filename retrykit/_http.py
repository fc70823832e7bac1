"""One HTTP request's retry driver, shared by the adapters (the rules it applies are in ``_rules``).

Each adapter (requests, httpx, aiohttp, urllib) only sends, reads and sleeps;
every decision goes through :class:`RequestRetry` and from there to the engine.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import _instruments, _runtime
from ._engine import GAVE_UP_MARK, Stop
from ._headers import get_header, server_verdict
from ._options import HTTPOptions
from ._policy import RetryPolicy
from ._report import Target
from ._rules import IDEMPOTENCY_HEADER, IDEMPOTENT_METHODS, NOT_APPLIED_STATUSES, was_not_sent
from ._run import Run
from ._scope import Scope
from ._target import RequestName, host_of, safe_target
from .errors import APIError


def mark_gave_up(obj: object) -> None:
    """Mark a response we gave up on, so a policy around the caller does not retry it again."""
    try:
        setattr(obj, GAVE_UP_MARK, True)
    except (AttributeError, TypeError):
        pass


def forget_frames(error: BaseException) -> None:
    """Drop the tracebacks of a failure that is being retried, down its chain of causes.

    Clients can leave an error in a cycle of its own frames (requests does, for a dropped
    connection); those frames hold this request's objects. Nobody sees a retried error's
    traceback again (hooks have had it), so the frames go now rather than with the collector.
    """
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 16:
        current.__traceback__ = None
        current = current.__cause__ or current.__context__
        seen += 1


class RequestRetry:
    """One logical HTTP request across its attempts: decides, the adapter acts.

    ``check_response`` and ``check_error`` (``acheck_error``) end the attempt (its
    span closed, the hooks told) and return the seconds to wait before the next
    one, or None: hand the response back / re-raise the error. The loops that act
    on them are in ``_http_loops``.
    """

    __slots__ = (
        "policy",
        "options",
        "client",
        "method",
        "url",
        "budget",
        "scope",
        "key",
        "by_table",
        "replayable",
        "start",
        "run",
        "final",
        "status",
        "out_of_time",
        "decided",
        "escaping",
        "asynchronous",
        "tracing",
        "traced",
        "span",
    )

    def __init__(
        self,
        policy: RetryPolicy,
        options: HTTPOptions,
        method: str,
        url: object,
        headers: object,
        *,
        client: str,
        replayable: bool = True,
    ) -> None:
        if policy.on_result is not None:
            # Refused, not ignored: the adapters hand back a response before its body is read.
            raise TypeError(
                "the HTTP adapters do not apply on_result to each response; retry the function that "
                "makes the request instead (@RetryPolicy(on_result=...) def poll(): return session.get(url))"
            )
        self.policy = policy
        self.options = options
        # Kept for the name in notes and logs, which is only made if an attempt fails.
        self.client, self.method, self.url = client, method, url
        budgets = options.budgets
        self.budget = budgets.for_host(host_of(url)) if budgets is not None else policy.budget
        fleet = options.fleet
        self.scope: Scope | None = fleet.host(url) if fleet is not None else policy.fleet
        method = method.upper()
        self.key: str | None = None
        if method in IDEMPOTENT_METHODS:
            self.by_table = True
        else:
            has_key = get_header(headers, IDEMPOTENCY_HEADER) is not None
            if not has_key and options.idempotency_keys:
                import uuid

                self.key = str(uuid.uuid4())  # one key per logical call, sent on every attempt
            self.by_table = has_key or self.key is not None or options.retry_non_idempotent
        self.replayable = replayable
        # A deadline counts from the start of the request, as policy.call's does: then (only)
        # the success path reads a clock. The driver itself is made at the first failure.
        self.start = (_runtime.override or policy).clock() if policy.deadline is not None else None
        self.run: Run | None = None
        self.final: APIError | None = None
        self.status = 0  # the last response's, as check_response saw it
        # Set by an adapter whose client's own timeout for the whole request ran out.
        self.out_of_time = False
        # Where the client runs the retry loop itself and asks us (requests: urllib3 does):
        # the response already decided on there, and an error a hook raised there, which
        # passes through the adapter's own loop untouched.
        self.decided: object = None
        self.escaping: BaseException | None = None
        self.asynchronous = False  # set by adrive(): async def hooks are then awaited, not refused
        self.tracing = _instruments.tracing  # instruments that trace each attempt (usually none)
        self.traced: tuple[Target, str] | None = None  # the request's target and loggable URL, for them
        self.span: _instruments.AttemptSpan | None = None  # the open attempt's, between began() and ended()

    def extra_headers(self) -> Mapping[str, str]:
        return {IDEMPOTENCY_HEADER: self.key} if self.key else {}

    def _new_run(self) -> Run:
        run = Run(self.policy, RequestName(self.client, self.method, self.url), self.start, asynchronous=self.asynchronous)
        return run.narrowed(self.budget, self.scope, self.target())

    def _run(self) -> Run:
        if self.run is None:
            self.run = self._new_run()
        return self.run

    def target(self) -> Target:
        """The request in bounded terms (adapter, method, host:port), for instruments."""
        return Target(self.client, self.method.upper(), host_of(self.url))

    def began(self) -> None:
        """An attempt is about to be sent: open the tracing instruments' span around it (current until it ends)."""
        if self.traced is None:  # worked out once per request: parsing the URL is most of our share
            self.traced = (self.target(), safe_target(self.method, self.url).partition(" ")[2])
        target, url = self.traced
        resend_count = self.run.state.attempt if self.run is not None else 0
        span = self.span = _instruments.span_for(self.tracing, target, url, resend_count)
        if span is not None:
            span.__enter__()

    def ended(self, status: int | None = None, error: BaseException | None = None) -> None:
        """The attempt got a response with ``status``, or failed with ``error``: close its span."""
        span, self.span = self.span, None
        if span is None:
            return
        if status is not None:
            span.responded(status)
        if error is None:
            span.__exit__(None, None, None)
        else:
            span.__exit__(type(error), error, error.__traceback__)

    def check_response(self, status: int, headers: object, response: object = None) -> float | None:
        """After a response: seconds to wait before retrying it, or None to hand it back.

        A response handed back after giving up is marked, so a policy around the
        caller (``@retry`` over ``raise_for_status()``) does not retry it again.
        """
        self.status = status
        if self.tracing:
            self.ended(status)
        if response is not None and response is self.decided:
            self.decided = None
            return None
        scope = self.scope
        if scope is not None and scope.learns:  # every response's quota headers pace the host's fleet
            scope.learn(headers)
        table = self.policy.status_table
        if status < 400 and not table.is_retryable(status):
            run = self.run
            if run is not None:
                run.state.error = None  # the last failure's traceback holds frames that hold this call
                run.succeeded()  # the budget's, the fleet's, and a recovery for the instruments
            else:
                budget = self.budget
                if budget is not None:
                    budget.record_success()
                if scope is not None:
                    scope.succeeded()
            return None
        run = self._run()
        error = APIError.from_response(status, None, headers, now=run.wall_time(), table=table)
        verdict = server_verdict(headers)
        retryable = table.is_retryable(status) if verdict is None else verdict
        allowed, refusal = self._allowed(retryable, self.by_table or status in NOT_APPLIED_STATUSES)
        delay = run.failed(error, allowed, refusal=refusal)
        if delay is None:
            self.final = error
            if run.exhausted:  # retried and stopped; a mere decline leaves an outer policy free to retry
                mark_gave_up(response)
        return delay

    def check_error(self, error: BaseException) -> float | None:
        """After a failed attempt that raised: seconds to wait (the error's frames dropped), or None to re-raise."""
        delay = self._error_delay(error)
        if delay is not None:
            forget_frames(error)
        return delay

    async def acheck_error(self, error: BaseException) -> float | None:
        """:meth:`check_error` for async sends: an ``async def`` hook is awaited before the frames go."""
        delay = self._error_delay(error)
        run = self.run
        if run is not None and run.pending is not None:
            await run.flush(error)
        if delay is not None:
            forget_frames(error)
        return delay

    def _error_delay(self, error: BaseException) -> float | None:
        if self.tracing:
            self.ended(error=error)
        if not isinstance(error, Exception) or error is self.escaping:
            return None
        if self.out_of_time:
            return self._run().failed(error, False, refusal=Stop.CLIENT_TIMEOUT)
        retryable = self.policy.should_retry(error)
        allowed, refusal = self._allowed(retryable, self.by_table or was_not_sent(error))
        return self._run().failed(error, allowed, refusal=refusal)

    def _allowed(self, retryable: bool, method_allows: bool) -> tuple[bool, Stop]:
        """Whether a failure the policy would retry may be retried, and if not, which rule says no."""
        if not retryable:
            return False, Stop.NOT_RETRYABLE
        if not self.replayable:
            return False, Stop.ONE_SHOT_BODY
        if not method_allows:
            return False, Stop.NOT_IDEMPOTENT
        return True, Stop.NOT_RETRYABLE

    def sleep(self, delay: float) -> None:
        self._run().sleep(delay)

    async def async_sleep(self, delay: float) -> None:
        await self._run().async_sleep(delay)

    def final_error(self, body: bytes | None, headers: object) -> APIError:
        """The typed error to raise for the final error response, carrying the give-up note."""
        table = self.policy.status_table
        error = APIError.from_response(self.status, body, headers, table=table)
        if self.final is not None:
            error.retry_after = self.final.retry_after
            for note in getattr(self.final, "__notes__", ()):
                error.add_note(note)
        if self.exhausted:
            setattr(error, GAVE_UP_MARK, True)
        return error

    @property
    def exhausted(self) -> bool:
        """Whether this request was retried and stopped (what is handed back is marked), not declined."""
        return self.run is not None and self.run.exhausted

    def should_raise(self) -> bool:
        """Whether the response handed back is to be raised as an :class:`APIError` (``raise_for_status``)."""
        return self.options.raise_for_status and self.status >= 400

    def annotate(self, error: BaseException) -> None:
        """Give a client's own error for the final response the give-up note, and mark it."""
        if self.final is not None:
            present = getattr(error, "__notes__", ())
            for note in getattr(self.final, "__notes__", ()):
                if note not in present:
                    error.add_note(note)
        if self.exhausted:
            mark_gave_up(error)


__all__ = ["RequestRetry", "mark_gave_up"]
