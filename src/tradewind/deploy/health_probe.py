"""The webserver's GET /health, and the address it is reached at from outside the cluster."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tradewind.sdk.errors import DeploymentError

#: Component statuses that count as up.
HEALTHY_STATUSES = frozenset({"healthy", "ok"})


@dataclass(frozen=True)
class HealthReport:
    """One answer of /health: the HTTP status and each component's status ("healthy" or not)."""

    url: str
    status_code: int | None
    components: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.status_code == 200 and all(s in HEALTHY_STATUSES for s in self.components.values())

    def describe(self) -> str:
        if self.error:
            return f"{self.url}: {self.error}"
        parts = ", ".join(f"{name} {status}" for name, status in sorted(self.components.items()))
        return f"{self.url}: HTTP {self.status_code}" + (f" ({parts})" if parts else "")


def components_of(body: Any) -> dict[str, str]:
    """{"metadatabase": {"status": "healthy"}, "scheduler": {"status": ...}} -> {name: status}."""
    if not isinstance(body, Mapping):
        return {}
    found = {}
    for name, value in body.items():
        if isinstance(value, Mapping) and isinstance(value.get("status"), str):
            found[str(name)] = value["status"]
    if not found and isinstance(body.get("status"), str):
        found["webserver"] = body["status"]
    return found


def fetch_health(base_url: str, *, timeout: float = 5.0) -> HealthReport:
    url = base_url.rstrip("/") + "/health"
    try:
        # Without it the webserver answers /health with its HTML page for browsers.
        response = httpx.get(url, timeout=timeout, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        return HealthReport(url=url, status_code=None, error=f"{type(exc).__name__}: {exc}")
    try:
        body = response.json()
    except ValueError:
        return HealthReport(url=url, status_code=response.status_code, error="the answer is not JSON")
    return HealthReport(url=url, status_code=response.status_code, components=components_of(body))


def wait_for_health(
    base_url: str,
    *,
    timeout: float,
    poll_interval: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> HealthReport:
    """Poll /health until every component is healthy; after ``timeout``, fail with the last answer."""
    deadline = clock() + timeout
    while True:
        report = fetch_health(base_url)
        if report.healthy:
            return report
        if clock() >= deadline:
            raise DeploymentError(f"the webserver is not healthy after {timeout:.0f}s: {report.describe()}")
        sleep(poll_interval)


def external_url(service: Mapping[str, Any], ingress: Mapping[str, Any] | None = None) -> str | None:
    """Where a browser outside the cluster reaches the webserver: the Ingress host, else the LoadBalancer
    address; None when neither exists yet (ClusterIP, NodePort, or a load balancer still pending)."""
    if ingress:
        spec = ingress.get("spec", {})
        scheme = "https" if spec.get("tls") else "http"
        for rule in spec.get("rules", []):
            if rule.get("host"):
                path = ((rule.get("http") or {}).get("paths") or [{}])[0].get("path", "/")
                return f"{scheme}://{rule['host']}{path}".rstrip("/")
        for lb in ingress.get("status", {}).get("loadBalancer", {}).get("ingress", []) or []:
            if address := lb.get("hostname") or lb.get("ip"):
                return f"{scheme}://{address}"
    spec = service.get("spec", {})
    if spec.get("type") == "LoadBalancer":
        port = (spec.get("ports") or [{}])[0].get("port", 8080)
        for lb in service.get("status", {}).get("loadBalancer", {}).get("ingress", []) or []:
            if address := lb.get("hostname") or lb.get("ip"):
                return f"http://{address}:{port}"
    return None
