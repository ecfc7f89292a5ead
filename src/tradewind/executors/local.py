"""LocalExecutor: each task try runs as its own local process, forked from a pre-imported fork server or
started as a fresh `tradewind tasks run` subprocess."""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any

from tradewind.config.settings import Settings
from tradewind.config.task_settings import runner_command_environment, settings_for_tasks, task_environment
from tradewind.core.console_script import tradewind_executable
from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskTryKey
from tradewind.core.process_liveness import process_running
from tradewind.core.workload import ExecuteTask
from tradewind.executors.base import Executor
from tradewind.executors.try_launcher import RunTry, TryLauncher
from tradewind.executors.warm_parents import WarmParents, WarmTry
from tradewind.sdk.errors import ExecutorError

log = logging.getLogger(__name__)

_environ_lock = threading.Lock()
#: Seconds between SIGTERM and SIGKILL when a try is terminated.
KILL_GRACE_SECONDS = 10.0


@dataclass
class _Running:
    workload: ExecuteTask
    process: BaseProcess | None = None
    popen: subprocess.Popen[bytes] | None = None
    warm: WarmTry | None = None

    @property
    def pid(self) -> int | None:
        if self.warm is not None:
            return self.warm.pid
        return self.process.pid if self.process is not None else (self.popen.pid if self.popen else None)

    @property
    def sentinel(self) -> int:
        if self.process is not None:
            return self.process.sentinel
        if self.warm is not None:
            return self.warm.sentinel
        raise RuntimeError("subprocess tries are reaped by polling")


def _fork_server_running() -> bool:
    """Whether multiprocessing's fork server still runs. When it has died, the next ``start()`` would start
    it again with the environment of that moment, secrets included: the executor restarts it first."""
    pid = getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)  # no public accessor
    # A dead server stays a zombie until ensure_running() reaps it: not running.
    return pid is not None and process_running(pid)


def _guard_fork_server_starts(start_without_secrets: Callable[[Callable[[], None]], None]) -> None:
    """Make every start of multiprocessing's fork server, the first and any after it died, go through
    ``start_without_secrets``. Each ``Process.start()`` calls the server's ``ensure_running()``, which would
    otherwise start a dead server again with the environment of that moment, secrets included. Relies on
    CPython's ForkServer fields (3.11-3.13); checked by tests/integration/runner/test_forked_runner.py."""
    server: Any = multiprocessing.forkserver._forkserver  # private fields below: no public accessor
    original = type(server).ensure_running

    def ensure_running() -> None:
        with server._lock:
            pid = server._forkserver_pid
            if pid is not None:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if not done:
                    return  # alive
                # Dead (and now reaped): forget it as ensure_running() itself does, then start anew below.
                os.close(server._forkserver_alive_fd)
                server._forkserver_address = None
                server._forkserver_alive_fd = None
                server._forkserver_pid = None
        start_without_secrets(lambda: original(server))

    server.ensure_running = ensure_running


