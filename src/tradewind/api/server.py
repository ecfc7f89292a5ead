"""Running the webserver: uvicorn serving ``create_app(settings)``, alone or beside the scheduler. It listens
as soon as /health and the login page can answer, and completes the app on a thread while it serves
(``api.route_loading``)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from tradewind.api.app import create_core_app
from tradewind.api.route_loading import RouteLoading
from tradewind.config.settings import Settings
from tradewind.observability.metrics_setup import MetricsSetup

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """Starts completing the app and signals ``ready`` once the socket listens, so a caller (tests,
    standalone) knows it can connect; exits when ``stop`` is set or the app cannot be completed."""

    def __init__(
        self,
        config: uvicorn.Config,
        loading: RouteLoading,
        ready: threading.Event | None,
        stop: threading.Event | None,
    ) -> None:
        super().__init__(config)
        self.loading = loading
        self._ready = ready
        self._stop = stop

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.loading.start()
            if self._ready is not None:
                self._ready.set()

    async def on_tick(self, counter: int) -> bool:
        if (self._stop is not None and self._stop.is_set()) or self.loading.failure is not None:
            self.should_exit = True
        return await super().on_tick(counter)


def build_server(
    settings: Settings,
    host: str,
    port: int,
    *,
    ready: threading.Event | None = None,
    metrics_setup: MetricsSetup | None = None,
    stop: threading.Event | None = None,
    complete: threading.Event | None = None,
) -> _Server:
    """``ready``: set once the socket listens; ``complete``: once every route is in; ``stop``: set by another
    thread to end serving (as SIGTERM does)."""
    loading = RouteLoading(create_core_app(settings, metrics_setup=metrics_setup), complete=complete)
    config = uvicorn.Config(
        loading,
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
    return _Server(config, loading, ready, stop)


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    ready: threading.Event | None = None,
    metrics_setup: MetricsSetup | None = None,
    stop: threading.Event | None = None,
    complete: threading.Event | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn installs the handlers when run in the main thread) or ``stop``;
    raises what stopped the app from loading its routes. Events as in ``build_server``."""
    server = build_server(
        settings, host, port, ready=ready, metrics_setup=metrics_setup, stop=stop, complete=complete
    )
    log.info("webserver listening on http://%s:%s", host, port)
    asyncio.run(server.serve())
    if server.loading.failure is not None:
        raise server.loading.failure
