"""The scheduler's own execution API server, for when no ``[execution_api] url`` is configured, bound to
``serve_host`` (loopback by default) on ``serve_port``. Nothing extra to start for `tradewind scheduler` with
the local executor or for `tradewind standalone`.

Two ways to run it, one socket: the scheduler binds the listening socket itself, then serves it either

- from a child process (`tradewind scheduler`): `tradewind execution-api --inherited-socket FD`, given the
  scheduler's settings on its stdin. The tries' calls then never wait for the scheduler's interpreter lock
  (a busy tick held it for milliseconds at a time, ten or more times per call). The first child is a fork of
  the scheduler made before it has any thread or database connection (``fork_first``): it shares the modules
  imported so far instead of importing them again (ADR 0030); a child started again after one died is a fresh
  interpreter. The child exits when its stdin closes, so it never outlives the scheduler, even one killed with
  SIGKILL; when the child dies, the scheduler starts another on the same socket (calls wait in the socket's
  backlog meanwhile, and runners retry);
- or from a thread of the calling process (`tradewind standalone`, which is one process by design: its idle
  memory counts more there than its fan-out throughput).

With ``serve_port = 0`` the ports used on a host are kept in ``$TRADEWIND_HOME/run/`` (newest first, each with
the pid of the scheduler that served it): a scheduler binds the first of them that is free, and waits a while
for one whose scheduler died (its server child is still stopping), so one that replaces a killed scheduler takes
over its port even when other schedulers of this host hold theirs, and the tries that outlived the killed one (they retry
unreachable calls) report to the new one. When all are taken, any free port is used and remembered."""

from __future__ import annotations

import contextlib
import gc
import http.client
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Protocol

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from tradewind.api.execution.app import PREFIX, create_execution_app
from tradewind.config.settings import Settings
from tradewind.config.settings_handoff import settings_payload
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.process_liveness import process_running
from tradewind.core.process_title import set_process_title
from tradewind.execution.models import ClaimRequest
from tradewind.execution.tokens import TokenScope, TokenSigner, TryIdentity, signer_from_settings
from tradewind.sdk.errors import ConfigError

log = logging.getLogger(__name__)
START_TIMEOUT = 30.0
#: A child that keeps dying is started again after 1, 2, 4 ... seconds, at most this long.
MAX_RESTART_DELAY = 30.0
#: A child that served at least this long counts as healthy: the next restart is immediate again.
HEALTHY_AFTER = 10.0
#: Ports remembered per host: more than the schedulers that share one host and home.
REMEMBERED_PORTS = 8
#: How long a starting scheduler waits for a remembered port of a scheduler that died: that scheduler's
#: server child stops once it sees its parent gone, and the tries it served call that port again.
PORT_TAKEOVER_SECONDS = 15.0
#: How long the warm-up waits for the server to serve, and for its answer.
WARM_UP_WAIT = 30.0


def execution_server(
    settings: Settings, *, signer: TokenSigner | None = None, host: str = "127.0.0.1", port: int = 0
) -> uvicorn.Server:
    """A uvicorn server of the execution API alone (no UI, no user logins), not yet started. ``host`` and
    ``port`` are what it binds when it is not run on a socket bound already."""
    app = create_execution_app(settings, signer=signer)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30,
        log_config=None if settings.logging.log_format == "json" else LOGGING_CONFIG,  # JSON: the root handler
    )  # fmt: skip
    return uvicorn.Server(config)


def serve_inherited(settings: Settings, sock: socket.socket) -> None:
    """Serve ``sock`` until this process's stdin ends (the scheduler that holds it open stopped or died)."""
    server = execution_server(settings)
    threading.Thread(target=_stop_at_end_of_stdin, args=(server,), name="parent-watch", daemon=True).start()
    address = sock.getsockname()
    threading.Thread(target=_warm_up, args=(server, settings, address), name="warm-up", daemon=True).start()
    server.run(sockets=[sock])


#: The try a warm-up claim names: no DAG id holds a space, so it never exists.
_WARM_UP_KEY = TaskInstanceKey("tradewind warm-up", "warm-up", "warm-up", -1)


