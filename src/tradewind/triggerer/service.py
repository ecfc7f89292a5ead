"""`tradewind triggerer`: a job with a heartbeat that claims stored triggers (up to its capacity), has its
child process run them, and writes what they report: an event schedules the tasks waiting on the trigger
again, a failure schedules them to fail with the traceback. Only this process holds the database
credentials; the trigger code runs in the child (``trigger_runner``), which has none. The child is started
when the triggerer first has a trigger to run and stopped after ``CHILD_IDLE_STOP`` seconds without one: a
deployment without deferrable tasks never pays for its interpreter."""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings
from tradewind.core.clock import Clock, SystemClock
from tradewind.core.json_values import from_tagged_json, to_tagged_json
from tradewind.execution.db_runtime import DbRuntime
from tradewind.observability.metrics import NO_METRICS, Metrics
from tradewind.sdk.errors import TradewindError
from tradewind.secrets.chain import secrets_chain
from tradewind.store import jobs, triggers
from tradewind.store.database_outage import DatabaseOutage
from tradewind.store.engine import make_session_factory, transaction
from tradewind.store.wakeup import TRIGGERER, WakeUp, ring
from tradewind.triggerer import protocol
from tradewind.triggerer.child import TriggerChild

log = logging.getLogger(__name__)
JOB_TYPE = "triggerer"
#: An asset watcher whose trigger failed is started again after this many seconds, doubled at each failure
#: in a row up to ``RESTART_BACKOFF_MAX``.
RESTART_BACKOFF = 1.0
RESTART_BACKOFF_MAX = 60.0
#: Shortest time between two looks for new triggers when wake-ups come in a burst (every ended try rings).
MIN_SYNC_GAP = 0.1
#: The trigger child is stopped after running no trigger for this many seconds (started again by the next).
CHILD_IDLE_STOP = 300.0


