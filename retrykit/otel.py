"""OpenTelemetry instrument: span events per retry and give-up, retry metrics, one client span per HTTP attempt.

Only the OpenTelemetry API is imported (here, not at ``import retrykit``); the
application's SDK decides where spans and metrics go.
"""

from __future__ import annotations

from ._extras import missing_extra

try:
    from opentelemetry import metrics, trace
except ImportError as _missing:  # the library is an extra: say which one
    raise missing_extra("otel", "opentelemetry-api") from _missing

from contextlib import AbstractContextManager
from types import TracebackType

from ._instruments import AttemptSpan, Instrument, call_fields, reason_class
from ._report import Recovery, RetryEvent, Target

__all__ = ["OTelInstrument"]

SCOPE = "retrykit"


# The attributes naming the call (function, method, host): bounded, on every metric point, so never a path, query or message.
_CALL_ATTRIBUTES = ("retrykit.function", "http.request.method", "server.address")


class _Span(AttemptSpan):
    """One HTTP attempt as a client span, current while the request is sent (semantic conventions for HTTP)."""

    __slots__ = ("_tracer", "_name", "_attributes", "_scope", "_span")

    def __init__(self, tracer: trace.Tracer, target: Target, url: str, resend_count: int) -> None:
        self._tracer = tracer
        method = target.method or "_OTHER"
        attributes: dict[str, str | int] = {"http.request.method": method, "url.full": url}
        host, _, port = (target.host or "").rpartition(":")  # host_of's "host:port", default port filled in
        if host:
            attributes["server.address"] = host
        if port.isdigit() and port != "0":
            attributes["server.port"] = int(port)
        if resend_count:
            attributes["http.request.resend_count"] = resend_count
        self._name = method
        self._attributes = attributes
        self._scope: AbstractContextManager[trace.Span] | None = None
        self._span: trace.Span = trace.INVALID_SPAN

    def __enter__(self) -> _Span:
        # Exceptions are recorded by class only: a client's message often holds the URL and its query.
        scope = self._tracer.start_as_current_span(
            self._name,
            kind=trace.SpanKind.CLIENT,
            attributes=self._attributes,
            record_exception=False,
            set_status_on_exception=False,
        )
        self._span = scope.__enter__()
        self._scope = scope
        return self

    def responded(self, status: int) -> None:
        span = self._span
        span.set_attribute("http.response.status_code", status)
        if status >= 400:
            span.set_attribute("error.type", str(status))
            span.set_status(trace.StatusCode.ERROR)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            name = exc_type.__qualname__
            if exc_type.__module__ != "builtins":
                name = f"{exc_type.__module__}.{name}"
            self._span.set_attribute("error.type", name)
            self._span.set_status(trace.StatusCode.ERROR, exc_type.__name__)
        scope, self._scope = self._scope, None
        if scope is not None:
            scope.__exit__(exc_type, exc, tb)


class OTelInstrument(Instrument):
    """Report retries to OpenTelemetry: traces and metrics through the global providers, or the ones given.

    On the current span: a ``retrykit.retry`` event per retry and a
    ``retrykit.giveup`` event per give-up, with ``retrykit.attempt``,
    ``retrykit.wait`` (seconds), ``retrykit.reason``, ``error.type`` and
    ``http.response.status_code``. Metrics: counters ``retrykit.retries``,
    ``retrykit.giveups``, ``retrykit.recoveries`` and the histogram ``retrykit.wait``
    (s), with bounded attributes only. Through the HTTP adapters, each attempt is a
    client span of its own, with ``http.request.resend_count`` on resends
    (``spans=False`` leaves that to the client's own instrumentation).
    """

    __slots__ = ("_tracer", "_retries", "_giveups", "_recoveries", "_waits", "_spans")

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        *,
        spans: bool = True,
    ) -> None:
        if not isinstance(spans, bool):
            raise TypeError(f"spans must be a bool, got {type(spans).__name__}")
        from . import __version__

        self._tracer = trace.get_tracer(SCOPE, __version__, tracer_provider)
        meter = metrics.get_meter(SCOPE, __version__, meter_provider)
        self._retries = meter.create_counter("retrykit.retries", "{retry}", "Retries scheduled by retrykit policies.")
        self._giveups = meter.create_counter("retrykit.giveups", "{call}", "Calls a retrykit policy gave up on.")
        self._recoveries = meter.create_counter(
            "retrykit.recoveries", "{call}", "Calls that succeeded after at least one retry."
        )
        self._waits = meter.create_histogram("retrykit.wait", "s", "Seconds waited before each retry.")
        self._spans = spans

    def _record(self, name: str, event: RetryEvent) -> dict[str, str]:
        labels = call_fields(event.target, _CALL_ATTRIBUTES)
        labels["error.type"] = reason_class(event)
        span = trace.get_current_span()
        if span.is_recording():
            attributes: dict[str, str | int | float] = {
                **labels,
                "retrykit.attempt": event.attempt,
                "retrykit.reason": event.reason,
            }
            if event.delay is not None:
                attributes["retrykit.wait"] = event.delay
            if event.status is not None:
                attributes["http.response.status_code"] = event.status
            if event.stop is not None:
                attributes["retrykit.stop"] = event.stop
            span.add_event(name, attributes)
        return labels

    def on_retry(self, event: RetryEvent) -> None:
        labels = self._record("retrykit.retry", event)
        self._retries.add(1, labels)
        if event.delay is not None:
            del labels["error.type"]
            self._waits.record(event.delay, labels)

    def on_giveup(self, event: RetryEvent) -> None:
        self._giveups.add(1, self._record("retrykit.giveup", event))

    def on_recovered(self, recovery: Recovery) -> None:
        self._recoveries.add(1, call_fields(recovery.target, _CALL_ATTRIBUTES))

    def http_attempt(self, target: Target, url: str, resend_count: int) -> AttemptSpan | None:
        return _Span(self._tracer, target, url, resend_count) if self._spans else None

    def __repr__(self) -> str:
        return f"OTelInstrument(spans={self._spans})"
