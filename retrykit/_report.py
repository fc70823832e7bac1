"""What a retry reports: the events hooks and instruments receive, the give-up note, and the words for each stop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ._classify import describe
from ._config import Frozen
from ._engine import LONGEST_WAIT, RetryState, Stop
from ._results import REJECTED, RetriesExhausted
from ._status import StatusTable


class Target(Frozen):
    """What a retried call is, in words that stay few: metric labels and span attributes come from here.

    ``function`` is a function's qualified name, or for a request sent through an
    HTTP adapter the adapter's name (``requests``, ``httpx``, ``aiohttp``, ``urlopen``);
    ``method`` and ``host`` (``host:port``) are set for requests only. Never a URL
    path, a query, a message or a header value: those are unbounded, and may be secret.
    """

    __slots__ = ("function", "method", "host")
    function: str
    method: str | None
    host: str | None

    def __init__(self, function: str, method: str | None = None, host: str | None = None) -> None:
        self._init_fields(Target, locals())


class RetryEvent(Frozen):
    """What hooks receive: one failed attempt, and what the policy does about it.

    ``delay`` is the wait before the next attempt, or None when the policy gives
    up; ``stop`` then says why in words and ``stop_reason`` as a :class:`Stop`.
    ``reason`` describes the failure without secrets (``HTTP 503 Service
    Unavailable``, ``ConnectionRefusedError``, ``result rejected``); ``error`` is the
    exception itself (for a result ``on_result`` rejected, the ``RetriesExhausted``
    the call ends with if the policy gives up on it, its ``.result`` the value).
    ``max_attempts`` is None for a policy that retries until its deadline.
    ``elapsed`` is in seconds since the call started (or, without a deadline,
    since its first failure: the success path reads no clock). ``target`` names
    the call in bounded terms, for metric labels (see :class:`Target`).
    """

    __slots__ = (
        "function",
        "attempt",
        "max_attempts",
        "delay",
        "elapsed",
        "error",
        "reason",
        "status",
        "stop",
        "stop_reason",
        "target",
    )
    function: str
    attempt: int
    max_attempts: int | None
    delay: float | None
    elapsed: float
    error: BaseException
    reason: str
    status: int | None
    stop: str | None
    stop_reason: Stop | None
    target: Target

    def __init__(
        self,
        *,
        function: str,
        attempt: int,
        max_attempts: int | None,
        delay: float | None,
        elapsed: float,
        error: BaseException,
        reason: str,
        status: int | None = None,
        stop: str | None = None,
        stop_reason: Stop | None = None,
        target: Target | None = None,
    ) -> None:
        if target is None:
            target = Target(function)
        self._init_fields(RetryEvent, locals())

    def __repr__(self) -> str:
        # The error's message may hold a URL and its query (?api_key=...): its type says enough.
        cls = type(self.error)
        error = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
        shown = (f"error=<{error}>" if name == "error" else f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"RetryEvent({', '.join(shown)})"


def _describe(error: BaseException, status: int | None, table: StatusTable) -> str:
    """The failure's secret-free description; a rejected result is one, whatever its value."""
    if error.__class__ is RetriesExhausted:
        return REJECTED if status is None else f"{REJECTED} ({describe(error, status, table)})"
    return describe(error, status, table)


class Recovery(Frozen):
    """What instruments receive when a call succeeds after at least one retry.

    ``attempts`` counts every attempt, the successful one included; ``elapsed`` is
    in seconds, as in :class:`RetryEvent`.
    """

    __slots__ = ("function", "target", "attempts", "elapsed")
    function: str
    target: Target
    attempts: int
    elapsed: float

    def __init__(self, *, function: str, target: Target, attempts: int, elapsed: float) -> None:
        self._init_fields(Recovery, locals())


def reason(state: RetryState) -> str:
    """What failed, without secrets: ``HTTP 503 Service Unavailable``, ``ConnectionResetError``."""
    error = state.error
    return "" if error is None else _describe(error, state.status, state.rules.status_table)


# The words that follow the failure's description, by stop name ("HTTP 503 ..." + words):
# text, or a function of the state for words that carry numbers. Keyed by name: a str's
# hash is cached, an Enum member's is computed in Python each time.
_STOP_WORDS: dict[str, str | Callable[[RetryState], str]] = {
    "INHERITED": ": an inner retry already gave up on it",
    "NOT_RETRYABLE": " is not retryable",
    "NO_RETRIES_LEFT": lambda s: (
        f"; no retries left (max_retries={s.limit or 0})"
        if s.limit == s.rules.max_retries
        else f"; no retries left (testing.instant(attempts={(s.limit or 0) + 1}) caps every policy)"
    ),
    "SERVER_WAIT_TOO_LONG": lambda s: _too_long(s.refused, s.rules.max_retry_after),
    "DEADLINE": lambda s: f"; waiting {s.refused:.2f} s more would pass the {s.rules.deadline:g} s deadline",
    "BUDGET": "; the retry budget is exhausted (too many failures across calls)",
    "NOT_IDEMPOTENT": " is not retried for a non-idempotent method: the request may have been applied",
    "ONE_SHOT_BODY": " is not retried: the request's body was a one-shot stream, which cannot be sent again",
    "CLIENT_TIMEOUT": "; the client's total timeout for the request has run out, so no attempt could succeed",
}
# What to do about a stop, by name, where the status table's "How to fix" would send the user the wrong way.
_STOP_HINTS: dict[str, str] = {
    "NOT_IDEMPOTENT": (
        "send an Idempotency-Key the server dedupes on (idempotency_keys=True, or your own header), "
        "or retry anyway with retry_non_idempotent=True (the request may then be applied twice)"
    ),
    "ONE_SHOT_BODY": "pass the body as bytes, or as a seekable file, to have the request retried",
    "CLIENT_TIMEOUT": (
        "the client's total timeout spans every attempt and wait: bound each attempt instead "
        "(aiohttp: ClientTimeout(sock_connect=..., sock_read=...)) and the whole call with the policy's deadline="
    ),
}


