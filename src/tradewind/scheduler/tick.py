"""One scheduler iteration, ``tick(now)``: events, new runs, planning, dispatch. Time is an argument."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings
from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.core.states import DagRunState
from tradewind.core.workload import ExecuteTask
from tradewind.execution.tokens import WorkloadTokens
from tradewind.executors.base import Executor
from tradewind.observability.metrics import NO_METRICS, Metrics
from tradewind.observability.tracing import NO_TRACING, Tracing
from tradewind.scheduler.asset_runs import create_asset_triggered_runs
from tradewind.scheduler.dispatch import Limits, select_and_queue
from tradewind.scheduler.event_handling import handle_events
from tradewind.scheduler.heartbeat_watch import HeartbeatWatch
from tradewind.scheduler.run_scheduling import create_scheduled_runs, start_queued_runs
from tradewind.scheduler.run_traces import trace_finished_runs
from tradewind.scheduler.slot_gauges import record_slot_gauges
from tradewind.scheduler.task_planning import PlanStats, plan_runs
from tradewind.scheduler.try_failure import reset_to_scheduled
from tradewind.scheduler.try_observations import TickObservations
from tradewind.scheduler.zombies import (
    adopt_orphans,
    ended_but_carried,
    fail_zombies,
    reset_stuck_queued,
    settle_zombies,
)
from tradewind.sdk.errors import TradewindError
from tradewind.store import scheduling, triggers
from tradewind.store.engine import transaction
from tradewind.store.scheduling import ALL_RUNS, RunScope
from tradewind.store.serialized_dag_cache import SerializedDagCache
from tradewind.store.tables import DagRunModel

log = logging.getLogger(__name__)


@dataclass
class TickStats:
    events: int = 0
    runs_created: int = 0
    runs_started: int = 0
    #: Queued runs were left unread (a full page was read): a run may be startable now.
    more_queued_runs: bool = False
    scheduled: int = 0
    queued: int = 0
    finished_runs: list[tuple[str, str, DagRunState]] = field(default_factory=list)

    @property
    def go_round(self) -> bool:
        """Whether another tick may find work at once, with no ring or executor event to announce it (ADR
        0027): events changed a try, runs were created or finished (a finished run may let a queued one
        start), queued runs were left unread, or scheduled instances were left for lack of slots. A run this
        tick started was planned and dispatched by it already. A tick that only queued what it scheduled
        leaves nothing behind: what frees a slot or readies a task (a try's end) rings or reports."""
        return bool(
            self.events
            or self.runs_created
            or self.more_queued_runs
            or self.finished_runs
            or self.scheduled > self.queued
        )

    @property
    def did_work(self) -> bool:
        return bool(
            self.events
            or self.runs_created
            or self.runs_started
            or self.scheduled
            or self.queued
            or self.finished_runs
        )


#: Executor events that change no state by themselves (ADR 0027).
_QUIET = (TryProcessEvent.STARTED, TryProcessEvent.EXITED_CLEANLY)


class Scheduler:
    """Decides what runs next. Stateless between ticks but for a cache of serialized DAGs."""

    def __init__(
        self,
        *,
        settings: Settings,
        session_factory: sessionmaker[Session],
        executor: Executor,
        job_id: int | None = None,
        tokens: WorkloadTokens | None = None,
        metrics: Metrics = NO_METRICS,
        tracing: Tracing = NO_TRACING,
        scope: RunScope = ALL_RUNS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        #: The runs this scheduler works on: all but `dags test` runs, or (`dags test`) its one run, and
        #: then it creates no runs either.
        self.scope = scope
        self.metrics = metrics
        self.tracing = tracing
        self.session_factory = session_factory
        self.executor = executor
        self.job_id = job_id
        #: Gives each try its token and the execution API's URL; None runs tries in process on the database
        #: (`dags test`, whose inline executor has the credentials anyway).
        self.tokens = tokens
        self.cache = SerializedDagCache()
        #: How long each running try's heartbeat has gone unchanged, on ``monotonic`` (ADR 0015).
        self.heartbeats = HeartbeatWatch(settings.scheduler.zombie_threshold, monotonic=monotonic)
        #: Events taken from the executor and not applied yet: by a tick whose transaction failed, or left for
        #: a later tick (quiet ones, ``_events_may_wait``).
        self._unapplied: list[TaskEvent] = []
        #: The last dispatch ran out of executor slots: tries may be waiting for the next one to free.
        self._slots_short = False
        self._monotonic = monotonic
        #: When the oldest event in ``_unapplied`` was taken from the executor (None: there is none).
        self._events_since: float | None = None
        self._ended_but_carried: set[TaskTryKey] = set()

    def tick(self, now: datetime, *, events_only: bool = False) -> TickStats:
        """Events, new runs, planning and dispatch in ONE transaction: on SQLite every transaction waits
        for the single write lock, which task processes take too; fewer, shorter waits matter more than
        smaller transactions. Workloads reach the executor only after the commit.

        ``events_only``: the executor's events woke the loop and nothing else did (ADR 0027); unless they
        change a try, only dispatch follows (their tries' ends freed slots), not runs nor planning."""
        stats = TickStats()
        plan = PlanStats()
        observations = TickObservations() if self.metrics.enabled else None
        events = self._take_events()  # kept until the transaction that applies them commits
        # A full tick leaves the quiet events to a later one (ADR 0027): they change no state, and applying
        # them here would come before this tick's commit, on the path of the tries it readies.
        deferred = not events_only and self._events_may_wait()
        with transaction(self.session_factory) as session:
            if events and not deferred:
                stats.events = handle_events(
                    session=session,
                    cache=self.cache,
                    events=events,
                    now=now,
                    heartbeat_grace=self.settings.scheduler.heartbeat_interval * 3,
                    job_id=self.job_id,
                    observations=observations,
                )
            started_runs: list[DagRunModel] = []
            if not events_only or stats.events:
                if not self.scope.single_run:
                    stats.runs_created = create_scheduled_runs(session=session, cache=self.cache, now=now)
                    stats.runs_created += create_asset_triggered_runs(
                        session=session, cache=self.cache, now=now
                    )
                starts = start_queued_runs(session=session, cache=self.cache, now=now, scope=self.scope)
                started_runs = starts.started
                stats.runs_started, stats.more_queued_runs = len(started_runs), starts.more_queued
                # Deferred tries whose timeout passed go on, to fail (or skip, a soft_fail sensor) in the runner.
                stats.scheduled += triggers.time_out_deferred(session=session, now=now)
                plan = plan_runs(
                    session=session,
                    cache=self.cache,
                    now=now,
                    terminate=self.executor.terminate,
                    scope=self.scope,
                )
                stats.scheduled += plan.scheduled
                stats.finished_runs = plan.finished_runs
            limits = Limits(self.executor.open_slots(), self.executor.name, self.job_id)
            dispatched = select_and_queue(
                session=session, cache=self.cache, limits=limits, now=now, scope=self.scope
            )
        if not deferred:
            self._unapplied, self._events_since = [], None
        self._slots_short = dispatched.slots_short
        workloads = dispatched.workloads
        if observations is not None:
            for run in started_runs:
                observations.run_started(run, now)
            observations.runs_finished.extend(plan.run_durations)
            observations.record(self.metrics)
        stats.queued = self._hand_over(workloads)
        if stats.finished_runs and self.tracing.enabled:
            self._trace(stats.finished_runs)
        return stats

    def events_can_wait(self) -> bool:
        """Take the executor's pending events (the next tick applies them) and say whether there are some and
        none needs a tick of its own (ADR 0027): ``STARTED`` (a try's compute began, which records its
        external id and changes no state; the hand-over of every try reports one), and ``EXITED_CLEANLY``
        unless the last dispatch ran out of executor slots. A clean exit frees a slot, which matters only to
        tries waiting for one; the try's own outcome came with its runner's report, whose ring ticks. A
        failed compute always ticks: it may end a try whose runner could not say so."""
        events = self._take_events()
        quiet = (TryProcessEvent.STARTED,) if self._slots_short else _QUIET
        return bool(events) and all(e.kind in quiet for e in events)

    def events_wait_left(self) -> float | None:
        """Seconds until the events left for later must be applied (a tick then applies them; 0 when overdue),
        None when no event waits."""
        if not self._unapplied or self._events_since is None:
            return None
        waited = self._monotonic() - self._events_since
        return max(0.0, self.settings.scheduler.loop_interval - waited)

    def _take_events(self) -> list[TaskEvent]:
        """The events not applied yet, the executor's new ones added."""
        new = self.executor.get_events()
        if new and not self._unapplied:
            self._events_since = self._monotonic()
        self._unapplied.extend(new)
        return self._unapplied

    def _events_may_wait(self) -> bool:
        """Whether a full tick may leave the events not applied yet to a later tick: all are quiet (a start, a
        clean exit: the runner reported the try's end itself, and the executor's slot count does not wait for
        them), and the oldest has waited less than ``loop_interval``."""
        left = self.events_wait_left()
        return left is not None and left > 0 and all(e.kind in _QUIET for e in self._unapplied)

    def _trace(self, finished_runs: list[tuple[str, str, DagRunState]]) -> None:
        """Export the traces of the runs this tick finished, after the commit and the hand-over: reading
        them may fail like any query, and that must not cost the tick its work."""
        try:
            with self.session_factory() as session:
                trace_finished_runs(session=session, tracing=self.tracing, runs=finished_runs)
        except SQLAlchemyError as exc:
            log.warning("traces: could not read %d finished runs: %s", len(finished_runs), exc)

    def _hand_over(self, workloads: list[ExecuteTask]) -> int:
        for workload in workloads:
            if self.tokens is not None:
                workload = self.tokens.attach(workload)
            try:
                with self.tracing.launch(workload.try_key, self.executor.name) as span:
                    span["external_id"] = self.executor.queue_workload(workload) or ""
            except TradewindError as exc:
                log.error("executor refused %s: %s; scheduling it again", workload.try_key, exc)
                self._give_back(workload.ti_key)
        return len(workloads)

    def _give_back(self, key: TaskInstanceKey) -> None:
        with transaction(self.session_factory) as session:
            ti = scheduling.get_task_instance_row(session=session, key=key)
            if ti is not None:
                reset_to_scheduled(session=session, ti=ti, reason="the executor refused the try")

    def housekeeping(self, now: datetime) -> None:
        """Slower checks, run every heartbeat: zombies, stuck queued tries, executor reconciliation."""
        sched = self.settings.scheduler
        observations = TickObservations() if self.metrics.enabled else None
        with transaction(self.session_factory) as session:
            zombies = fail_zombies(
                session=session,
                cache=self.cache,
                now=now,
                watch=self.heartbeats,
                observations=observations,
            )
            stuck = reset_stuck_queued(
                session=session, executor=self.executor, now=now, timeout=sched.task_queued_timeout
            )
            ended = ended_but_carried(session=session, executor=self.executor)
            triggers.delete_unreferenced(session=session)
            if observations is not None:
                record_slot_gauges(
                    session=session, metrics=self.metrics, executor=self.executor, job_id=self.job_id
                )
        settle_zombies(zombies, self.heartbeats)
        if observations is not None:
            observations.record(self.metrics)
        if zombies or stuck:
            log.warning(
                "housekeeping: %d zombie tries failed, %d stuck queued tries rescheduled", len(zombies), stuck
            )
        # Seen ended at two heartbeats in a row: the executor had time to report the end itself (its event
        # counts the try's end in the metrics); a compute that never reports must not hold a slot for ever.
        if released := ended & self._ended_but_carried:
            self.executor.release(released)
        self._ended_but_carried = ended - released
        # A scheduler that died after this one started leaves tries behind: offer them to the executor.
        adopted, reset = self.adopt(now)
        if adopted or reset:
            log.info("adopted %d tries of stopped schedulers, rescheduled %d", adopted, reset)
        self.executor.sync()

    def adopt(self, now: datetime) -> tuple[int, int]:
        if self.job_id is None:
            return 0, 0
        with transaction(self.session_factory) as session:
            return adopt_orphans(
                session=session,
                cache=self.cache,
                executor=self.executor,
                job_id=self.job_id,
                now=now,
                liveness_threshold=self.settings.scheduler.liveness_threshold,
                tokens=self.tokens,
            )
