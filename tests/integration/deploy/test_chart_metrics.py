"""The chart's `metrics:` values: off by default; on, the scheduler and triggerer serve /metrics on the port
with the token from a Secret, the pods carry scrape annotations, and a ServiceMonitor scrapes with that token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tradewind.observability.metrics_server import bearer_matches

from .conftest import Manifest, by_kind, container_env, load_settings_as, named, toml_of

Render = Callable[..., list[Manifest]]
ON = ["metrics.enabled=true"]


def _container(manifests: list[Manifest], component: str) -> dict[str, Any]:
    deployment = named(manifests, "Deployment", f"-{component}")
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _annotations(manifests: list[Manifest], component: str) -> dict[str, str]:
    deployment = named(manifests, "Deployment", f"-{component}")
    return dict(deployment["spec"]["template"]["metadata"].get("annotations") or {})


def test_metrics_are_off_by_default(render: Render) -> None:
    manifests = render()
    assert not by_kind(manifests, "ServiceMonitor")
    assert not [m for m in by_kind(manifests, "Service") if m["metadata"]["name"].endswith("-metrics")]
    for component in ("scheduler", "triggerer", "webserver"):
        env = container_env(manifests, _container(manifests, component))
        assert not [k for k in env if k.startswith("TRADEWIND__METRICS__")]
        assert "prometheus.io/scrape" not in _annotations(manifests, component)


def test_on_the_services_serve_with_the_generated_token(
    render: Render, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = render(sets=ON)
    scheduler = _container(manifests, "scheduler")
    env = container_env(manifests, scheduler)
    token = env["TRADEWIND__METRICS__TOKEN"]
    assert len(token) == 40
    assert {p["name"]: p["containerPort"] for p in scheduler["ports"]} == {"metrics": 9102, "metrics-parsing": 9103}
    # Tradewind reads these as the settings that make it serve on every interface behind the token.
    settings = load_settings_as(env, toml_of(manifests), tmp_path / "home", monkeypatch)
    assert settings.metrics.serve_port == 9102 and settings.metrics.serve_host == "0.0.0.0"
    assert settings.metrics.token is not None and bearer_matches(f"Bearer {token}", settings.metrics.token.get_secret_value())
    triggerer_env = container_env(manifests, _container(manifests, "triggerer"))
    assert triggerer_env["TRADEWIND__METRICS__SERVE_PORT"] == "9102"
    assert triggerer_env["TRADEWIND__METRICS__TOKEN"] == token
    web_env = container_env(manifests, _container(manifests, "webserver"))
    assert web_env["TRADEWIND__METRICS__TOKEN"] == token
    assert "TRADEWIND__METRICS__SERVE_PORT" not in web_env  # the webserver serves /metrics on its own port
    assert _annotations(manifests, "scheduler")["prometheus.io/port"] == "9102"
    assert _annotations(manifests, "webserver")["prometheus.io/port"] == "8080"
    assert _annotations(manifests, "triggerer")["prometheus.io/scrape"] == "true"
    assert not by_kind(manifests, "ServiceMonitor")


def test_an_existing_secret_is_used_and_none_created(render: Render) -> None:
    manifests = render(sets=[*ON, "metrics.token.existingSecret=scrape", "metrics.token.existingSecretKey=tok"])
    assert not [m for m in by_kind(manifests, "Secret") if m["metadata"]["name"].endswith("-metrics")]
    [ref] = [
        e["valueFrom"]["secretKeyRef"]
        for e in _container(manifests, "scheduler")["env"]
        if e["name"] == "TRADEWIND__METRICS__TOKEN"
    ]
    assert ref == {"name": "scrape", "key": "tok"}


def test_the_service_monitor_scrapes_every_component_with_the_token(render: Render) -> None:
    manifests = render(sets=[*ON, "metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.labels.release=prom"])
    [monitor] = by_kind(manifests, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = [
        m for m in by_kind(manifests, "Service") if selector.items() <= m["metadata"]["labels"].items()
    ]
    components = {m["metadata"]["labels"]["app.kubernetes.io/component"] for m in services}
    assert components == {"scheduler", "triggerer", "webserver"}
    secret = named(manifests, "Secret", "-metrics")
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["path"] == "/metrics"
        credentials = endpoint["authorization"]["credentials"]
        assert credentials["name"] == secret["metadata"]["name"] and credentials["key"] in secret["data"]
    # Each service's metrics port reaches a port its pods declare (the webserver's is its web port).
    for service in services:
        component = service["metadata"]["labels"]["app.kubernetes.io/component"]
        declared = {p["containerPort"] for p in _container(manifests, component).get("ports", [])}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= declared, component


def test_no_triggerer_no_triggerer_service(render: Render) -> None:
    manifests = render(sets=[*ON, "triggerer.enabled=false"])
    names = [m["metadata"]["name"] for m in by_kind(manifests, "Service")]
    assert not [n for n in names if n.endswith("-triggerer-metrics")]
