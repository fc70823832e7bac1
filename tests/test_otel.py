"""The OpenTelemetry instrument against the real SDK: in-memory span exporter and metric reader."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader, NumberDataPoint
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import retrykit
from retrykit import Backoff, RetryPolicy
from retrykit.otel import OTelInstrument
from retrykit.testing import FlakyServer, Reply, instant

from .clients import CLIENTS
from .helpers import Flaky, HTTPFailure

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)


class Telemetry:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.tracer = self.tracer_provider.get_tracer("test")

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def points(self) -> dict[str, list[Any]]:
        """Every metric's data points, by metric name."""
        found: dict[str, list[Any]] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    retrykit.set_instruments([OTelInstrument(telemetry.tracer_provider, telemetry.meter_provider)])
    yield telemetry
    retrykit.set_instruments(None)
    telemetry.tracer_provider.shutdown()
    telemetry.meter_provider.shutdown()


def test_each_retry_and_the_give_up_are_events_on_the_current_span(otel: Telemetry) -> None:
    def fetch_invoice() -> None:
        raise HTTPFailure(503)

    with instant(), otel.tracer.start_as_current_span("checkout"), pytest.raises(HTTPFailure):
        FAST.replace(max_retries=2).call(fetch_invoice)
    (span,) = otel.spans()
    assert [e.name for e in span.events] == ["retrykit.retry", "retrykit.retry", "retrykit.giveup"]
    first, second, gave_up = (dict(e.attributes or {}) for e in span.events)
    assert first["retrykit.attempt"] == 1 and first["retrykit.wait"] == 1.0
    assert second["retrykit.attempt"] == 2 and second["retrykit.wait"] == 2.0
    assert first["error.type"] == "503" and first["http.response.status_code"] == 503
    assert first["retrykit.reason"] == "HTTP 503 Service Unavailable"
    assert str(first["retrykit.function"]).endswith("fetch_invoice")
    assert "retrykit.wait" not in gave_up and gave_up["retrykit.attempt"] == 3
    assert "no retries left" in str(gave_up["retrykit.stop"])
    for event in span.events:
        assert not any("SECRET" in str(value) or "api_key" in str(value) for value in (event.attributes or {}).values())


def test_an_exception_is_named_by_its_class(otel: Telemetry) -> None:
    with instant(), otel.tracer.start_as_current_span("job"):
        FAST.call(Flaky(ConnectionResetError("peer reset, token=sk-SECRET")))
    (span,) = otel.spans()
    (event,) = span.events
    attributes = dict(event.attributes or {})
    assert attributes["error.type"] == "ConnectionResetError" and "http.response.status_code" not in attributes
    assert "SECRET" not in str(attributes)


def test_counters_and_the_wait_histogram_are_recorded_with_bounded_attributes(otel: Telemetry) -> None:
    def sync_orders() -> None:
        raise TimeoutError

    with instant():
        FAST.replace(max_retries=2).call(Flaky(TimeoutError(), TimeoutError()))  # two retries, then success
        with pytest.raises(TimeoutError):
            FAST.replace(max_retries=1).call(sync_orders)  # one retry, then a give-up
    points = otel.points()
    retries: list[NumberDataPoint] = points["retrykit.retries"]
    assert sum(p.value for p in retries) == 3
    assert {p.attributes["error.type"] for p in retries} == {"TimeoutError"}
    (giveup,) = points["retrykit.giveups"]
    assert giveup.value == 1 and str(giveup.attributes["retrykit.function"]).endswith("sync_orders")
    (recovered,) = points["retrykit.recoveries"]
    assert recovered.value == 1
    waits: list[HistogramDataPoint] = points["retrykit.wait"]
    assert sum(p.count for p in waits) == 3 and sum(p.sum for p in waits) == 1.0 + 2.0 + 1.0
    for point in [*retries, giveup, recovered, *waits]:
        assert set(point.attributes) <= {"retrykit.function", "http.request.method", "server.address", "error.type"}


