"""The Prometheus exporter: the catalog's metrics kept in plain tables of this process's own, turned into
Prometheus' text format by a collector in a CollectorRegistry of its own when someone scrapes.

Recording is a dict update under a lock, a few microseconds even for a new series: the scheduler records on
its hot path, and every task of a DAG is a new series the first time it ends (prometheus_client's own metric
objects cost tens of microseconds per new child there).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from tradewind.observability.metrics_catalog import BY_KEY, MetricKind, MetricSpec

#: The Content-Type of ``render()``'s text.
CONTENT_TYPE = CONTENT_TYPE_LATEST

_Series = tuple[str, tuple[str, ...]]  # (catalog key, label values in the catalog's order)


class PrometheusExporter:
    """Only what this process recorded is rendered: a webserver shows no scheduler heartbeat of 0."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=False)
        self._lock = threading.Lock()
        self._values: dict[_Series, float] = {}  # counters and gauges
        #: Per histogram series: the count in each bucket (not cumulative; the last is +Inf), then sum.
        self._histograms: dict[_Series, list[float]] = {}
        self.registry.register(_Collector(self))

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
        return generate_latest(self.registry)

    def families(self) -> Iterator[Metric]:
        with self._lock:
            values = dict(self._values)
            histograms = {series: list(counts) for series, counts in self._histograms.items()}
        families: dict[str, Metric] = {}
        for (key, label_values), value in sorted(values.items()):
            spec = BY_KEY[key]
            family = families.get(key) or families.setdefault(key, _family(spec))
            family.add_metric(list(label_values), value)  # type: ignore[attr-defined]
        for (key, label_values), counts in sorted(histograms.items()):
            spec = BY_KEY[key]
            family = families.get(key) or families.setdefault(key, _family(spec))
            assert isinstance(family, HistogramMetricFamily)
            bounds = [*(floatToGoString(b) for b in spec.buckets), "+Inf"]
            cumulative, running = [], 0.0
            for bound, count in zip(bounds, counts[:-1], strict=True):
                running += count
                cumulative.append((bound, running))
            family.add_metric(list(label_values), cumulative, counts[-1])
        yield from families.values()


class _Collector:
    def __init__(self, exporter: PrometheusExporter) -> None:
        self._exporter = exporter

    def collect(self) -> Iterator[Metric]:
        return self._exporter.families()


def _family(spec: MetricSpec) -> Metric:
    name, labels = spec.prometheus_name, list(spec.labels)
    if spec.kind == MetricKind.COUNTER:
        return CounterMetricFamily(name, spec.help, labels=labels)
    if spec.kind == MetricKind.GAUGE:
        return GaugeMetricFamily(name, spec.help, labels=labels)
    return HistogramMetricFamily(name, spec.help, labels=labels, unit="seconds")
