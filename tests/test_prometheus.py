"""The Prometheus instrument against a real prometheus_client registry and its text exposition; labels stay bounded."""

from __future__ import annotations

from collections.abc import Iterator

import prometheus_client
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import retrykit
from retrykit import Backoff, RetryPolicy
from retrykit._http import HTTPOptions, RequestRetry
from retrykit._http_loops import drive
from retrykit.otel import OTelInstrument
from retrykit.prometheus import PrometheusInstrument
from retrykit.testing import FlakyServer, Reply, instant

from .clients import CLIENTS
from .helpers import Flaky, HTTPFailure

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)


@pytest.fixture
def registry() -> Iterator[CollectorRegistry]:
    registry = CollectorRegistry()
    retrykit.set_instruments([PrometheusInstrument(registry)])
    yield registry
    retrykit.set_instruments(None)


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the text exposition, parsed back: (name, sorted labels) -> value."""
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_retries_give_ups_and_waits_appear_in_the_text_exposition(registry: CollectorRegistry) -> None:
    def charge_card() -> None:
        raise HTTPFailure(503)

    with instant():
        FAST.call(Flaky(TimeoutError(), TimeoutError()))  # two retries (1 s, 2 s), then a recovery
        with pytest.raises(HTTPFailure):
            FAST.replace(max_retries=1).call(charge_card)  # one retry (1 s), then a give-up
    found = samples(registry)
    flaky = (("function", "Flaky"), ("host", ""), ("method", ""))
    function = "test_retries_give_ups_and_waits_appear_in_the_text_exposition.<locals>.charge_card"
    card = (("function", function), ("host", ""), ("method", ""))
    assert found["retrykit_retries_total", (*flaky, ("reason", "TimeoutError"))] == 2
    assert found["retrykit_retries_total", (*card, ("reason", "503"))] == 1
    assert found["retrykit_giveups_total", (*card, ("reason", "503"))] == 1
    assert found["retrykit_recoveries_total", flaky] == 1
    assert found["retrykit_wait_seconds_count", flaky] == 2 and found["retrykit_wait_seconds_sum", flaky] == 3.0
    assert found["retrykit_wait_seconds_bucket", tuple(sorted((*flaky, ("le", "1.0"))))] == 1
    assert found["retrykit_wait_seconds_bucket", tuple(sorted((*flaky, ("le", "2.0"))))] == 2
    text = generate_latest(registry).decode()
    assert "# TYPE retrykit_retries_total counter" in text and "# TYPE retrykit_wait_seconds histogram" in text


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_requests_are_labelled_by_adapter_method_and_host(registry: CollectorRegistry, client: str) -> None:
    with FlakyServer([Reply.error(429), Reply.dropped()]) as server, instant():
        host = f"127.0.0.1:{server.port}"
        assert CLIENTS[client](FAST, "GET", f"{server.url}/v1/users/42?token=sk-SECRET").status == 200
    labels = {k: v for name, pairs in samples(registry) if name == "retrykit_retries_total" for k, v in pairs}
    assert labels["method"] == "GET" and labels["host"] == host
    retried = [labels for (name, labels), value in samples(registry).items() if name == "retrykit_retries_total"]
    reasons = {dict(labels)["reason"] for labels in retried}
    assert "429" in reasons and len(reasons) == 2  # the status, then the client's own connection error class
    assert "SECRET" not in generate_latest(registry).decode() and "/v1/users" not in generate_latest(registry).decode()


def test_instruments_on_one_registry_share_its_metrics() -> None:
    registry = CollectorRegistry()
    first, second = PrometheusInstrument(registry), PrometheusInstrument(registry)
    retrykit.set_instruments([first])
    try:
        with instant():
            FAST.call(Flaky(TimeoutError()))
        retrykit.set_instruments([second])
        with instant():
            FAST.call(Flaky(TimeoutError()))
    finally:
        retrykit.set_instruments(None)
    labels = (("function", "Flaky"), ("host", ""), ("method", ""), ("reason", "TimeoutError"))
    assert samples(registry)["retrykit_retries_total", labels] == 2


def test_the_default_registry_is_prometheus_clients_own() -> None:
    assert PrometheusInstrument().registry is prometheus_client.REGISTRY
    with pytest.raises(TypeError, match=r"^registry must be a prometheus_client.CollectorRegistry"):
        PrometheusInstrument("default")  # type: ignore[arg-type]


def test_ten_thousand_distinct_urls_keep_the_label_sets_small() -> None:
    """Paths, queries, userinfo and messages never become labels: only adapter, method, host and reason do."""
    registry = CollectorRegistry()
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    retrykit.set_instruments([PrometheusInstrument(registry), OTelInstrument(TracerProvider(), meters)])
    hosts = ["api.example.com", "api.example.com:8443", "eu.example.com"]
    try:
        with instant():
            for n in range(10_000):
                url = f"https://user{n}:pw{n}@{hosts[n % 3]}/v1/users/{n}/tokens/sk-{n:08d}?page={n}&key=k{n}"
                call = RequestRetry(FAST, HTTPOptions(), ("GET", "PUT")[n % 2], url, {}, client="requests")
                replies = iter([503 if n % 4 else 429, 200])  # one retry, then success: the adapters' own loop
                drive(call, replies.__next__, int, lambda r: {}, lambda r: b"")
            for n in range(200):  # and functions whose errors carry distinct messages
                FAST.call(Flaky(ConnectionResetError(f"reset by peer, request id {n}")))
    finally:
        retrykit.set_instruments(None)
    counted = ("retrykit_retries_total", "retrykit_recoveries_total")
    series = [labels for name, labels in samples(registry) if name in counted]
    assert 10 <= len(series) <= 20  # 3 hosts x 2 methods x (2 reasons + recovery) + the function's 2
    assert not any(n in value for labels in series for _, value in labels for n in ("/v1", "user", "sk-", "page", "peer"))
    data = reader.get_metrics_data()
    assert data is not None
    attribute_sets = {
        (metric.name, tuple(sorted(point.attributes.items())))
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
    }
    assert len(attribute_sets) <= 40
    assert not any("/v1" in str(attributes) or "sk-" in str(attributes) for _, attributes in attribute_sets)
    meters.shutdown()


def test_a_rejected_result_is_labelled_as_such(registry: CollectorRegistry) -> None:
    polling = FAST.replace(on_result=lambda status: status == "pending")
    with instant():
        assert polling.call(iter(["pending", "done"]).__next__) == "done"
    (labels,) = [dict(pairs) for name, pairs in samples(registry) if name == "retrykit_retries_total"]
    assert labels["reason"] == "result rejected"
