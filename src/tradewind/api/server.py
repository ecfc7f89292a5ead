"""Running the webserver: uvicorn serving ``create_app(settings)``, alone or beside the scheduler."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from tradewind.api.app import create_app
from tradewind.config.settings import Settings
from tradewind.observability.metrics_setup import MetricsSetup

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """Signals ``ready`` once the socket listens, so a caller (tests, standalone) knows it can connect."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event | None) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self._ready is not None and self.started:
            self._ready.set()


def build_server(
    settings: Settings,
    host: str,
    port: int,
    *,
    ready: threading.Event | None = None,
    metrics_setup: MetricsSetup | None = None,
) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings, metrics_setup=metrics_setup),
        host=host,
        port=port,
        log_level=settings.logging.level.lower(),
        access_log=False,
        # JSON service logs: uvicorn's loggers keep no handlers of their own and go through the root one.
        log_config=None if settings.logging.log_format == "json" else LOGGING_CONFIG,
        # create_app applies [webserver] forwarded_allow_ips itself (so in-process clients see it too).
        proxy_headers=False,
        server_header=False,
        lifespan="on",
    )
    return _Server(config, ready)


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    ready: threading.Event | None = None,
    metrics_setup: MetricsSetup | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn installs the handlers when run in the main thread)."""
    server = build_server(settings, host, port, ready=ready, metrics_setup=metrics_setup)
    log.info("webserver listening on http://%s:%s", host, port)
    asyncio.run(server.serve())
