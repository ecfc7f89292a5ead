"""The ``PrometheusExporter``'s tables as prometheus_client metric families: the collector a scrape runs.
Imported at a process's first scrape only (``metrics_prometheus``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from tradewind.observability.metrics_catalog import BY_KEY, MetricKind, MetricSpec

if TYPE_CHECKING:
    from tradewind.observability.metrics_prometheus import PrometheusExporter


def register(exporter: PrometheusExporter, registry: CollectorRegistry | None) -> CollectorRegistry:
    """``registry`` (a new one when None) with a collector of ``exporter``'s tables."""
    registry = registry or CollectorRegistry(auto_describe=False)
    registry.register(_Collector(exporter))
    return registry


class _Collector:
    def __init__(self, exporter: PrometheusExporter) -> None:
        self._exporter = exporter

    def collect(self) -> Iterator[Metric]:
        return families(self._exporter)


def families(exporter: PrometheusExporter) -> Iterator[Metric]:
    values, histograms = exporter.snapshot()
    found: dict[str, Metric] = {}
    for (key, label_values), value in sorted(values.items()):
        spec = BY_KEY[key]
        family = found.get(key) or found.setdefault(key, _family(spec))
        family.add_metric(list(label_values), value)  # type: ignore[attr-defined]
    for (key, label_values), counts in sorted(histograms.items()):
        spec = BY_KEY[key]
        family = found.get(key) or found.setdefault(key, _family(spec))
        assert isinstance(family, HistogramMetricFamily)
        bounds = [*(floatToGoString(b) for b in spec.buckets), "+Inf"]
        cumulative, running = [], 0.0
        for bound, count in zip(bounds, counts[:-1], strict=True):
            running += count
            cumulative.append((bound, running))
        family.add_metric(list(label_values), cumulative, counts[-1])
    yield from found.values()


def _family(spec: MetricSpec) -> Metric:
    name, labels = spec.prometheus_name, list(spec.labels)
    if spec.kind == MetricKind.COUNTER:
        return CounterMetricFamily(name, spec.help, labels=labels)
    if spec.kind == MetricKind.GAUGE:
        return GaugeMetricFamily(name, spec.help, labels=labels)
    return HistogramMetricFamily(name, spec.help, labels=labels, unit="seconds")
