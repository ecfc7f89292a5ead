"""The scheduler's own execution API server, for when no ``[execution_api] url`` is configured: a uvicorn
server on a thread of the scheduler process, bound to ``serve_host`` (loopback by default) on
``serve_port``. Nothing extra to start for `tradewind scheduler` with the local executor or for
`tradewind standalone`.

With ``serve_port = 0`` the port is chosen once per host and kept in ``$TRADEWIND_HOME/run/``: a scheduler
that replaces a killed one binds the same port when it is free, so tries that outlived their scheduler
(they retry unreachable calls) report to the new one. When it is taken (another scheduler on this host),
any free port is used."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import uvicorn

from tradewind.api.execution.app import PREFIX, create_execution_app
from tradewind.config.settings import Settings
from tradewind.execution.tokens import TokenSigner
from tradewind.sdk.errors import ConfigError

log = logging.getLogger(__name__)
START_TIMEOUT = 30.0


class EmbeddedExecutionApi:
    def __init__(self, settings: Settings, *, signer: TokenSigner | None = None) -> None:
        self.settings = settings
        self._signer = signer
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> str:
        """Serve, and return the URL runners call (``http://HOST:PORT/execution``)."""
        api = self.settings.execution_api
        family = socket.AF_INET6 if ":" in api.serve_host else socket.AF_INET
        sock = self._bind(family)
        sock.listen(1024)
        sock.set_inheritable(False)  # task processes must not hold the listening socket
        host, port = sock.getsockname()[:2]
        app = create_execution_app(self.settings, signer=self._signer)
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="execution-api", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError("the scheduler's execution API server did not start", key="execution_api")
            time.sleep(0.01)
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        self.url = f"http://{shown}:{port}{PREFIX}"
        if api.serve_port == 0:
            self._remember_port(port)
        log.info("serving the task execution API at %s", self.url)
        return self.url

    def _bind(self, family: socket.AddressFamily) -> socket.socket:
        api = self.settings.execution_api
        candidates = (
            [api.serve_port] if api.serve_port else [p for p in (self._remembered_port(), 0) if p is not None]
        )
        error: OSError | None = None
        for port in candidates:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Accepted connections inherit it: a response written in two parts (headers, body) must not wait
            # for the client's delayed ACK (40 ms per call on a kept-alive connection).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                sock.bind((api.serve_host, port))
            except OSError as exc:
                sock.close()
                error = exc
                continue
            return sock
        raise ConfigError(
            f"cannot serve the execution API on {api.serve_host}:{api.serve_port}: {error}",
            key="execution_api.serve_port",
        )

    @property
    def _port_file(self) -> Path:
        return self.settings.home / "run" / f"execution-api-port.{socket.gethostname()}"

    def _remembered_port(self) -> int | None:
        try:
            port = int(self._port_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return port if 0 < port < 65536 else None

    def _remember_port(self, port: int) -> None:
        try:
            self._port_file.parent.mkdir(parents=True, exist_ok=True)
            self._port_file.write_text(f"{port}\n")
        except OSError as exc:  # only a convenience for tries that outlive this scheduler
            log.warning("cannot record the execution API port in %s: %s", self._port_file, exc)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
