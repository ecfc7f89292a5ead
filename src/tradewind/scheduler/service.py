"""The scheduler process: job registration and heartbeat, the loop around ``tick(now)`` and a graceful stop.
The command that runs it starts the DAG processor beside it."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings
from tradewind.core.clock import Clock, SystemClock
from tradewind.execution.tokens import WorkloadTokens
from tradewind.executors.base import Executor
from tradewind.observability.metrics import NO_METRICS, Metrics
from tradewind.observability.tracing import Tracing, open_tracing
from tradewind.plugins.registry import ensure_plugins_loaded
from tradewind.scheduler.heartbeat_watch import HeartbeatWatch
from tradewind.scheduler.tick import Scheduler
from tradewind.store import jobs
from tradewind.store.database_outage import DatabaseOutage
from tradewind.store.engine import make_session_factory, transaction
from tradewind.store.next_work import NextWork, next_work
from tradewind.store.wakeup import WakeUp

log = logging.getLogger(__name__)

#: Shortest sleep between two ticks that found nothing to do (a due moment that already passed must not make
#: the loop spin).
MIN_SLEEP = 0.05
#: How soon a moment that is due but whose work was not done (its DAG row held by another scheduler, its DAG
#: not parsed yet) is looked at again, at most: ``loop_interval`` when shorter.
PAST_DUE_RETRY = 1.0
#: Sleeps end this much after a due moment, so the tick that follows sees it due.
DUE_MARGIN = 0.01


class SchedulerService:
    """Runs the scheduler until ``stop`` is set.

    The loop ticks at once when the executor reports an event or a write rings the wake-up signal (ADR
    0012); otherwise every ``scheduler.loop_interval`` seconds while work is in flight, and with nothing in
    flight at the next stored due moment, at most ``scheduler.idle_poll_interval`` seconds later.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine,
        executor: Executor,
        clock: Clock | None = None,
        tokens: WorkloadTokens | None = None,
        metrics: Metrics = NO_METRICS,
        tracing: Tracing | None = None,
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self.metrics = metrics
        #: None: ``run`` opens the tracing ``[traces]`` asks for, and closes it when it stops.
        self.tracing = tracing
        self.engine = engine
        # Stored DAGs with a plugin's custom timetable are rebuilt with the class it registers.
        ensure_plugins_loaded(settings)
        self.session_factory: sessionmaker[Session] = make_session_factory(engine)
        self.executor = executor
        self.clock = clock or SystemClock()
        self._wake = WakeUp(settings.database_url)
        self.job_id: int | None = None
        # Loop state: monotonic times of the next tick due, of the last heartbeat and of the last housekeeping,
        # and whether work was in flight when last looked at.
        self._tick_at = self._last_heartbeat = self._last_housekeeping = 0.0
        self._in_flight = True
        self._own_tracing: Tracing | None = None

    def run(self, stop: threading.Event) -> None:
        tracing = self._open_tracing()  # first: without the otel extra it refuses to start (a ConfigError)
        now = self.clock.now()
        with transaction(self.session_factory) as session:
            self.job_id = jobs.register_job(
                session=session,
                job_type="scheduler",
                hostname=self.settings.core.hostname or socket.gethostname(),
                pid=os.getpid(),
                executor=self.executor.name,
                now=now,
            )
        log.info("scheduler job %s started with the %s executor", self.job_id, self.executor.name)
        scheduler = Scheduler(
            settings=self.settings,
            session_factory=self.session_factory,
            executor=self.executor,
            job_id=self.job_id,
            tokens=self.tokens,
            metrics=self.metrics,
            tracing=tracing,
            monotonic=self.clock.monotonic,
        )
        self.executor.metrics = self.metrics
        self.executor.wake = self._wake.set
        self.executor.scheduler_job_id = self.job_id
        self.executor.start()
        try:
            adopted, reset = scheduler.adopt(now)
            if adopted or reset:
                log.info("adopted %d tries of earlier schedulers, rescheduled %d", adopted, reset)
            self._loop(scheduler, stop)
        finally:
            self._shutdown()

    def _open_tracing(self) -> Tracing:
        if self.tracing is None:
            self.tracing = self._own_tracing = open_tracing(self.settings, "scheduler")
        return self.tracing

    def _loop(self, scheduler: Scheduler, stop: threading.Event) -> None:
        sched = self.settings.scheduler
        outage = DatabaseOutage(give_up_after=self.settings.database.outage_timeout)
        self._wake.set_when(stop)  # the loop sleeps on the wake-up signal, which ``stop`` alone would not end
        woken = True
        events_only = False
        while not stop.is_set():
            try:
                self._iterate(scheduler, woken=woken, events_only=events_only)
            except SQLAlchemyError as exc:
                # A deadlock, a lost connection, SQLite's lock wait: roll back and go round again. Only an
                # outage longer than database.outage_timeout stops the scheduler.
                stop.wait(outage.failed(exc))
                woken, events_only = True, False  # the rolled-back tick's work is still to do: a full tick
                continue
            if outage.recovered():
                # No runner could write a heartbeat while the database was down: their silence counts from now.
                threshold = scheduler.heartbeats.threshold
                scheduler.heartbeats = HeartbeatWatch(threshold, monotonic=self.clock.monotonic)
            if (left := scheduler.events_wait_left()) is not None:
                # Executor events left for later (ADR 0027) are applied a loop interval after they came, at the
                # latest, even when the scheduler has nothing else to do.
                self._tick_at = min(self._tick_at, time.monotonic() + left)
            next_heartbeat = self._last_heartbeat + sched.heartbeat_interval
            woken = self._wake.wait(max(0.0, min(self._tick_at, next_heartbeat) - time.monotonic()))
            # Woken by this process alone (the executor's events) before the next tick is due (ADR 0027): for
            # tries that only started, or exited cleanly with no try waiting for their slot, no tick of their
            # own (a later tick applies their events, a loop interval after they came at the latest); else an
            # events-only tick.
            events_only = woken and not self._wake.rung and time.monotonic() < self._tick_at
            if events_only and scheduler.events_can_wait():
                woken = False

    def _iterate(self, scheduler: Scheduler, *, woken: bool, events_only: bool = False) -> None:
        sched = self.settings.scheduler
        mono = time.monotonic()
        if woken or mono >= self._tick_at:
            tick_at = self._tick_at
            events_only = events_only and mono < tick_at
            stats = scheduler.tick(self.clock.now(), events_only=events_only)
            self.metrics.timing("scheduler.scheduler_loop_duration", time.monotonic() - mono)
            if events_only and not stats.go_round:
                # The full tick stays due when it was: runs, planning and due moments were not looked at.
                self._in_flight = self._in_flight or bool(stats.queued)
                self._tick_at = tick_at
            elif stats.go_round:
                # More may be ready at once (a run started or finished, tries left for lack of slots).
                self._in_flight = True
                self._tick_at = mono
            elif stats.queued:
                # Tries just queued: work is in flight (no need to ask), and their ends ring or report.
                self._in_flight = True
                self._tick_at = mono + sched.loop_interval
            else:
                self._tick_at = mono + self._sleep_after_idle_tick()
        if time.monotonic() - self._last_heartbeat >= sched.heartbeat_interval:
            self._heartbeat(scheduler)
            self._last_heartbeat = time.monotonic()

    def _sleep_after_idle_tick(self) -> float:
        """Seconds until the next tick when the last one found nothing to do (ADR 0012)."""
        sched = self.settings.scheduler
        with self.session_factory() as session:
            work: NextWork = next_work(session=session)
        self._in_flight = work.in_flight
        if work.in_flight:
            return sched.loop_interval
        sleep = max(sched.idle_poll_interval, sched.loop_interval)
        if work.due_at is not None:
            until_due = (work.due_at - self.clock.now()).total_seconds()
            # Past due and still not done (the DAG row held by another scheduler, the DAG not parsed yet): look
            # again soon, but not at once.
            sleep = min(
                sleep, until_due + DUE_MARGIN if until_due > 0 else min(sched.loop_interval, PAST_DUE_RETRY)
            )
        log.debug("nothing to do: next tick in %.2f s unless woken (in flight: %s)", sleep, work.in_flight)
        return max(sleep, MIN_SLEEP)

    def _heartbeat(self, scheduler: Scheduler) -> None:
        """The job heartbeat (one small write), and housekeeping: every heartbeat while work is in flight,
        every ``idle_poll_interval`` otherwise (zombies, stuck and orphaned tries need tries in flight)."""
        now = self.clock.now()
        assert self.job_id is not None
        with transaction(self.session_factory) as session:
            jobs.job_heartbeat(session=session, job_id=self.job_id, now=now)
        self.metrics.incr("scheduler_heartbeat")
        mono = time.monotonic()
        if self._in_flight or mono - self._last_housekeeping >= self.settings.scheduler.idle_poll_interval:
            scheduler.housekeeping(now)
            self._last_housekeeping = mono

    def _shutdown(self) -> None:
        log.info("scheduler stopping")
        self.executor.stop(wait=True)
        if self.job_id is not None:
            with transaction(self.session_factory) as session:
                jobs.end_job(session=session, job_id=self.job_id, now=self.clock.now())
        self._wake.close()
        if self._own_tracing is not None:
            self._own_tracing.close(timeout=5.0)


