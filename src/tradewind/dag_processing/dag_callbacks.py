"""Run the DAG-level callbacks the scheduler asked for (``on_success_callback`` / ``on_failure_callback`` of a
DAG, when one of its runs ends).

The scheduler never imports user code, so it only writes a request (in the transaction that ends the run).
The DAG processor takes requests here and runs each in its own ``tradewind dags run-callback`` process: user
code outside the processor, output in a log file beside the run's task logs, killed after
``scheduler.dag_file_processor_timeout``. A request is claimed first (two processors never run the same one)
and deleted only after its process ended, so a processor that dies mid-callback leaves it to be run again
once the claim is stale: at least once, never lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.core.console_script import tradewind_executable
from tradewind.store import dag_callbacks
from tradewind.store.engine import transaction

log = logging.getLogger(__name__)

#: The runner's command for one request, started as a process (the DAG processor does not import the runner).
RUN_CALLBACK_COMMAND = ("dags", "run-callback")
#: Requests taken per pass.
BATCH = 20


@dataclass(frozen=True, slots=True)
class CallbackRun:
    """What running one request came to."""

    request_id: int
    dag_id: str
    run_id: str
    callback: str
    outcome: str  # "ok", "failed (exit N)", "timed out after N s"


class DagCallbackRunner:
    def __init__(self, settings: Settings, session_factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.session_factory = session_factory

    @property
    def timeout(self) -> float:
        return self.settings.scheduler.dag_file_processor_timeout

    def run_pending(self, now: datetime | None = None, *, stop: threading.Event | None = None) -> list[CallbackRun]:
        """Run every request nobody holds, oldest first."""
        now = now or utcnow()
        # A claim outlives its process by far before it counts as abandoned.
        stale_before = now - timedelta(seconds=2 * self.timeout + 30)
        with transaction(self.session_factory) as session:
            requests = [
                (r.id, r.dag_id, r.run_id, r.callback)
                for r in dag_callbacks.claimable_dag_callbacks(session=session, stale_before=stale_before,
                                                               limit=BATCH)
            ]
        done: list[CallbackRun] = []
        for request_id, dag_id, run_id, callback in requests:
            if stop is not None and stop.is_set():
                break
            with transaction(self.session_factory) as session:
                if not dag_callbacks.claim_dag_callback(
                    session=session, request_id=request_id, now=utcnow(), stale_before=stale_before
                ):
                    continue  # another DAG processor has it
            outcome = self._run(request_id)
            with transaction(self.session_factory) as session:
                dag_callbacks.delete_dag_callback_request(session=session, request_id=request_id)
            run = CallbackRun(request_id, dag_id, run_id, callback, outcome)
            (log.info if outcome == "ok" else log.error)(
                "%s of DAG %s for run %s: %s", callback, dag_id, run_id, outcome
            )
            done.append(run)
        return done

    def _run(self, request_id: int) -> str:
        cmd = [tradewind_executable(), *RUN_CALLBACK_COMMAND, str(request_id)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True, env=os.environ.copy())
        try:
            code = proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return f"timed out after {self.timeout:g} s and was killed"
        return "ok" if code == 0 else f"failed (exit {code}; see the callback's log)"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