def _warm_up(server: uvicorn.Server, settings: Settings, address: tuple[Any, ...]) -> None:
    """Once serving, claim a try that does not exist, over HTTP like a runner: what the first request of a
    process pays once (the app's middleware, route and dependency set-up, PyJWT's import, the first database
    connection, the claim's statements compiled) is paid now, not by the first try of a run. It answers 404
    and changes nothing."""
    deadline = time.monotonic() + WARM_UP_WAIT
    while not server.started and not server.should_exit and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        return
    host = str(address[0])
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    token = signer_from_settings(settings).issue(TryIdentity(_WARM_UP_KEY, 1), TokenScope.CLAIM)
    body = ClaimRequest(hostname="warm-up", pid=os.getpid()).model_dump_json()
    connection = http.client.HTTPConnection(host, int(address[1]), timeout=WARM_UP_WAIT)
    try:
        connection.request(
            "POST", f"{PREFIX}/try/claim", body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        status = connection.getresponse().status
        log.debug("execution API warm-up claim answered %d", status)
    except (OSError, http.client.HTTPException) as exc:
        log.debug("execution API warm-up failed: %r", exc)
    finally:
        connection.close()


def _stop_at_end_of_stdin(server: uvicorn.Server) -> None:
    sys.stdin.buffer.read()
    server.should_exit = True


class _Child(Protocol):
    """What the scheduler needs of its child server: ``subprocess.Popen`` or a ``_ForkedChild``."""

    @property
    def pid(self) -> int: ...
    @property
    def stdin(self) -> IO[bytes] | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def kill(self) -> None: ...


class _ForkedChild:
    """A child made by ``os.fork``, waited for as a ``Popen`` is: its stdin is the pipe whose end stops it."""

    def __init__(self, pid: int, stdin: IO[bytes]) -> None:
        self.pid = pid
        self.stdin: IO[bytes] | None = stdin
        self.returncode: int | None = None
        self._pidfd = os.pidfd_open(pid)
        self._reap = threading.Lock()

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and not select.select([self._pidfd], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired(f"execution API child {self.pid}", timeout or 0.0)
        with self._reap:
            if self.returncode is None:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode  # the pidfd stays open: another thread may be waiting on it

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)


class EmbeddedExecutionApi:
    def __init__(
        self,
        settings: Settings,
        *,
        signer: TokenSigner | None = None,
        in_child: bool = False,
        fork_first: bool = False,
    ) -> None:
        """``in_child``: serve from a child process. ``fork_first``: that child is first a fork of this process,
        which ``start`` must then be called in before it has any other thread or a database connection."""
        self.settings = settings
        self._signer = signer
        self.in_child = in_child
        self._fork_next = in_child and fork_first
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._child: _Child | None = None
        self._stopping = threading.Event()
        #: Remembered ports a dead scheduler's server never gave back: left out when the ports are recorded.
        self._forgotten: set[int] = set()
        self.url = ""

    def start(self) -> str:
        """Serve, and return the URL runners call (``http://HOST:PORT/execution``)."""
        api = self.settings.execution_api
        family = socket.AF_INET6 if ":" in api.serve_host else socket.AF_INET
        sock = self._bind(family)
        sock.listen(1024)
        sock.set_inheritable(False)  # task processes must not hold the listening socket
        self._socket = sock
        host, port = sock.getsockname()[:2]
        if self.in_child:
            self._start_child()
            threading.Thread(target=self._watch_child, name="execution-api-watch", daemon=True).start()
        else:
            self._start_thread(sock)
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        self.url = f"http://{shown}:{port}{PREFIX}"
        if api.serve_port == 0:
            self._remember_port(port)
        log.info(
            "serving the task execution API at %s%s", self.url, " (child process)" if self.in_child else ""
        )
        return self.url

    # -- in a thread --------------------------------------------------------------------------------
    def _start_thread(self, sock: socket.socket) -> None:
        server = execution_server(self.settings, signer=self._signer)
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

    # -- in a child process -------------------------------------------------------------------------
    def _child_settings(self) -> Settings:
        """The settings the child serves with: this process's, with the signing secret it resolved (a secret
        generated under TRADEWIND_HOME is read once, here)."""
        signer = self._signer or signer_from_settings(self.settings)
        api = self.settings.execution_api.model_copy(update={"jwt_secret": signer.signing_secret()})
        return self.settings.model_copy(update={"execution_api": api})

    def _start_child(self) -> None:
        assert self._socket is not None
        if self._fork_next:
            self._fork_next = False
            self._fork_child()
            return
        fd = self._socket.fileno()
        command = [sys.executable, "-m", "tradewind.cli.main", "execution-api", "--inherited-socket", str(fd)]
        child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            pass_fds=(fd,),
            # Its own session: a Ctrl-C in the terminal stops the scheduler, which then closes the child's
            # stdin; the child never dies before the tries' last calls are answered.
            start_new_session=True,
        )
        assert child.stdin is not None
        child.stdin.write(settings_payload(self._child_settings()).encode())
        child.stdin.flush()  # and kept open: its end tells the child to stop
        self._child = child

    def _fork_child(self) -> None:
        """The first child: this process forked, serving the same socket with the same settings in memory."""
        assert self._socket is not None
        settings = self._child_settings()
        stop_read, stop_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # the collector in either process leaves the shared pages alone
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            code = 1
            try:
                code = _run_forked_child(settings, self._socket, stop_read)
            finally:
                os._exit(code)
        os.close(stop_read)
        self._child = _ForkedChild(pid, os.fdopen(stop_write, "wb"))

    def _watch_child(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            child = self._child
            assert child is not None
            started = time.monotonic()
            code = child.wait()
            if self._stopping.is_set():
                return
            healthy = time.monotonic() - started >= HEALTHY_AFTER
            log.error(
                "the execution API server (pid %d) exited with code %s; starting it again", child.pid, code
            )
            if healthy:
                delay = 1.0
            elif self._stopping.wait(delay):
                return
            else:
                delay = min(delay * 2, MAX_RESTART_DELAY)
            self._start_child()

    # -- the socket ---------------------------------------------------------------------------------
    def _bind(self, family: socket.AddressFamily) -> socket.socket:
        api = self.settings.execution_api
        if api.serve_port:
            sock, error = _try_bind(family, api.serve_host, api.serve_port)
            if sock is not None:
                return sock
            raise ConfigError(
                f"cannot serve the execution API on {api.serve_host}:{api.serve_port}: {error}",
                key="execution_api.serve_port",
            )
        # A remembered port still held by a live scheduler is that scheduler's: the next one is tried. One
        # whose scheduler died is waited for (a while): its server child is on its way out, and the tries
        # that scheduler started will call this port again.
        inherited: list[int] = []
        for port, owner in self._remembered_ports():
            sock, _error = _try_bind(family, api.serve_host, port)
            if sock is not None:
                return sock
            if owner is not None and owner != os.getpid() and not process_running(owner):
                inherited.append(port)
        deadline = time.monotonic() + PORT_TAKEOVER_SECONDS
        while inherited and time.monotonic() < deadline:
            time.sleep(0.05)
            for port in inherited:
                sock, _error = _try_bind(family, api.serve_host, port)
                if sock is not None:
                    log.info("took over the execution API port %d of a scheduler that stopped", port)
                    return sock
        if inherited:
            log.warning(
                "the execution API port(s) %s of a stopped scheduler stayed taken for %g s: serving on another;"
                " tries that scheduler started cannot report to this one",
                ", ".join(map(str, inherited)), PORT_TAKEOVER_SECONDS,
            )  # fmt: skip
            self._forgotten.update(inherited)  # taken by something else now: no later start waits for them
        sock, error = _try_bind(family, api.serve_host, 0)
        if sock is not None:
            return sock
        raise ConfigError(
            f"cannot serve the execution API on {api.serve_host}: {error}", key="execution_api.serve_host"
        )

    @property
    def _port_file(self) -> Path:
        return self.settings.home / "run" / f"execution-api-port.{socket.gethostname()}"

    def _remembered_ports(self) -> list[tuple[int, int | None]]:
        """The ports schedulers of this host served on, newest first, each with the pid of the scheduler that
        served it when recorded (a file of "PORT PID" lines; a line with a port alone has no pid)."""
        try:
            lines = self._port_file.read_text().splitlines()
        except OSError:
            return []
        found: dict[int, int | None] = {}
        for line in lines:
            words = line.split()
            if not words or not words[0].isdigit() or not 0 < int(words[0]) < 65536:
                continue
            owner = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
            found.setdefault(int(words[0]), owner)
        return list(found.items())

    def _remember_port(self, port: int) -> None:
        others = [(p, owner) for p, owner in self._remembered_ports() if p != port and p not in self._forgotten]
        entries = [(port, os.getpid()), *others][:REMEMBERED_PORTS]
        partial = self._port_file.with_name(f"{self._port_file.name}.{os.getpid()}")
        try:
            self._port_file.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text("".join(f"{p} {owner}\n" if owner else f"{p}\n" for p, owner in entries))
            os.replace(partial, self._port_file)  # whole: another scheduler may be reading it now
        except OSError as exc:  # only a convenience for tries that outlive this scheduler
            log.warning("cannot record the execution API port in %s: %s", self._port_file, exc)

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        child = self._child
        if child is not None:
            assert child.stdin is not None
            child.stdin.close()  # the child finishes the calls in flight, then exits
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _try_bind(family: socket.AddressFamily, host: str, port: int) -> tuple[socket.socket | None, OSError | None]:
    """A socket bound to ``host:port`` (not yet listening), or the error binding it raised."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: a response written in two parts (headers, body) must not wait for the
    # client's delayed ACK (40 ms per call on a kept-alive connection).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        return None, exc
    return sock, None


def _run_forked_child(settings: Settings, sock: socket.socket, stop_fd: int) -> int:  # pragma: no cover
    """In the forked child: become what `tradewind execution-api --inherited-socket` is in a ``Popen`` child
    (own session, the stop pipe as stdin, stdout to /dev/null, no descriptor of the scheduler's but these)."""
    set_process_title(f"tradewind execution-api [forked from pid {os.getppid()}]")
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(stop_fd, 0)
    os.dup2(null, 1)
    keep = sorted({0, 1, 2, sock.fileno()})
    for low, high in zip(keep, [*keep[1:], os.sysconf("SC_OPEN_MAX")], strict=True):
        os.closerange(low + 1, high)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    serve_inherited(settings, sock)
    sys.stdout.flush()
    sys.stderr.flush()
    return 0
