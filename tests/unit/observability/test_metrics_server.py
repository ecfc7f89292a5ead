"""The service processes' /metrics server: a real HTTP server thread, the bearer token, the loopback rule."""

from __future__ import annotations

import httpx
import pytest

from tradewind.observability.metrics import Metrics
from tradewind.observability.metrics_prometheus import PrometheusExporter
from tradewind.observability.metrics_server import MetricsServer, bearer_matches
from tradewind.sdk.errors import ConfigError


def test_serves_the_registry_behind_the_token() -> None:
    exporter = PrometheusExporter()
    Metrics([exporter]).incr("scheduler_heartbeat")
    server = MetricsServer(exporter, "127.0.0.1", 0, "s3cret").start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert httpx.get(f"{base}/metrics").status_code == 401
        assert httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert ok.headers["content-type"].startswith("text/plain")
        assert "tradewind_scheduler_heartbeat_total 1.0" in ok.text
        assert httpx.get(f"{base}/other", headers={"Authorization": "Bearer s3cret"}).status_code == 404
    finally:
        server.stop()


def test_open_on_loopback_without_a_token() -> None:
    server = MetricsServer(PrometheusExporter(), "127.0.0.1", 0, None).start()
    try:
        assert httpx.get(f"http://127.0.0.1:{server.port}/metrics").status_code == 200
    finally:
        server.stop()


def test_refuses_a_non_loopback_host_without_a_token() -> None:
    with pytest.raises(ConfigError, match=r"metrics\.token") as caught:
        MetricsServer(PrometheusExporter(), "0.0.0.0", 0, None)
    assert caught.value.key == "metrics.token"


def test_bearer_matching() -> None:
    assert bearer_matches("Bearer abc", "abc")
    assert bearer_matches("bearer abc", "abc")
    assert not bearer_matches("Basic abc", "abc")
    assert not bearer_matches(None, "abc")
    assert not bearer_matches("Bearer abc", "")
