"""Run the DAG-level callbacks the scheduler asked for (``on_success_callback`` / ``on_failure_callback`` of a
DAG, when one of its runs ends).

The scheduler never imports user code, so it only writes a request (in the transaction that ends the run).
The DAG processor takes requests here and runs each in its own ``tradewind dags run-callback`` process: user
code outside the processor, output in a log file beside the run's task logs, killed after
``scheduler.dag_file_processor_timeout``. Up to ``scheduler.parsing_processes`` callbacks run at once, on a
thread of their own, so a slow callback neither holds up the others nor the parsing of the DAG folder.

A request is claimed first (two processors never run the same one) and deleted only after its process
ended, so a processor that dies mid-callback leaves it to be run again once the claim is stale: at least
once, never lost. A processor that is stopped gives the claims of the callbacks it interrupted back at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.core.console_script import tradewind_executable
from tradewind.store import dag_callback_requests as dag_callbacks
from tradewind.store.database_outage import DatabaseOutage
from tradewind.store.engine import transaction
from tradewind.store.wakeup import DAG_CALLBACKS, WakeUp

log = logging.getLogger(__name__)

#: The runner's command for one request, started as a process (the DAG processor does not import the runner).
RUN_CALLBACK_COMMAND = ("dags", "run-callback")
#: How often the callback thread looks for ended processes while some run, and the shortest time between two
#: looks for new requests.
IDLE_POLL_SECONDS, BUSY_POLL_SECONDS = 1.0, 0.05
#: How long a stopping processor lets interrupted callbacks end after SIGTERM before killing them.
STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class CallbackRun:
    """What running one request came to."""

    request_id: int
    dag_id: str
    run_id: str
    callback: str
    outcome: str  # "ok", "failed (exit N ...)", "timed out after N s ..."


@dataclass(frozen=True, slots=True)
class _Running:
    request_id: int
    dag_id: str
    run_id: str
    callback: str
    claimed_at: datetime
    proc: subprocess.Popen[bytes]
    deadline: float  # monotonic


class DagCallbackRunner:
    """Starts claimed requests as processes, up to ``max_running`` at once, and settles them as they end.

    ``poll`` never blocks: it reaps ended (or overdue) processes and starts new ones. ``run_forever`` calls it
    on a thread of its own; ``run_pending`` runs everything there is to its end (``dag-processor --once``).
    """

    def __init__(
        self, settings: Settings, session_factory: sessionmaker[Session], *, max_running: int | None = None
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.max_running = max_running or settings.scheduler.parsing_processes
        self._running: dict[int, _Running] = {}
        self._next_look = 0.0  # monotonic time before which _start_more does not ask the database again

    @property
    def timeout(self) -> float:
        return self.settings.scheduler.dag_file_processor_timeout

    def poll(self) -> list[CallbackRun]:
        """Settle the processes that ended or overran their timeout, then start requests in the free slots."""
        done = self._reap()
        self._start_more(look_now=bool(done))
        return done

    def run_pending(self, *, stop: threading.Event | None = None) -> list[CallbackRun]:
        """Run every request nobody holds to its end, oldest first (and any that arrive meanwhile)."""
        stop = stop or threading.Event()
        done = self.poll()
        while self._running:
            if stop.wait(BUSY_POLL_SECONDS):
                self.stop()
                break
            done += self.poll()
        return done

    def run_forever(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, then stop the callbacks still running. With none running it sleeps
        until the scheduler rings (a new request, ADR 0012), at most ``scheduler.idle_poll_interval``."""
        wake = WakeUp(self.settings.database_url, DAG_CALLBACKS)
        wake.set_when(stop)
        outage = DatabaseOutage(give_up_after=self.settings.database.outage_timeout, what="DAG callback")
        try:
            woken = False
            while not stop.is_set():
                try:
                    if woken:
                        self._next_look = 0.0
                    self.poll()
                    outage.recovered()
                except SQLAlchemyError as exc:
                    # An outage: requests wait in the database meanwhile (past database.outage_timeout the
                    # thread ends, and with it the DAG processor).
                    stop.wait(outage.failed(exc))
                    woken = True
                    continue
                except Exception:
                    log.exception("running DAG callbacks failed; trying again shortly")
                    stop.wait(IDLE_POLL_SECONDS)
                    woken = True
                    continue
                idle = max(self.settings.scheduler.idle_poll_interval, IDLE_POLL_SECONDS)
                woken = wake.wait(BUSY_POLL_SECONDS if self._running else idle)
        finally:
            self.stop()
            wake.close()

    def start_thread(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, args=(stop,), name="dag-callbacks", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Interrupt the running callbacks (SIGTERM, then SIGKILL after a grace) and give their claims back."""
        running, self._running = list(self._running.values()), {}
        for entry in running:
            _signal_group(entry.proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for entry in running:
            try:
                entry.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(entry.proc, signal.SIGKILL)
                entry.proc.wait()
        for entry in running:
            log.warning("%s of DAG %s for run %s interrupted; it will run again", entry.callback, entry.dag_id,
                        entry.run_id)
            with contextlib.suppress(Exception), transaction(self.session_factory) as session:
                dag_callbacks.release_dag_callback(
                    session=session, request_id=entry.request_id, claimed_at=entry.claimed_at
                )

    def _start_more(self, *, look_now: bool) -> None:
        """Claim and start requests for the free slots; the database is asked at most every
        ``IDLE_POLL_SECONDS`` unless a slot has just come free."""
        free = self.max_running - len(self._running)
        if free <= 0 or (not look_now and time.monotonic() < self._next_look):
            return
        self._next_look = time.monotonic() + IDLE_POLL_SECONDS
        # A claim outlives its process by far before it counts as abandoned.
        stale_before = utcnow() - timedelta(seconds=2 * self.timeout + 30)
        with transaction(self.session_factory) as session:
            requests = [
                (r.id, r.dag_id, r.run_id, r.callback)
                for r in dag_callbacks.claimable_dag_callbacks(session=session, stale_before=stale_before,
                                                               limit=free)
            ]
        for request_id, dag_id, run_id, callback in requests:
            claimed_at = utcnow()
            with transaction(self.session_factory) as session:
                if not dag_callbacks.claim_dag_callback(
                    session=session, request_id=request_id, now=claimed_at, stale_before=stale_before
                ):
                    continue  # another DAG processor has it
            cmd = [tradewind_executable(), *RUN_CALLBACK_COMMAND, str(request_id)]
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True, env=os.environ.copy())
            self._running[request_id] = _Running(
                request_id, dag_id, run_id, callback, claimed_at, proc, time.monotonic() + self.timeout
            )

    def _reap(self) -> list[CallbackRun]:
        done: list[CallbackRun] = []
        for request_id, entry in list(self._running.items()):
            code = entry.proc.poll()
            if code is None and time.monotonic() < entry.deadline:
                continue
            if code is None:
                _signal_group(entry.proc, signal.SIGKILL)
                entry.proc.wait()
                outcome = f"timed out after {self.timeout:g} s and was killed"
            else:
                outcome = "ok" if code == 0 else f"failed (exit {code}; see the callback's log)"
            with transaction(self.session_factory) as session:
                dag_callbacks.delete_dag_callback_request(session=session, request_id=request_id)
            del self._running[request_id]
            (log.info if outcome == "ok" else log.error)(
                "%s of DAG %s for run %s: %s", entry.callback, entry.dag_id, entry.run_id, outcome
            )
            done.append(CallbackRun(request_id, entry.dag_id, entry.run_id, entry.callback, outcome))
        return done


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
