"""What a tick saw happen to tries and runs, recorded as metrics once its transaction commits (a rolled-back
tick applies its events again, and must not count them twice)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tradewind.core.states import DagRunType, TaskInstanceState
from tradewind.observability.metrics import Metrics
from tradewind.store.scheduling import EventTi
from tradewind.store.tables import DagRunModel, TaskInstanceModel


@dataclass
class TickObservations:
    started: list[tuple[str, str]] = field(default_factory=list)
    #: (dag_id, task_id, state, seconds run or None, seconds queued before running or None)
    ended: list[tuple[str, str, str, float | None, float | None]] = field(default_factory=list)
    zombies: list[tuple[str, str]] = field(default_factory=list)
    #: (dag_id, state, seconds)
    runs_finished: list[tuple[str, str, float]] = field(default_factory=list)
    #: (dag_id, seconds from due to started)
    schedule_delays: list[tuple[str, float]] = field(default_factory=list)

    def try_started(self, ti: TaskInstanceModel | EventTi) -> None:
        self.started.append((ti.dag_id, ti.task_id))

    def try_ended(self, ti: TaskInstanceModel | EventTi, state: TaskInstanceState | str, now: datetime) -> None:
        """``ti`` as the database holds it after the end (start, end and queued times)."""
        start, end = ti.start_date, ti.end_date or now
        duration = ti.duration if ti.duration is not None else (end - start).total_seconds() if start else None
        queued = (start - ti.queued_at).total_seconds() if start and ti.queued_at else None
        self.ended.append((ti.dag_id, ti.task_id, str(state), duration, queued))

    def run_started(self, run: DagRunModel, now: datetime) -> None:
        """Airflow's schedule delay: a scheduled run's start after the end of its data interval (its due time)."""
        due = run.data_interval_end or run.logical_date
        if run.run_type == DagRunType.SCHEDULED and due is not None:
            self.schedule_delays.append((run.dag_id, (now - due).total_seconds()))

    def record(self, metrics: Metrics) -> None:
        for dag_id, task_id in self.started:
            metrics.incr("ti.start", dag_id=dag_id, task_id=task_id)
        for dag_id, task_id, state, duration, queued in self.ended:
            metrics.incr("ti.finish", dag_id=dag_id, task_id=task_id, state=state)
            if duration is not None:
                metrics.timing("task.duration", duration, dag_id=dag_id, task_id=task_id)
            if queued is not None:
                metrics.timing("task.queued_duration", queued, dag_id=dag_id, task_id=task_id)
        for dag_id, task_id in self.zombies:
            metrics.incr("zombies_killed", dag_id=dag_id, task_id=task_id)
        for dag_id, state, seconds in self.runs_finished:
            metrics.timing("dagrun.duration", seconds, dag_id=dag_id, state=state)
        for dag_id, seconds in self.schedule_delays:
            metrics.timing("dagrun.schedule_delay", seconds, dag_id=dag_id)