def test_without_a_current_span_only_metrics_are_recorded(otel: Telemetry) -> None:
    with instant():
        FAST.call(Flaky(TimeoutError()))
    assert otel.spans() == []
    assert sum(p.value for p in otel.points()["retrykit.retries"]) == 1


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_each_http_attempt_is_a_client_span_with_its_resend_count(otel: Telemetry, client: str) -> None:
    script = [Reply.error(503), Reply.dropped(), Reply(200, {"ok": True})]
    with FlakyServer(script) as server, instant(), otel.tracer.start_as_current_span("parent"):
        url, port = server.url, server.port
        result = CLIENTS[client](FAST, "GET", f"{url}/v1/items/7?api_key=sk-SECRET")
    assert result.status == 200
    *attempts, parent = otel.spans()
    assert parent.name == "parent" and len(attempts) == 3
    for number, span in enumerate(attempts):
        assert span.name == "GET" and span.kind is SpanKind.CLIENT
        assert span.parent is not None and span.parent.span_id == parent.context.span_id
        attributes = dict(span.attributes or {})
        assert attributes["http.request.method"] == "GET"
        assert attributes["server.address"] == "127.0.0.1" and attributes["server.port"] == port
        assert attributes["url.full"] == f"{url}/v1/items/7"  # no query: keys live there
        assert attributes.get("http.request.resend_count") == (number or None)
    first, dropped, last = (dict(s.attributes or {}) for s in attempts)
    assert first["http.response.status_code"] == 503 and first["error.type"] == "503"
    assert attempts[0].status.status_code is StatusCode.ERROR
    assert "http.response.status_code" not in dropped and dropped["error.type"] != ""
    assert attempts[1].status.status_code is StatusCode.ERROR
    assert last["http.response.status_code"] == 200 and "error.type" not in last
    assert attempts[2].status.status_code is StatusCode.UNSET
    # the retries are events on the caller's span, between the attempts
    assert [e.name for e in parent.events] == ["retrykit.retry", "retrykit.retry"]
    for span in otel.spans():
        assert "SECRET" not in str(span.attributes) + str([e.attributes for e in span.events])


def test_spans_false_leaves_attempts_to_the_clients_own_instrumentation(otel: Telemetry) -> None:
    retrykit.set_instruments([OTelInstrument(otel.tracer_provider, otel.meter_provider, spans=False)])
    with FlakyServer([Reply.error(503)]) as server, instant():
        assert CLIENTS["requests"](FAST, "GET", server.url).status == 200
    assert otel.spans() == []
    assert sum(p.value for p in otel.points()["retrykit.retries"]) == 1


def test_spans_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match=r"^spans must be a bool"):
        OTelInstrument(spans="yes")  # type: ignore[arg-type]


CYCLES_CHECK = """
import gc
import prometheus_client, structlog
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
import retrykit
from retrykit import Backoff, RetryPolicy
from retrykit.otel import OTelInstrument
from retrykit.prometheus import PrometheusInstrument
from retrykit.structlog import StructlogInstrument
from retrykit.testing import instant

tracer_provider = TracerProvider()
retrykit.set_instruments([
    retrykit.LoggingInstrument("quiet", level=1),
    OTelInstrument(tracer_provider, MeterProvider(metric_readers=[InMemoryMetricReader()])),
    PrometheusInstrument(prometheus_client.CollectorRegistry()),
    StructlogInstrument(structlog.wrap_logger(structlog.ReturnLogger(), processors=[])),
])
policy = RetryPolicy(backoff=Backoff(jitter=0), max_retries=2)

def flaky(failures):
    left = [failures]
    def call():
        if left[0]:
            left[0] -= 1
            raise ConnectionError("down")
        return "ok"
    return call

def round_trip():
    try:
        policy.call(flaky(3))  # two retries and a give-up
    except ConnectionError:
        pass
    policy.call(flaky(1))  # a retry and a recovery

with instant(), tracer_provider.get_tracer("t").start_as_current_span("caller"):
    round_trip()  # first use: loggers, metrics and label children are made once
    gc.collect()
    gc.disable()
    for _ in range(5):
        round_trip()
    print(gc.collect())
"""


def test_reporting_to_every_instrument_leaves_no_reference_cycles() -> None:
    # In a process of its own: other tests' servers and clients leave garbage of their own behind.
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run(
        [sys.executable, "-c", CYCLES_CHECK], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1]
    )
    assert out.stdout.strip() == "0"


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_status_retries_are_one_span_each_even_where_the_client_loops_itself(otel: Telemetry, client: str) -> None:
    # requests: urllib3 runs the status retries inside one send; each attempt is still its own span.
    with FlakyServer([Reply.error(503), Reply.error(429), Reply.error(500)]) as server, instant():
        assert CLIENTS[client](FAST, "GET", server.url).status == 200
    spans = otel.spans()
    assert [dict(s.attributes or {}).get("http.response.status_code") for s in spans] == [503, 429, 500, 200]
    assert [dict(s.attributes or {}).get("http.request.resend_count") for s in spans] == [None, 1, 2, 3]
    assert len({s.context.span_id for s in spans}) == 4 and all(s.end_time is not None for s in spans)
