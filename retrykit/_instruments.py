"""The global instrument registry every policy reports to, the standard-library logging instrument, and what instruments share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType

from ._report import Recovery, RetryEvent, Target
from ._results import REJECTED, RetriesExhausted


class AttemptSpan:
    """One attempt of an HTTP request as an instrument traces it: a context manager around the send."""

    __slots__ = ()

    def __enter__(self) -> AttemptSpan:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def responded(self, status: int) -> None:
        """The attempt got a response with this status."""


class Instrument:
    """Base class of instruments: override the moments you want to see; the rest do nothing.

    Registered with :func:`set_instruments`, an instrument hears from every policy,
    the HTTP adapters' default policies included, besides each policy's own
    ``on_retry``/``on_giveup``. Like those hooks, an instrument that raises stops the call.
    """

    __slots__ = ()
    # True for instruments that write log lines: a policy made with log=False skips them.
    logs = False

    def hears_retries(self) -> bool:
        """Whether :meth:`on_retry` would do anything now: if no one hears, no event is built."""
        return True

    def on_retry(self, event: RetryEvent) -> None:
        """A retry is scheduled: ``event.delay`` seconds from now."""

    def on_giveup(self, event: RetryEvent) -> None:
        """The policy gave up (out of retries, time or budget); ``event.stop`` says why.

        A first failure the policy declined to retry at all (a 404, a ``ValueError``, a
        POST it may not repeat) is the call's answer, not a give-up: instruments do not hear of it.
        """

    def on_recovered(self, recovery: Recovery) -> None:
        """A call succeeded after at least one retry (never reported for a first-try success)."""

    def http_attempt(self, target: Target, url: str, resend_count: int) -> AttemptSpan | None:
        """A context manager around one HTTP attempt (``url`` has no userinfo or query), or None."""
        return None


class _Spans(AttemptSpan):
    """Several instruments' spans around one attempt, entered in order and left in reverse."""

    __slots__ = ("spans",)

    def __init__(self, spans: list[AttemptSpan]) -> None:
        self.spans = spans

    def __enter__(self) -> AttemptSpan:
        for span in self.spans:
            span.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for span in reversed(self.spans):
            span.__exit__(exc_type, exc, tb)

    def responded(self, status: int) -> None:
        for span in self.spans:
            span.responded(status)


def span_for(tracing: tuple[Instrument, ...], target: Target, url: str, resend_count: int) -> AttemptSpan | None:
    """The span(s) the tracing instruments put around one HTTP attempt, or None."""
    spans = [s for s in (i.http_attempt(target, url, resend_count) for i in tracing) if s is not None]
    if not spans:
        return None
    return spans[0] if len(spans) == 1 else _Spans(spans)


def reason_class(event: RetryEvent) -> str:
    """The failure's class, for labels: the status (``503``), ``result rejected`` (``on_result`` said no)
    or the exception's class (``ConnectionResetError``)."""
    if event.status is not None:
        return str(event.status)
    klass = type(event.error)
    if klass is RetriesExhausted:  # what stands for a rejected result: the result was the failure, not this class
        return REJECTED
    return klass.__qualname__ if klass.__module__ == "builtins" else f"{klass.__module__}.{klass.__qualname__}"


def call_fields(target: Target, names: tuple[str, str, str]) -> dict[str, str]:
    """The call's bounded fields under an instrument's own names for function, method and host (the last two if set)."""
    function, method, host = names
    fields = {function: target.function}
    if target.method is not None:
        fields[method] = target.method
    if target.host is not None:
        fields[host] = target.host
    return fields


