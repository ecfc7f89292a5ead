"""/health through HTTP (a real local server) and the address of the webserver from outside the cluster."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tradewind.deploy.health_probe import components_of, external_url, fetch_health, wait_for_health
from tradewind.sdk.errors import TradewindError


@pytest.fixture
def health_server() -> Iterator[tuple[str, list[dict[str, object]]]]:
    """A webserver stand-in answering GET /health with the next body of ``answers`` (the last one repeats)."""
    answers: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if "application/json" not in self.headers.get("Accept", ""):
                # Tradewind's webserver shows its HTML page unless JSON is asked for.
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html>health</html>")
                return
            body = answers.pop(0) if len(answers) > 1 else answers[0]
            payload = json.dumps(body).encode()
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answers
    finally:
        server.shutdown()
        thread.join(timeout=5)


HEALTHY = {
    "metadatabase": {"status": "healthy"},
    "scheduler": {"status": "healthy", "latest_scheduler_heartbeat": "2024-01-01T00:00:00+00:00"},
}
NO_SCHEDULER = {
    "metadatabase": {"status": "healthy"},
    "scheduler": {"status": "unhealthy", "latest_scheduler_heartbeat": None},
}


def test_components_of_a_health_answer() -> None:
    assert components_of(HEALTHY) == {"metadatabase": "healthy", "scheduler": "healthy"}
    assert components_of({"status": "ok"}) == {"webserver": "ok"}
    assert components_of(["not", "a", "mapping"]) == {}


def test_waits_until_the_scheduler_heartbeats(health_server: tuple[str, list[dict[str, object]]]) -> None:
    url, answers = health_server
    answers += [NO_SCHEDULER, NO_SCHEDULER, HEALTHY]
    report = wait_for_health(url, timeout=30, poll_interval=0.01)
    assert report.healthy and report.components == {"metadatabase": "healthy", "scheduler": "healthy"}
    assert report.describe() == f"{url}/health: HTTP 200 (metadatabase healthy, scheduler healthy)"


def test_gives_up_with_the_last_answer(health_server: tuple[str, list[dict[str, object]]]) -> None:
    url, answers = health_server
    answers.append(NO_SCHEDULER)
    with pytest.raises(TradewindError, match=r"not healthy after 0s: .* scheduler unhealthy"):
        wait_for_health(url, timeout=0.2, poll_interval=0.05)


def test_an_unreachable_webserver_is_a_report_not_a_crash() -> None:
    report = fetch_health("http://127.0.0.1:1", timeout=2)
    assert not report.healthy and report.status_code is None and report.error


def test_external_url_prefers_the_ingress_host_then_the_load_balancer() -> None:
    service = {
        "spec": {"type": "LoadBalancer", "ports": [{"port": 8080}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
    }
    assert external_url(service) == "http://203.0.113.7:8080"
    ingress = {
        "spec": {
            "tls": [{"secretName": "t"}],
            "rules": [{"host": "tw.example.com", "http": {"paths": [{"path": "/"}]}}],
        }
    }
    assert external_url(service, ingress) == "https://tw.example.com"
    pending = {"spec": {"type": "LoadBalancer", "ports": [{"port": 8080}]}, "status": {"loadBalancer": {}}}
    assert external_url(pending) is None
    assert external_url({"spec": {"type": "ClusterIP"}}) is None
    hostname = {
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
        "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.net"}]}},
    }
    assert external_url(hostname) == "http://lb.example.net:80"
