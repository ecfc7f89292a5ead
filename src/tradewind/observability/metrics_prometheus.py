"""The Prometheus exporter: the catalog's metrics kept in plain tables of this process's own, turned into
Prometheus' text format by a collector in a CollectorRegistry of its own when someone scrapes.

Recording is a dict update under a lock, a few microseconds even for a new series: the scheduler records on
its hot path, and every task of a DAG is a new series the first time it ends (prometheus_client's own metric
objects cost tens of microseconds per new child there).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from typing import TYPE_CHECKING

from tradewind.observability.metrics_catalog import MetricSpec

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

_Series = tuple[str, tuple[str, ...]]  # (catalog key, label values in the catalog's order)


class PrometheusExporter:
    """Only what this process recorded is rendered: a webserver shows no scheduler heartbeat of 0.

    prometheus_client is imported at the first scrape (``registry``, ``render``): recording needs none of it,
    and a process nobody scrapes never loads it."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._lock = threading.Lock()
        self._values: dict[_Series, float] = {}  # counters and gauges
        #: Per histogram series: the count in each bucket (not cumulative; the last is +Inf), then sum.
        self._histograms: dict[_Series, list[float]] = {}
        self._registry_lock = threading.Lock()
        self._registry: CollectorRegistry | None = None
        if registry is not None:
            self._registry = register_collector(self, registry)

    @property
    def registry(self) -> CollectorRegistry:
        """A prometheus_client registry holding this exporter's collector (made at the first use)."""
        with self._registry_lock:
            if self._registry is None:
                self._registry = register_collector(self, None)
            return self._registry

    def snapshot(self) -> tuple[dict[_Series, float], dict[_Series, list[float]]]:
        """Copies of the recorded counters and gauges, and of the histograms' bucket counts and sums."""
        with self._lock:
            values = dict(self._values)
            histograms = {series: list(counts) for series, counts in self._histograms.items()}
        return values, histograms

    def incr(self, spec: MetricSpec, value: float, labels: dict[str, str]) -> None:
        series = (spec.key, tuple([labels[name] for name in spec.labels]))
        with self._lock:
            self._values[series] = self._values.get(series, 0.0) + value

    def gauge(self, spec: MetricSpec, value: float, labels: dict[str, str]) -> None:
        series = (spec.key, tuple([labels[name] for name in spec.labels]))
        with self._lock:
            self._values[series] = float(value)

    def timing(self, spec: MetricSpec, seconds: float, labels: dict[str, str]) -> None:
        series = (spec.key, tuple([labels[name] for name in spec.labels]))
        index = bisect_left(spec.buckets, seconds)  # a value on a bound counts in that bucket (le)
        with self._lock:
            counts = self._histograms.get(series)
            if counts is None:
                counts = self._histograms[series] = [0.0] * (len(spec.buckets) + 2)
            counts[index] += 1
            counts[-1] += seconds

    def render(self) -> bytes:
        """The registry in Prometheus' text exposition format."""
        from prometheus_client.exposition import generate_latest

        return generate_latest(self.registry)


def register_collector(exporter: PrometheusExporter, registry: CollectorRegistry | None) -> CollectorRegistry:
    """``registry`` (a new one when None) with the collector that reads ``exporter``'s tables."""
    from tradewind.observability.prometheus_exposition import register

    return register(exporter, registry)


def content_type() -> str:
    """The Content-Type of ``render()``'s text."""
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    return str(CONTENT_TYPE_LATEST)
