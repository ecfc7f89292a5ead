"""Build a service process's metrics from ``[metrics]`` and, when ``serve_port`` is set, serve its
``/metrics`` (the scheduler, DAG processor and triggerer; the webserver serves its own on the web port)."""

from __future__ import annotations

from collections.abc import Callable

from tradewind.config.settings import Settings
from tradewind.observability.metrics import Metrics
from tradewind.observability.metrics_server import MetricsServer
from tradewind.observability.metrics_setup import MetricsSetup, build_metrics


def start_service_metrics(settings: Settings) -> tuple[Metrics, Callable[[], None]]:
    """The process's ``Metrics``, and a function that stops its server and exporters."""
    setup = build_metrics(settings)
    server = serve_metrics(settings, setup)

    def stop() -> None:
        if server is not None:
            server.stop()
        setup.close()

    return setup.metrics, stop


def serve_metrics(settings: Settings, setup: MetricsSetup) -> MetricsServer | None:
    cfg = settings.metrics
    if setup.prometheus is None or cfg.serve_port is None:
        return None
    token = cfg.token.get_secret_value() if cfg.token is not None else None
    return MetricsServer(setup.prometheus, cfg.serve_host, cfg.serve_port, token).start()
