"""The names users build on: every exported metric is documented in docs/metrics.md and shown on the Grafana
dashboard, and every name the dashboard queries is one the exporter produces."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tradewind.observability.metrics import Metrics
from tradewind.observability.metrics_catalog import CATALOG, MetricKind
from tradewind.observability.metrics_prometheus import PrometheusExporter

REPO = Path(__file__).resolve().parents[3]
DOCS = REPO / "docs" / "metrics.md"
DASHBOARD = REPO / "deploy" / "grafana" / "tradewind.json"
HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")


def _expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in _expressions(value)]
    if isinstance(node, list):
        return [e for item in node for e in _expressions(item)]
    return []


def _exported_series() -> set[str]:
    """The sample names the real exporter writes once every catalog metric has a value."""
    exporter = PrometheusExporter()
    metrics = Metrics([exporter])
    for spec in CATALOG:
        labels = dict.fromkeys(spec.labels, "x")
        if spec.kind == MetricKind.COUNTER:
            metrics.incr(spec.key, **labels)
        elif spec.kind == MetricKind.GAUGE:
            metrics.gauge(spec.key, 1, **labels)
        else:
            metrics.timing(spec.key, 1.0, **labels)
    return {family.name for family in exporter.registry.collect()} | {
        sample.name for family in exporter.registry.collect() for sample in family.samples
    }


def test_every_metric_is_documented_with_both_names() -> None:
    text = DOCS.read_text()
    for spec in CATALOG:
        assert f"`{spec.prometheus_name}`" in text, spec.prometheus_name
        assert f"`{spec.statsd}`" in text, spec.statsd


def test_the_catalogs_prometheus_names_are_what_the_exporter_writes() -> None:
    series = _exported_series()
    for spec in CATALOG:
        if spec.kind == MetricKind.TIMER:
            assert {spec.prometheus_name + s for s in HISTOGRAM_SERIES} <= series, spec.key
        else:
            assert spec.prometheus_name in series, spec.key


def test_the_dashboard_queries_only_exported_names_and_shows_every_metric() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [*_expressions(dashboard["panels"]), dashboard["templating"]["list"][1]["definition"]]
    assert expressions
    series = _exported_series()
    queried = {name for expr in expressions for name in re.findall(r"\btradewind_[a-z0-9_]+", expr)}
    assert queried - series == set(), "the dashboard queries names no exporter produces"
    shown = {name.removesuffix(s) for name in queried for s in ("", *HISTOGRAM_SERIES) if name.endswith(s)}
    missing = {spec.prometheus_name for spec in CATALOG} - shown
    assert missing == set(), f"metrics no panel shows: {missing}"