def _wait_for_fork_server_exit(*, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _fork_server_running() and time.monotonic() < deadline:
        time.sleep(0.01)


def _run_forked(run: RunTry, env: dict[str, str], settings: Settings, workload_json: str) -> None:
    """Entry point inside the forked child: take the executor's environment (the fork server's is frozen
    at its start), run the try with ``run`` (preloaded by the fork server) and exit with its exit code."""
    gc.freeze()  # the collector leaves the fork server's objects alone: their pages stay shared, not copied
    os.environ.clear()
    os.environ.update(env)
    sys.exit(run(settings, ExecuteTask.model_validate_json(workload_json)))


class LocalExecutor(Executor):
    """Runs up to ``parallelism`` tries at once on this machine.

    With a ``launcher`` (what the CLI builds from the runner) tries start from a fork server that has the
    runner imported (a few milliseconds per task); without one, each execs ``tradewind tasks run`` (a fresh
    interpreter, slower, no shared state at all).
    """

    name = "local"

    def __init__(
        self,
        parallelism: int,
        *,
        settings: Settings,
        launcher: TryLauncher | None,
        env: dict[str, str] | None = None,
        early_fork_server: bool = True,
    ) -> None:
        super().__init__(parallelism)
        #: Start the fork server with the executor (the first try does not wait for it), or at the first try
        #: (`tradewind standalone`: an idle standalone does not hold its ~45 MiB).
        self.early_fork_server = early_fork_server
        self.settings = settings
        #: What tries are given: the settings without their secrets (they reach the execution API only).
        self.task_settings = settings_for_tasks(settings)
        self.launcher = launcher
        self.env = env
        self._task_env_cache: tuple[dict[str, str], dict[str, str]] | None = None
        self._running: dict[TaskTryKey, _Running] = {}
        self._lock = threading.Lock()
        self._ctx: ForkServerContext | None = None
        self._warm: WarmParents | None = None
        self._monitor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = -1, -1

    # -- life-cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        if self.launcher is not None:
            ctx = multiprocessing.get_context("forkserver")
            assert isinstance(ctx, ForkServerContext)
            ctx.set_forkserver_preload(list(self.launcher.preload))
            _guard_fork_server_starts(self._start_without_secrets)
            self._ctx = ctx
            if self.early_fork_server:
                # Started now, not at the first try: its interpreter start and preload (~1 s of CPU) then overlap
                # the scheduler's start instead of delaying the first task.
                multiprocessing.forkserver._forkserver.ensure_running()  # the guarded one (no public accessor)
            if self.launcher.import_dag_file is not None and self.settings.core.warm_dag_files > 0:
                self._warm = WarmParents(
                    ctx, self.launcher, self.task_settings, self.settings.core.warm_dag_files
                )
        self._monitor = threading.Thread(
            target=self._monitor_loop, name="local-executor-monitor", daemon=True
        )
        self._monitor.start()

    def stop(self, *, wait: bool = True) -> None:
        if wait:
            with self._lock:
                running = list(self._running.values())
            for r in running:
                if r.process is not None:
                    r.process.join()
                elif r.warm is not None:
                    r.warm.join()
                elif r.popen is not None:
                    r.popen.wait()
        self._stopping.set()
        if self._warm is not None:
            self._warm.close()
        self._poke()
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1

    # -- work ---------------------------------------------------------------------------------------
    def queue_workload(self, workload: ExecuteTask) -> str | None:
        entry = _Running(workload)
        warm = self._start_warm(workload)
        if warm is not None:
            entry.warm = warm
        elif self._ctx is not None:
            entry.process = self._fork(workload)
        else:
            env = runner_command_environment(self._base_env(), self.settings, workload)
            entry.popen = subprocess.Popen(
                workload.command(executable=tradewind_executable()),
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        with self._lock:
            self._running[workload.try_key] = entry
        if entry.pid is None:  # waiting for its warm parent to import the file: STARTED comes with its pid
            self._poke()
            return None
        self._emit(TaskEvent(workload.try_key, TryProcessEvent.STARTED, external_id=str(entry.pid)))
        self._poke()
        return str(entry.pid)

    def _fork(self, workload: ExecuteTask) -> BaseProcess:
        """Start the try from the fork server; one that died (even between the check and the call: a kill
        is not instant) is started again, without the secrets, and asked once more."""
        assert self._ctx is not None and self.launcher is not None
        for attempt in (1, 2):
            process = self._ctx.Process(
                target=_run_forked,
                args=(self.launcher.run, self._task_env(), self.task_settings, workload.model_dump_json()),
                name=f"tradewind-task {workload.try_key}",
            )
            try:
                process.start()
            except (EOFError, ConnectionError) as exc:
                if attempt == 2:
                    raise ExecutorError(f"the fork server cannot start {workload.try_key}: {exc!r}") from exc
                log.warning("the fork server died (%r); starting it again", exc)
                _wait_for_fork_server_exit(timeout=5.0)
                continue
            return process
        raise AssertionError("unreachable")

    def _start_cold(self, entry: _Running) -> None:
        """A try that waited for its warm parent, which could not import the file or died first: no runner of
        it ran, so it starts from the fork server now (and reports its import error itself, if any)."""
        key = entry.workload.try_key
        log.info("the warm parent of %s did not fork %s; starting it from the fork server", entry.workload.dag_rel_path, key)
        try:
            process = self._fork(entry.workload)
        except Exception as exc:  # on the monitor thread, which must go on reaping the other tries
            log.error("could not start %s from the fork server: %r", key, exc)
            with self._lock:
                self._running.pop(key, None)
            self._emit(TaskEvent(key, TryProcessEvent.FAILED, reason=str(exc), never_started=True))
            return
        with self._lock:
            entry.warm, entry.process = None, process
        self._emit(TaskEvent(key, TryProcessEvent.STARTED, external_id=str(entry.pid)))
        self._poke()

    def _start_warm(self, workload: ExecuteTask) -> WarmTry | None:
        """Fork the try from the warm parent of its DAG file (ADR 0017), if one is ready."""
        if self._warm is None:
            return None
        with self._lock:
            return self._warm.start_try(workload.dag_rel_path, workload.model_dump_json(), self._task_env())

    def _base_env(self) -> dict[str, str]:
        return dict(self.env if self.env is not None else os.environ)

    def _task_env(self) -> dict[str, str]:
        # Working out which variables carry secret settings walks the settings: do it again only when the
        # environment changed, not once per try.
        base = self._base_env()
        cached = self._task_env_cache
        if cached is None or cached[0] != base:
            cached = self._task_env_cache = (base, task_environment(base, self.settings))
        return dict(cached[1])

    def _start_without_secrets(self, start: Callable[[], None]) -> None:
        """Run ``start`` (multiprocessing's fork server start) with the secret settings removed from the
        environment: every try is forked from the fork server, and a process's first environment stays
        readable in /proc/PID/environ whatever it later does to ``os.environ``."""
        with _environ_lock:
            saved = dict(os.environ)
            clean = task_environment(saved, self.settings)
            try:
                for name in set(saved) - set(clean):
                    del os.environ[name]
                start()
            finally:
                os.environ.update(saved)

    def terminate(self, key: TaskTryKey) -> None:
        with self._lock:
            entry = self._running.get(key)
        if entry is None or entry.pid is None:
            return
        pid = entry.pid
        _signal(pid, signal.SIGTERM)
        timer = threading.Timer(KILL_GRACE_SECONDS, self._kill_if_alive, args=(key, pid))
        timer.daemon = True
        timer.start()

    def _kill_if_alive(self, key: TaskTryKey, pid: int) -> None:
        with self._lock:
            entry = self._running.get(key)
        if entry is not None and entry.pid == pid:
            _signal(pid, signal.SIGKILL)

    def sync(self) -> None:
        if self._warm is not None:
            with self._lock:
                self._warm.let_go_idle()
                self._warm.stop_slow_imports(self.settings.scheduler.dag_file_processor_timeout)

    def running_keys(self) -> set[TaskTryKey]:
        with self._lock:
            return set(self._running)

    # -- reaping ------------------------------------------------------------------------------------
    def _poke(self) -> None:
        if self._wake_w >= 0:
            with contextlib.suppress(OSError):  # the pipe closes during stop
                os.write(self._wake_w, b"x")

    def _monitor_loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                forked = {r.sentinel: k for k, r in self._running.items() if r.process or r.warm}
                has_popen = any(r.popen is not None for r in self._running.values())
            waitables: list[Any] = [self._wake_r, *forked]
            ready = multiprocessing.connection.wait(waitables, timeout=0.05 if has_popen else None)
            if self._wake_r in ready:
                try:
                    os.read(self._wake_r, 4096)
                except OSError:  # pragma: no cover
                    return
            self._reap()

    def _reap(self) -> None:
        finished: list[tuple[TaskTryKey, int, int | None]] = []
        started: list[tuple[TaskTryKey, int]] = []
        never_started: list[_Running] = []
        with self._lock:
            for key, entry in list(self._running.items()):
                code: int | None
                pid = entry.pid
                if entry.process is not None:
                    code = entry.process.exitcode
                    if code is not None:
                        entry.process.close()
                elif entry.warm is not None:
                    waiting = entry.warm.pid is None
                    code = entry.warm.poll()
                    if entry.warm.never_started:
                        never_started.append(entry)
                        continue
                    pid = entry.warm.pid
                    if waiting and pid is not None:
                        started.append((key, pid))
                else:
                    assert entry.popen is not None
                    code = entry.popen.poll()
                if code is not None:
                    finished.append((key, code, pid))
                    del self._running[key]
        for key, pid in started:
            self._emit(TaskEvent(key, TryProcessEvent.STARTED, external_id=str(pid)))
        for entry in never_started:
            self._start_cold(entry)
        for key, code, pid in finished:
            kind = TryProcessEvent.EXITED_CLEANLY if code == 0 else TryProcessEvent.FAILED
            reason = None if code == 0 else _describe_exit(code)
            self._emit(TaskEvent(key, kind, reason=reason, external_id=None if pid is None else str(pid)))


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"task process killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"task process killed by signal {-code}"
    return f"task process exited with code {code}"


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
