"""``/metrics`` over HTTP for the scheduler, DAG processor and triggerer: a small server thread on
``[metrics] serve_host:serve_port``, behind ``[metrics] token`` when it is set."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tradewind.observability.metrics_prometheus import PrometheusExporter, content_type
from tradewind.sdk.errors import ConfigError

log = logging.getLogger(__name__)


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (compared in constant time)."""
    if not authorization or not token:
        return False
    scheme, _, presented = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MetricsServer:
    """Serves ``GET /metrics`` from one exporter's registry until ``stop()``."""

    def __init__(self, exporter: PrometheusExporter, host: str, port: int, token: str | None) -> None:
        if not token and not is_loopback(host):
            raise ConfigError(
                f"metrics.token must be set to serve /metrics on the non-loopback host {host!r} "
                "(metrics.serve_host)",
                key="metrics.token",
            )
        self._httpd = ThreadingHTTPServer((host, port), _handler(exporter, token or None))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="metrics-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> MetricsServer:
        self._thread.start()
        log.info("metrics served at http://%s:%d/metrics", self._httpd.server_address[0], self.port)
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler(exporter: PrometheusExporter, token: str | None) -> type[BaseHTTPRequestHandler]:
    class MetricsHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/metrics":
                self._answer(404, b"not found: only /metrics is served here\n", "text/plain")
                return
            if token is not None and not bearer_matches(self.headers.get("Authorization"), token):
                self._answer(401, b"a bearer token ([metrics] token) is required\n", "text/plain")
                return
            self._answer(200, exporter.render(), content_type())

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            if status == 401:
                self.send_header("WWW-Authenticate", "Bearer")
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Scrapes every few seconds would flood the service log."""

    return MetricsHandler
