"""What a Celery worker does for one task try: run the runner command in its own process group, return its
exit code, and stop the whole group when the worker is told to terminate the task or dies."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from billiard.util import set_pdeathsig
from pydantic import ValidationError

from tradewind.core.workload import WORKLOAD_VERSION, ExecuteTask
from tradewind.sdk.errors import ExecutorError

log = logging.getLogger(__name__)

#: The one Celery task Tradewind registers; its only argument is the workload as a JSON object.
TASK_NAME = "tradewind.execute_workload"
#: Seconds between SIGTERM and SIGKILL for the runner's process group when the task is terminated.
KILL_GRACE_SECONDS = 10.0


def parse_workload(payload: Any) -> ExecuteTask:
    """Validate a message's workload, naming the field at fault."""
    if not isinstance(payload, dict):
        raise ExecutorError(f"{TASK_NAME}: the workload must be a JSON object, got {type(payload).__name__}")
    version = payload.get("version", WORKLOAD_VERSION)
    if isinstance(version, int) and version > WORKLOAD_VERSION:
        raise ExecutorError(
            f"{TASK_NAME}: workload version {version} is newer than this worker understands "
            f"({WORKLOAD_VERSION}); upgrade the worker"
        )
    try:
        return ExecuteTask.model_validate(payload)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise ExecutorError(f"{TASK_NAME}: invalid workload field {field!r}: {err['msg']}") from None


def _stop_with_parent() -> None:
    """In the runner child before exec: if the worker process dies (SIGKILL, OOM), the runner gets SIGTERM
    instead of living on unsupervised while the broker redelivers its message."""
    # Not Linux: nothing to set; the runner's heartbeat and the zombie check remain.
    with contextlib.suppress(OSError):
        set_pdeathsig(signal.SIGTERM)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def run_runner(command: Sequence[str], *, kill_grace: float = KILL_GRACE_SECONDS) -> int:
    """Run ``command`` as the leader of a new process group and wait for it.

    SIGTERM to this process (``revoke(terminate=True)``, a cold worker shutdown) is forwarded to the whole
    group, followed by SIGKILL after ``kill_grace`` seconds. Returns the exit code, negative for a signal.
    """
    proc: subprocess.Popen[bytes] | None = None
    term_requested = threading.Event()
    killer: list[threading.Timer] = []

    def stop_group() -> None:
        assert proc is not None
        _signal_group(proc.pid, signal.SIGTERM)
        timer = threading.Timer(kill_grace, _signal_group, args=(proc.pid, signal.SIGKILL))
        timer.daemon = True
        timer.start()
        killer.append(timer)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if term_requested.is_set():
            return
        term_requested.set()
        if proc is not None:
            stop_group()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        proc = subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_stop_with_parent
        )
        if term_requested.is_set():  # SIGTERM arrived while the child was being started
            stop_group()
        code = proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
        for timer in killer:
            timer.cancel()
    if term_requested.is_set():
        log.warning("runner terminated on request: %s (exit code %s)", " ".join(command), code)
    return code


def execute_workload(payload: Any, *, executable: str) -> int:
    """The body of the Celery task: validate the workload, run the runner, return its exit code."""
    workload = parse_workload(payload)
    command = workload.command(executable=executable)
    log.info("running %s: %s", workload.try_key, " ".join(command))
    code = run_runner(command)
    log.info("%s: runner exited with code %s", workload.try_key, code)
    return code
