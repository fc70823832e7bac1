"""structlog instrument: one event per retry and give-up (and recovery), as key/value fields (structlog imported here only)."""

from __future__ import annotations

from ._extras import missing_extra

try:
    import structlog
except ImportError as _missing:  # the library is an extra: say which one
    raise missing_extra("structlog") from _missing

from typing import Any

from ._instruments import Instrument, call_fields, reason_class
from ._report import Recovery, RetryEvent

__all__ = ["StructlogInstrument"]


_CALL_FIELDS = ("function", "method", "host")  # the call's fields, method and host for HTTP requests only


class StructlogInstrument(Instrument):
    """Log ``retrykit.retry`` (warning), ``retrykit.giveup`` (error) and ``retrykit.recovered`` (info) events.

    Fields: ``function`` (and ``method``, ``host`` for HTTP requests), ``attempt``,
    ``max_attempts``, ``wait``, ``elapsed``, ``reason`` and ``error_type``, plus
    ``stop`` on a give-up; never a message, header value or URL path. ``logger`` is
    any structlog logger (``structlog.get_logger("retrykit")`` when None).
    """

    __slots__ = ("logger",)
    logs = True

    def __init__(self, logger: Any = None) -> None:
        self.logger: Any = structlog.get_logger("retrykit") if logger is None else logger

    def _fields(self, event: RetryEvent) -> dict[str, object]:
        return {
            **call_fields(event.target, _CALL_FIELDS),
            "attempt": event.attempt,
            "max_attempts": event.max_attempts,
            "elapsed": round(event.elapsed, 3),
            "reason": event.reason,
            "error_type": reason_class(event),
        }

    def on_retry(self, event: RetryEvent) -> None:
        self.logger.warning("retrykit.retry", wait=event.delay, **self._fields(event))

    def on_giveup(self, event: RetryEvent) -> None:
        self.logger.error("retrykit.giveup", stop=event.stop, **self._fields(event))

    def on_recovered(self, recovery: Recovery) -> None:
        self.logger.info(
            "retrykit.recovered",
            **call_fields(recovery.target, _CALL_FIELDS),
            attempts=recovery.attempts,
            elapsed=round(recovery.elapsed, 3),
        )

    def __repr__(self) -> str:
        return f"StructlogInstrument(logger={self.logger!r})"
