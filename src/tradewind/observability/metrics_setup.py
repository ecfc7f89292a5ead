"""Build a process's ``Metrics`` from ``[metrics]`` settings: Prometheus, StatsD, both, or neither."""

from __future__ import annotations

from dataclasses import dataclass, field

from tradewind.config.settings import Settings
from tradewind.observability.metrics import Metrics, MetricsSink
from tradewind.observability.metrics_prometheus import PrometheusExporter
from tradewind.observability.metrics_statsd import StatsdExporter
from tradewind.sdk.errors import ConfigError


@dataclass
class MetricsSetup:
    """What a service command builds once: the interface it hands down, and the registry it serves."""

    metrics: Metrics
    prometheus: PrometheusExporter | None = None
    statsd: StatsdExporter | None = None
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if self.statsd is not None and not self._closed:
            self.statsd.close()
        self._closed = True


def build_metrics(settings: Settings) -> MetricsSetup:
    cfg = settings.metrics
    sinks: list[MetricsSink] = []
    prometheus = statsd = None
    if cfg.prometheus_on:
        prometheus = PrometheusExporter()
        sinks.append(prometheus)
    if cfg.statsd_on:
        statsd = StatsdExporter(_statsd_client(settings))
        sinks.append(statsd)
    return MetricsSetup(Metrics(sinks), prometheus, statsd)


def _statsd_client(settings: Settings) -> object:
    cfg = settings.metrics
    try:
        # An optional dependency: only a process with statsd_on imports it.
        from statsd import StatsClient
    except ImportError as exc:
        raise ConfigError(
            "metrics.statsd_on is true but the statsd package is not installed "
            "(pip install 'tradewind[statsd]')",
            key="metrics.statsd_on",
        ) from exc
    prefix = cfg.statsd_prefix.strip(".") or None
    return StatsClient(cfg.statsd_host, cfg.statsd_port, prefix=prefix)