class LoggingInstrument(Instrument):
    """Log lines on a standard-library logger: one per retry, one per give-up, one per recovery.

    ``logger`` is the logger's name; ``level`` is for retry lines, ``giveup_level``
    for give-up lines (``level`` when None) and ``recovered_level`` for recoveries
    (None: no line). Lines never contain header values or exception messages (URLs
    and their keys live there): only the call's name, the attempt, the reason and the wait.
    ``logging`` itself is imported at the first line, not at start-up.
    """

    __slots__ = ("name", "level", "giveup_level", "recovered_level", "_log", "_enabled")
    logs = True

    def __init__(
        self,
        logger: str = "retrykit",
        *,
        level: int = 30,  # logging.WARNING
        giveup_level: int | None = None,
        recovered_level: int | None = 20,  # logging.INFO
    ) -> None:
        if not isinstance(logger, str) or not logger:
            raise TypeError(f"logger must be a logger's name (a non-empty str), got {logger!r}")
        for name, value in (("level", level), ("giveup_level", giveup_level), ("recovered_level", recovered_level)):
            if value is None and name != "level":
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be a logging level (an int such as logging.WARNING), got {value!r}")
        self.name: str = logger
        self.level: int = level
        self.giveup_level: int = level if giveup_level is None else giveup_level
        self.recovered_level: int | None = recovered_level
        # The logger's methods, looked up at the first line: importing logging costs start-up time.
        self._log: Callable[..., None] | None = None
        self._enabled: Callable[[int], bool] = bool

    def _logger(self) -> Callable[..., None]:
        log = self._log
        if log is None:
            import logging

            logger = logging.getLogger(self.name)
            log = self._log = logger.log
            self._enabled = logger.isEnabledFor
        return log

    def _emit(self, level: int, message: str, *args: object) -> None:
        log = self._logger()
        if self._enabled(level):
            log(level, message, *args)

    def hears_retries(self) -> bool:
        # Speed only: with the level off (no one reads the line), a retry costs no event, no text.
        self._logger()
        return self._enabled(self.level)

    def on_retry(self, event: RetryEvent) -> None:
        if event.max_attempts is None:  # polling until a deadline: no count to show
            self._emit(
                self.level,
                "%s failed on attempt %d (%s); retrying in %.2f s",
                event.function,
                event.attempt,
                event.reason,
                event.delay,
            )
            return
        self._emit(
            self.level,
            "%s failed on attempt %d/%d (%s); retrying in %.2f s",
            event.function,
            event.attempt,
            event.max_attempts,
            event.reason,
            event.delay,
        )

    def on_giveup(self, event: RetryEvent) -> None:
        # The give-up note's words, on one line: an adapter that returns the final response has no exception to carry it.
        if event.attempt == 1:
            self._emit(self.giveup_level, "%s gave up after 1 attempt: %s", event.function, event.stop)
        else:
            self._emit(
                self.giveup_level,
                "%s gave up after %d attempts over %.2f s: %s",
                event.function,
                event.attempt,
                event.elapsed,
                event.stop,
            )

    def on_recovered(self, recovery: Recovery) -> None:
        if self.recovered_level is not None:
            self._emit(
                self.recovered_level,
                "%s succeeded on attempt %d after %.2f s",
                recovery.function,
                recovery.attempts,
                recovery.elapsed,
            )

    def __repr__(self) -> str:
        return f"LoggingInstrument({self.name!r}, level={self.level}, giveup_level={self.giveup_level}, recovered_level={self.recovered_level})"


# The registry. Each is a tuple replaced whole by set_instruments, so a call that
# reads one (once, at its first failure) sees a consistent set without a lock.
_DEFAULT: tuple[Instrument, ...] = (LoggingInstrument(),)
everyone: tuple[Instrument, ...] = _DEFAULT  # what a policy reports to
quiet: tuple[Instrument, ...] = ()  # ... with log=False: the instruments that write no log lines
tracing: tuple[Instrument, ...] = ()  # instruments with per-attempt HTTP spans


def set_instruments(instruments: Iterable[Instrument] | None) -> None:
    """Make ``instruments`` the ones every policy reports to, process-wide.

    None restores the default (one :class:`LoggingInstrument` on the ``retrykit``
    logger); an empty list switches instrumentation off altogether.
    """
    global everyone, quiet, tracing
    chosen = _DEFAULT if instruments is None else tuple(instruments)
    for instrument in chosen:
        if not isinstance(instrument, Instrument):
            raise TypeError(
                f"instruments must be Instrument objects (subclass retrykit.Instrument), got {type(instrument).__name__}"
            )
    everyone = chosen
    quiet = tuple(i for i in chosen if not i.logs)
    tracing = tuple(i for i in chosen if type(i).http_attempt is not Instrument.http_attempt)


def get_instruments() -> tuple[Instrument, ...]:
    """The instruments every policy reports to (see :func:`set_instruments`)."""
    return everyone