class TriggererService:
    """Runs until ``stop`` is set. ``env`` is the environment the child is started from (minus secrets)."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine,
        clock: Clock | None = None,
        env: Mapping[str, str] | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.factory: sessionmaker[Session] = make_session_factory(engine)
        self.clock = clock or SystemClock()
        self.env = env
        self.job_id: int | None = None
        #: The child running the triggers: None until there is a trigger to run, and after an idle while.
        self.child: TriggerChild | None = None
        #: Monotonic time since which the child runs no trigger (None while it runs some).
        self._child_idle_since: float | None = None
        #: Triggers the child runs now (sent "run", not yet reported or cancelled).
        self.running: set[int] = set()
        #: Triggers held but not to be started before a monotonic time (a watcher that failed), with the
        #: number of failures in a row.
        self.backoff: dict[int, tuple[float, int]] = {}
        self._last_heartbeat = self._last_sync = 0.0
        #: Reports of the child taken from its queue but not yet written (the database was unusable).
        self._unapplied: list[dict[str, Any]] = []
        #: Rung when a try defers (a new trigger), by the child's reports, and when stopping (ADR 0012).
        self._wake = WakeUp(settings.database_url, TRIGGERER)
        self._sync_wanted = True
        #: Answers trigger code's reads (connections through the secrets backends, then the database).
        self.runtime = DbRuntime(
            self.factory,
            allowed_run_id_pattern=settings.scheduler.allowed_run_id_pattern,
            secrets=secrets_chain(settings, self.factory),
        )

    def run(self, stop: threading.Event) -> None:
        with transaction(self.factory) as session:
            self.job_id = jobs.register_job(
                session=session,
                job_type=JOB_TYPE,
                hostname=self.settings.core.hostname or socket.gethostname(),
                pid=os.getpid(),
                executor=None,
                now=self.clock.now(),
            )
        log.info("triggerer job %s started (capacity %d)", self.job_id, self.settings.triggerer.capacity)
        self._wake.set_when(stop)
        try:
            outage = DatabaseOutage(give_up_after=self.settings.database.outage_timeout, what="triggerer")
            while not stop.is_set():
                try:
                    self.iterate()
                except SQLAlchemyError as exc:  # an outage: go round again; others take over if it lasts
                    self._sync_wanted = True
                    stop.wait(outage.failed(exc))
                    continue
                outage.recovered()
                if self._wake.wait(self._until_next_round()):
                    self._sync_wanted = True  # a ring means a new trigger; a report costs a sync at most
        finally:
            self._shutdown()

    def _until_next_round(self) -> float:
        """Seconds until the next heartbeat or look for triggers is due, whichever comes first."""
        conf = self.settings.triggerer
        mono = time.monotonic()
        next_sync = self._last_sync + (MIN_SYNC_GAP if self._sync_wanted else conf.poll_interval)
        until = min(self._last_heartbeat + conf.heartbeat_interval, next_sync)
        if self._child_idle_since is not None:
            until = min(until, self._child_idle_since + CHILD_IDLE_STOP)
        return max(0.0, until - mono)

    def iterate(self) -> None:
        """One round: restart a dead child, heartbeat, claim and hand out triggers, apply reports. Never
        waits: ``run`` sleeps between rounds until a ring, a report of the child or the next due round."""
        conf = self.settings.triggerer
        if self.child is not None and not self.child.alive():
            code = self.child.process.returncode if self.child.process is not None else None
            log.error("the trigger child exited (code %s); starting it again", code)
            self._drain()
            self._forget_child()  # the next look for triggers starts a new one for the triggers held
        mono = time.monotonic()
        if mono - self._last_heartbeat >= conf.heartbeat_interval:
            self.heartbeat()
            self._last_heartbeat = mono
        since_sync = mono - self._last_sync
        if since_sync >= conf.poll_interval or (self._sync_wanted and since_sync >= MIN_SYNC_GAP):
            self._sync_wanted = False
            self.sync()
            self._last_sync = time.monotonic()
        self._apply_kept(None)
        self._apply_reports(timeout=0.0)
        self._stop_child_when_idle()

    def heartbeat(self) -> None:
        assert self.job_id is not None
        with transaction(self.factory) as session:
            jobs.job_heartbeat(session=session, job_id=self.job_id, now=self.clock.now())
        self.metrics.incr("triggerer_heartbeat")
        self.metrics.gauge("triggers.running", len(self.running))

    def sync(self) -> None:
        """Claim free triggers up to capacity; start the ones this triggerer now holds, cancel the ones it
        no longer holds (fired elsewhere, taken over after a stall, their tasks cleared)."""
        assert self.job_id is not None
        conf = self.settings.triggerer
        now = self.clock.now()
        with transaction(self.factory) as session:
            held = triggers.held_trigger_ids(session=session, triggerer_id=self.job_id)
            alive = [
                job.id
                for job in jobs.alive_jobs(
                    session=session, job_type=JOB_TYPE, threshold_seconds=conf.liveness_threshold, now=now
                )
            ]
            taken = triggers.claim_triggers(
                session=session,
                triggerer_id=self.job_id,
                alive_triggerer_ids=alive,
                limit=conf.capacity - len(held),
            )
            held.update(taken)
            # Only the triggers the child does not run yet are read whole (their arguments).
            new = (
                triggers.triggers_by_id(session=session, ids=held - self.running)
                if held - self.running
                else []
            )
        for trigger_id in sorted(self.running - held):
            assert self.child is not None  # a running trigger has its child
            self.child.send({"op": protocol.CANCEL, "id": trigger_id})
            self.running.discard(trigger_id)
        for trigger_id in set(self.backoff) - held:
            del self.backoff[trigger_id]
        mono = time.monotonic()
        for trigger in new:
            if trigger.id in self.backoff and self.backoff[trigger.id][0] > mono:
                continue  # a watcher that failed: started again once its backoff is over
            if self.child is None:
                self._start_child()
                assert self.child is not None
            sent = self.child.send(
                {
                    "op": protocol.RUN,
                    "id": trigger.id,
                    "classpath": trigger.classpath,
                    "kwargs": trigger.kwargs,
                }
            )
            if sent:
                self.running.add(trigger.id)
        if taken:
            log.info("claimed %d trigger(s); running %d", len(taken), len(self.running))

    def _apply_reports(self, *, timeout: float) -> None:
        if self.child is None:
            return
        try:
            message = self.child.messages.get(timeout=timeout) if timeout > 0 else self.child.messages.get_nowait()
        except queue.Empty:
            return
        while message is not None:
            self._apply_kept(message)
            try:
                message = self.child.messages.get_nowait()
            except queue.Empty:
                return

    def _apply_kept(self, message: dict[str, Any] | None) -> None:
        """Apply ``message`` after the reports a failed transaction left (a trigger's event must outlive a
        database outage: the child reports it only once)."""
        if message is not None:
            self._unapplied.append(message)
        while self._unapplied:
            self.apply(self._unapplied[0])
            self._unapplied.pop(0)

    def apply(self, message: dict[str, Any]) -> None:
        """Write one report of the child: an event or a failure moves the trigger's tasks on."""
        assert self.job_id is not None
        op = message.get("op")
        if op == protocol.CALL:
            self.answer(message)
            return
        if op == protocol.BLOCKED:
            verb = "is blocking" if message.get("ongoing") else "blocked"
            log.warning(
                "%s %s the triggerer's event loop for %d ms: triggers must await, never block (time.sleep, "
                "blocking I/O); every other trigger waited",
                message.get("name"), verb, int(message.get("ms") or 0),
            )  # fmt: skip
            return
        trigger_id = int(message["id"])
        self.running.discard(trigger_id)
        if op == protocol.FAILED:
            failures = self.backoff.get(trigger_id, (0.0, 0))[1] + 1
            delay = min(RESTART_BACKOFF * 2 ** (failures - 1), RESTART_BACKOFF_MAX)
            self.backoff[trigger_id] = (time.monotonic() + delay, failures)
        else:
            self.backoff.pop(trigger_id, None)
        now = self.clock.now()
        with transaction(self.factory) as session:
            if op == protocol.EVENT:
                moved = triggers.fire_trigger(
                    session=session, trigger_id=trigger_id, triggerer_id=self.job_id,
                    payload=message.get("payload"), now=now,
                )  # fmt: skip
            elif op == protocol.FAILED:
                lines = [str(line) for line in message.get("traceback") or []]
                log.error("trigger %d failed:\n%s", trigger_id, "".join(lines))
                moved = triggers.fail_trigger(
                    session=session, trigger_id=trigger_id, triggerer_id=self.job_id, traceback=lines, now=now
                )
            else:
                log.warning("unknown report %r from the trigger child", op)
                return
            if moved:
                ring(session)  # the scheduler sends the tasks on at once
        if moved is None:
            log.info("trigger %d is no longer this triggerer's; its report is dropped", trigger_id)
        else:
            log.info(
                "trigger %d %s: %d task(s) scheduled or asset event(s) recorded",
                trigger_id,
                "fired" if op == protocol.EVENT else "failed",
                moved,
            )

    def answer(self, message: dict[str, Any]) -> None:
        """A read of trigger code: one of ``protocol.CALLABLE``, answered on the child's stdin."""
        assert self.child is not None
        rid, method = message.get("rid"), str(message.get("method"))
        reply: dict[str, Any] = {"op": protocol.REPLY, "rid": rid}
        if method not in protocol.CALLABLE:
            reply["error"] = f"{method} is not available to triggers"
        else:
            try:
                value = getattr(self.runtime, method)(**from_tagged_json(message.get("kwargs") or {}))
                reply["value"] = to_tagged_json(value)
            except (TradewindError, TypeError, ValueError) as exc:
                reply["error"] = f"{type(exc).__name__}: {exc}"
        self.child.send(reply)

    def _start_child(self) -> None:
        self.child = TriggerChild(self.settings, env=self.env)
        self.child.on_message = self._wake.set
        self.child.start()
        self._child_idle_since = None

    def _forget_child(self) -> None:
        """After the child ended: the triggers it ran are started again (in a new child) by the next look."""
        self.child = None
        self.running = set()
        self._child_idle_since = None
        self._last_sync = 0.0  # look for the triggers held at once

    def _stop_child_when_idle(self) -> None:
        """Stop a child that has run no trigger for ``CHILD_IDLE_STOP`` seconds (a watcher waiting out its
        backoff counts as running: its child is kept)."""
        if self.child is None:
            return
        if self.running or self.backoff or self._unapplied:
            self._child_idle_since = None
            return
        mono = time.monotonic()
        if self._child_idle_since is None:
            self._child_idle_since = mono
        elif mono - self._child_idle_since >= CHILD_IDLE_STOP:
            log.info("no trigger to run for %g s: stopping the trigger child", CHILD_IDLE_STOP)
            self.child.stop()
            self._drain()
            self._forget_child()

    def _drain(self) -> None:
        """Reports the dead child wrote before it died still count."""
        assert self.child is not None
        while True:
            try:
                message = self.child.messages.get(timeout=0.5)
            except queue.Empty:
                return
            if message is None:
                return
            self._apply_kept(message)

    def _shutdown(self) -> None:
        log.info("triggerer stopping")
        if self.child is not None:
            self.child.stop()
            try:
                self._drain()
            except SQLAlchemyError as exc:
                log.error("could not record the last reports: %s", exc)
        if self.job_id is not None:
            try:
                with transaction(self.factory) as session:
                    released = triggers.release_triggers(session=session, triggerer_id=self.job_id)
                    jobs.end_job(session=session, job_id=self.job_id, now=self.clock.now())
                if released:
                    log.info("released %d trigger(s) for other triggerers", released)
            except SQLAlchemyError as exc:
                log.error("could not end the triggerer job: %s", exc)
        self._wake.close()
