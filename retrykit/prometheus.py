"""Prometheus instrument: retries, give-ups and recoveries counted, waits in a histogram (prometheus_client imported here only)."""

from __future__ import annotations

from ._extras import missing_extra

try:
    import prometheus_client
except ImportError as _missing:  # the library is an extra: say which one
    raise missing_extra("prometheus", "prometheus_client") from _missing

import threading
import weakref

from ._instruments import Instrument, reason_class
from ._report import Recovery, RetryEvent, Target

__all__ = ["WAIT_BUCKETS", "PrometheusInstrument"]

# Seconds: from a quick retry to the 120 s Retry-After the default policy accepts.
WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 60.0, 120.0, float("inf"))
# Every label is bounded: a function's qualified name (or the adapter's name), the
# request's method and host:port, and the failure's class (a status or an exception class).
CALL_LABELS = ("function", "method", "host")
FAILURE_LABELS = (*CALL_LABELS, "reason")


class _Metrics:
    """The four metrics, created once per registry (prometheus_client refuses a name registered twice)."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        self.retries = prometheus_client.Counter(
            "retrykit_retries", "Retries scheduled by retrykit policies.", FAILURE_LABELS, registry=registry
        )
        self.giveups = prometheus_client.Counter(
            "retrykit_giveups", "Calls a retrykit policy gave up on.", FAILURE_LABELS, registry=registry
        )
        self.recoveries = prometheus_client.Counter(
            "retrykit_recoveries", "Calls that succeeded after at least one retry.", CALL_LABELS, registry=registry
        )
        self.waits = prometheus_client.Histogram(
            "retrykit_wait_seconds",
            "Seconds waited before each retry.",
            CALL_LABELS,
            registry=registry,
            buckets=WAIT_BUCKETS,
        )


_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[prometheus_client.CollectorRegistry, _Metrics] = weakref.WeakKeyDictionary()


def _metrics_for(registry: prometheus_client.CollectorRegistry) -> _Metrics:
    with _lock:
        metrics = _by_registry.get(registry)
        if metrics is None:
            metrics = _by_registry[registry] = _Metrics(registry)
        return metrics


def _call_labels(target: Target) -> tuple[str, str, str]:
    return target.function, target.method or "", target.host or ""


class PrometheusInstrument(Instrument):
    """Counts ``retrykit_retries_total``, ``retrykit_giveups_total``, ``retrykit_recoveries_total``
    and observes ``retrykit_wait_seconds``, in ``registry`` (prometheus_client's default one when None).

    Several instruments on one registry share its metrics.
    """

    __slots__ = ("registry", "_metrics", "_retried")

    def __init__(self, registry: prometheus_client.CollectorRegistry | None = None) -> None:
        if registry is None:
            registry = prometheus_client.REGISTRY
        if not isinstance(registry, prometheus_client.CollectorRegistry):
            raise TypeError(f"registry must be a prometheus_client.CollectorRegistry or None, got {type(registry).__name__}")
        self.registry: prometheus_client.CollectorRegistry = registry
        self._metrics = _metrics_for(registry)
        # Speed only: the retry counter and wait histogram children by label values (as few as the
        # label sets), since prometheus_client's labels() costs more than the increment itself.
        self._retried: dict[tuple[str, str, str, str], tuple[prometheus_client.Counter, prometheus_client.Histogram]] = {}

    def on_retry(self, event: RetryEvent) -> None:
        target = event.target
        key = (target.function, target.method or "", target.host or "", reason_class(event))
        children = self._retried.get(key)
        if children is None:
            metrics = self._metrics
            children = self._retried[key] = (metrics.retries.labels(*key), metrics.waits.labels(*key[:3]))
        children[0].inc()
        if event.delay is not None:
            children[1].observe(event.delay)

    def on_giveup(self, event: RetryEvent) -> None:
        self._metrics.giveups.labels(*_call_labels(event.target), reason_class(event)).inc()

    def on_recovered(self, recovery: Recovery) -> None:
        self._metrics.recoveries.labels(*_call_labels(recovery.target)).inc()

    def __repr__(self) -> str:
        return f"PrometheusInstrument(registry={self.registry!r})"
