"""The runner as a child of a Celery pool process: started in its own process group (exec'd, or forked from
the pre-imported worker), stopped as a group on SIGTERM, and never left running when the worker dies."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import logging
import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from types import FrameType
from typing import NoReturn

from tradewind.config.settings import Settings
from tradewind.config.task_settings import settings_for_tasks, task_environment
from tradewind.core.workload import ExecuteTask
from tradewind.executors.forked_exit import leave_forked_child
from tradewind.executors.try_launcher import RunTry

log = logging.getLogger(__name__)

#: Seconds between SIGTERM and SIGKILL for the runner's process group when the task is terminated.
KILL_GRACE_SECONDS = 10.0

#: Starts the child; returns its pid and a function that waits for it and returns its exit code.
_Starter = Callable[[], tuple[int, Callable[[], int]]]


_PR_SET_PDEATHSIG = 1


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, looked up once per process (before forking: the child finds it ready); None when not
    on Linux. billiard's ``set_pdeathsig`` would build a cffi FFI and parse a C declaration at every call,
    about 2 ms of every try."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except OSError:
        return None
    return prctl


def _stop_with_parent() -> None:
    """In the runner child: if the worker process dies (SIGKILL, OOM), the runner gets SIGTERM instead of
    living on unsupervised while the broker redelivers its message."""
    # Not Linux: nothing to set; the runner's heartbeat and the zombie check remain.
    prctl = _prctl()
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _supervise(start: _Starter, *, kill_grace: float) -> tuple[int, bool]:
    """Start the child and wait for it. SIGTERM to this process (``revoke(terminate=True)``, a cold worker
    shutdown) goes to the child's whole process group, then SIGKILL after ``kill_grace`` seconds.
    Returns the exit code (negative for a signal) and whether a SIGTERM was forwarded."""
    pid: int | None = None
    term_requested = threading.Event()
    killers: list[threading.Timer] = []

    def stop_group() -> None:
        assert pid is not None
        _signal_group(pid, signal.SIGTERM)
        timer = threading.Timer(kill_grace, _signal_group, args=(pid, signal.SIGKILL))
        timer.daemon = True
        timer.start()
        killers.append(timer)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != parent or term_requested.is_set():
            return  # in a freshly forked child before it resets the handler; or a repeat
        term_requested.set()
        if pid is not None:
            stop_group()

    parent = os.getpid()
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        pid, wait = start()
        if term_requested.is_set():  # SIGTERM arrived while the child was being started
            stop_group()
        code = wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
        for timer in killers:
            timer.cancel()
    return code, term_requested.is_set()


def run_runner(
    command: Sequence[str], *, env: dict[str, str] | None = None, kill_grace: float = KILL_GRACE_SECONDS
) -> int:
    """Exec ``command`` (the runner command line) as the leader of a new process group, with ``env``, and
    wait for it."""

    _prctl()  # looked up here, not in the child

    def start() -> tuple[int, Callable[[], int]]:
        proc = subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_stop_with_parent,
            env=env,
        )  # fmt: skip
        return proc.pid, proc.wait

    code, terminated = _supervise(start, kill_grace=kill_grace)
    if terminated:
        log.warning("runner terminated on request: %s (exit code %s)", " ".join(command), code)
    return code


class _ForTasks:
    """What a try forked from this process is given, worked out once per process rather than in every try
    (walking the settings for their secrets costs about 2 ms): the settings and the environment without the
    secret settings. The try reaches shared state through the execution API only."""

    def __init__(self) -> None:
        self._for: tuple[Settings, dict[str, str]] | None = None
        self._given: tuple[Settings, dict[str, str]] | None = None

    def get(self, settings: Settings) -> tuple[Settings, dict[str, str]]:
        environ = dict(os.environ)
        known = self._for
        if self._given is None or known is None or known[0] is not settings or known[1] != environ:
            self._for = (settings, environ)
            self._given = (settings_for_tasks(settings), task_environment(environ, settings))
        return self._given


_for_tasks = _ForTasks()


def tasks_view(settings: Settings) -> tuple[Settings, dict[str, str]]:
    """The settings and environment of this process as a try forked from it is given them: no secret
    settings (worked out once per process and environment)."""
    return _for_tasks.get(settings)


def _forked_child(
    settings: Settings, environ: dict[str, str], workload: ExecuteTask, run: RunTry
) -> NoReturn:
    """In the forked child: become a fresh-looking process (own session, default signals, plain stdio and
    logging instead of Celery's, ``environ``) and run the try with ``settings``."""
    code = 1
    try:
        gc.freeze()  # the collector leaves the worker's objects alone: their pages stay shared (ADR 0017)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.setsid()
        _stop_with_parent()
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        logging.root.handlers.clear()
        os.environ.clear()
        os.environ.update(environ)
        code = int(run(settings, workload))
    except BaseException:
        traceback.print_exc()
    finally:
        leave_forked_child(code)


def fork_runner(
    settings: Settings, workload: ExecuteTask, run: RunTry, *, kill_grace: float = KILL_GRACE_SECONDS
) -> int:
    """Fork this (pre-imported) process and run the try in the child with ``run``, as the local executor's
    fork server does: the same runner code as `tradewind tasks run`, without starting a new interpreter."""

    task_settings, environ = tasks_view(settings)
    _prctl()  # looked up here, not in the child

    def start() -> tuple[int, Callable[[], int]]:
        child = os.fork()
        if child == 0:
            _forked_child(task_settings, environ, workload, run)
        return child, lambda: os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])

    code, terminated = _supervise(start, kill_grace=kill_grace)
    if terminated:
        log.warning("forked runner of %s terminated on request (exit code %s)", workload.try_key, code)
    return code