def _too_long(asked: float | None, limit: float | None) -> str:
    if limit is not None and asked is not None and asked > limit:
        return f"; the server asked to wait {asked:g} s, over max_retry_after={limit:g} s"
    return f"; the server asked to wait {asked:g} s, longer than any sleep can wait ({LONGEST_WAIT:g} s)"


_NOT_RETRYABLE = Stop.NOT_RETRYABLE


def stop_text(state: RetryState) -> str | None:
    """Why the policy gave up on the last failure, in words (None while it retries)."""
    stop, error = state.stop, state.error
    if stop is None or error is None:
        return None
    words = _STOP_WORDS[stop._name_]
    return _describe(error, state.status, state.rules.status_table) + (words if isinstance(words, str) else words(state))


def hint(state: RetryState) -> str | None:
    """The status table's "How to fix" text when the policy gave up on a fatal status, or the stop's own."""
    stop = state.stop
    if stop is not _NOT_RETRYABLE:
        return None if stop is None else _STOP_HINTS.get(stop._name_)
    if state.status is None:
        return None
    return state.rules.status_table.rule(state.status).hint or None


# The words after "gave up on f after N attempts over X s: ", by what they depend on, for
# give-ups whose words carry no number of the call's own (a status's words depend on the
# table, a refused wait's on the wait): speed only, half the cost of a note on every give-up.
_Key = tuple[type[BaseException], str, int | None, int | None]
_whys: dict[_Key, str] = {}
_DEADLINE, _TOO_LONG = Stop.DEADLINE, Stop.SERVER_WAIT_TOO_LONG


def note(state: RetryState, function: str) -> str:
    """The PEP 678 note added to the exception when the policy gives up."""
    stop, error = state.stop, state.error
    if stop is None or error is None:
        return ""
    key: _Key | None = None
    why: str | None = None
    if state.status is None and stop is not _DEADLINE and stop is not _TOO_LONG:
        key = (error.__class__, stop._name_, state.limit, state.rules.max_retries)  # an Enum hashes in Python
        why = _whys.get(key)
    if why is None:
        why = _why(state, stop, error, key)
    attempt = state.attempt
    if attempt == 1:
        return f"retrykit: gave up on {function} after 1 attempt: {why}"
    elapsed = state.now - state.start
    return f"retrykit: gave up on {function} after {attempt} attempts over {elapsed if elapsed > 0.0 else 0.0:.2f} s: {why}"


def _why(state: RetryState, stop: Stop, error: BaseException, key: _Key | None) -> str:
    """The failure, why the policy stopped, and how to fix it (the note after its numbers)."""
    words = _STOP_WORDS[stop._name_]
    text = _describe(error, state.status, state.rules.status_table)
    text += words if isinstance(words, str) else words(state)
    fix = hint(state)
    if fix:
        text = f"{text}\nHow to fix: {fix}"
    if key is not None and len(_whys) < 256:
        _whys[key] = text
    return text


def event(state: RetryState, function: str, target: Target) -> RetryEvent:
    """The frozen event hooks and instruments get for the state's last failure."""
    error = state.error
    assert error is not None
    # Speed only: this runs on every reported retry (the default log line included), and
    # setting the slots directly costs a third of RetryEvent(...)'s keyword plumbing.
    made = RetryEvent.__new__(RetryEvent)
    _set(made, "function", function)
    _set(made, "attempt", state.attempt)
    _set(made, "max_attempts", None if state.limit is None else state.limit + 1)
    _set(made, "delay", state.delay)
    _set(made, "elapsed", state.elapsed)
    _set(made, "error", error)
    _set(made, "reason", reason(state))
    _set(made, "status", state.status)
    _set(made, "stop", stop_text(state))
    _set(made, "stop_reason", state.stop)
    _set(made, "target", target)
    return made


_set = object.__setattr__


def call_hook(hook: Callable[[RetryEvent], object], event: RetryEvent) -> Awaitable[object] | None:
    """Call ``on_retry`` or ``on_giveup``; if it raises, its error carries the failure as ``__context__``.

    Returns what an ``async def`` hook gave back, for the async faces to await (and
    the sync ones to refuse, see :func:`refuse_async_hook`); None for a sync hook.
    """
    try:
        result = hook(event)
    except BaseException as hook_error:
        keep_context(hook_error, event.error)
        raise
    if result is None or not hasattr(type(result), "__await__"):  # a sync hook (and no inspect import)
        return None
    return result  # type: ignore[return-value]  # it has __await__: an awaitable


async def await_hook(pending: Awaitable[object], error: BaseException | None) -> None:
    """Await an async hook's result; if it raises, its error carries the failure as ``__context__``."""
    try:
        await pending
    except BaseException as hook_error:
        keep_context(hook_error, error)
        raise


def keep_context(fault: BaseException, error: BaseException | None) -> None:
    """Make ``error`` (the failure being retried) the ``__context__`` of a fault raised while handling it."""
    try:
        if fault.__context__ is None and fault is not error:
            fault.__context__ = error
    except Exception:  # an exception that refuses attributes comes out as itself, context or not
        pass


def name_of(fn: object) -> str:
    """The name notes and logs use for a retried callable (a string is taken as the name itself)."""
    if isinstance(fn, str):
        return fn
    target = getattr(fn, "func", fn)  # functools.partial
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None)
    return name if isinstance(name, str) else type(target).__qualname__
