"""The DAG processor of `tradewind standalone` and `tradewind scheduler`: a child forked from the service's main
process before that starts any thread, event loop or database connection, so the modules both have imported
(SQLAlchemy, the settings, the tables) stay shared copy-on-write instead of loaded, and paid for in CPU, by a
second interpreter. It parses nothing until the service's scheduler starts (``start``); if it dies, a fresh
`tradewind dag-processor` takes its place (a fork of a process with threads is not safe)."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time

from tradewind.config.settings import Settings
from tradewind.core.process_title import set_process_title

log = logging.getLogger("tradewind.dag_processor")

#: A processor that died sooner than this after it started is started again only after this pause (a bad
#: setting or a database that refuses it must not make the service spin).
RESTART_PAUSE = 5.0
#: How long a processor has to end after SIGTERM before it is killed.
STOP_GRACE_SECONDS = 10.0


class ForkedDagProcessor:
    """The forked processor and its successors. ``fork`` first, ``start`` once the scheduler runs, ``stop``
    at the end (also when ``start`` never came: the child then exits without parsing)."""

    def __init__(self, settings: Settings, pid: int, go_fd: int) -> None:
        self.settings = settings
        self.pid = pid
        #: Signals reach the forked child through this, never through a pid that may have been reused.
        self._pidfd = os.pidfd_open(pid)
        self._go_fd: int | None = go_fd
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        #: The `tradewind dag-processor` started after the forked child died (None until then).
        self._successor: subprocess.Popen[bytes] | None = None
        self._watch: threading.Thread | None = None

    @classmethod
    def fork(cls, settings: Settings) -> ForkedDagProcessor:
        """Fork the processor now. Call with no other thread running and no database connection open: the
        child inherits the memory as it is, locks and sockets included."""
        go_read, go_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        # Frozen objects are skipped by the collector: neither process's collections write to (and so copy)
        # the pages of the modules imported so far.
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            os.close(go_write)
            code = 1
            try:
                code = _run_child(go_read)
            except BaseException:
                log.exception("the DAG processor failed")
            finally:
                logging.shutdown()
                os._exit(code)
        os.close(go_read)
        log.debug("DAG processor forked (pid %d), waiting for the scheduler", pid)
        return cls(settings, pid, go_write)

    def start(self) -> None:
        """Let the child parse, and watch it: started again (as a new process) if it dies."""
        with self._lock:
            if self._stopping.is_set() or self._go_fd is None:
                return
            with contextlib.suppress(OSError):  # it died already: the watcher starts another
                os.write(self._go_fd, b"g")
            os.close(self._go_fd)
            self._go_fd = None
        log.info("DAG processor started (pid %d)", self.pid)
        self._watch = threading.Thread(target=self._supervise, name="dag-processor-watch", daemon=True)
        self._watch.start()

    def stop(self) -> None:
        """SIGTERM the processor (SIGKILL after a grace) and wait for it."""
        with self._lock:
            self._stopping.set()
            if self._go_fd is not None:  # never started: at the end of its pipe the child exits
                os.close(self._go_fd)
                self._go_fd = None
            successor = self._successor
        if successor is None:
            self._end_forked()
        else:
            successor.terminate()
            try:
                successor.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                successor.kill()
        if self._watch is not None:
            self._watch.join(timeout=STOP_GRACE_SECONDS)
        os.close(self._pidfd)

    def _end_forked(self) -> None:
        """SIGTERM the forked child, SIGKILL after the grace; the watcher thread reaps it when there is one,
        else this does."""
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self._pidfd, signal.SIGTERM)
        ended = select.select([self._pidfd], [], [], STOP_GRACE_SECONDS)[0]
        if not ended:
            log.warning("DAG processor %d did not stop; killing it", self.pid)
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        if self._watch is None:
            os.waitpid(self.pid, 0)

    def _supervise(self) -> None:
        started = time.monotonic()
        _pid, status = os.waitpid(self.pid, 0)
        code: int | None = os.waitstatus_to_exitcode(status)
        while not self._stopping.is_set():
            log.error("DAG processor exited with code %s; restarting it", code)
            if time.monotonic() - started < RESTART_PAUSE and self._stopping.wait(RESTART_PAUSE):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                started = time.monotonic()
                # Started from this thread, which lives as long as the process: the child's parent-death
                # signal follows the thread that started it.
                self._successor = subprocess.Popen(
                    [sys.executable, "-m", "tradewind.cli.main", "dag-processor"],
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,
                    env=processor_env(self.settings, os.environ),
                )
                successor = self._successor
            log.info("DAG processor started (pid %d)", successor.pid)
            code = successor.wait()


def processor_env(settings: Settings, environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """The processor's environment: it serves its own /metrics on the port after the service's (two
    processes cannot share one port), as the scheduler's processor child does."""
    env = dict(environ)
    port = settings.metrics.serve_port
    if port:  # 0 (any free port) stays 0
        env["TRADEWIND__METRICS__SERVE_PORT"] = str(port + 1 if port < 65535 else 0)
    return env


def _run_child(go_fd: int) -> int:  # pragma: no cover - runs in the forked child
    """The child: wait for the go (end of file: the service stopped first), then be `tradewind
    dag-processor`, with the environment its successors get."""
    set_process_title(f"tradewind dag-processor [forked from pid {os.getppid()}]")
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # until it runs: a Ctrl-C reaches the service too
    if not os.read(go_fd, 1):
        return 0
    os.close(go_fd)
    from tradewind.cli.console_logging import configure_logging
    from tradewind.cli.metrics_serving import start_service_metrics
    from tradewind.cli.stop_signals import install_stop_signals
    from tradewind.cli.store_access import migrated_engine
    from tradewind.config.settings import load_settings
    from tradewind.dag_processing.processor import DagProcessor
    from tradewind.store.engine import make_session_factory

    stop = threading.Event()
    install_stop_signals(stop)
    os.environ.update(processor_env(load_settings(), os.environ))
    settings = load_settings()
    configure_logging(settings.logging.level, settings.logging.log_format)
    engine = migrated_engine(settings, what="the DAG processor")
    try:
        metrics, stop_metrics = start_service_metrics(settings)
        try:
            DagProcessor(settings, make_session_factory(engine), metrics=metrics).run_forever(stop)
        finally:
            stop_metrics()
    finally:
        engine.dispose()
    return 0


def _die_with_parent() -> None:
    """Get SIGTERM when the service dies, even by SIGKILL (Linux): a restarted service never finds a
    second processor left behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
