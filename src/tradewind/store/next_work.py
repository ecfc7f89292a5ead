"""When a scheduler with nothing to do must look again: whether work is in flight, and the earliest moment
stored work falls due (ADR 0012)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.store.scheduling import ALL_RUNS
from tradewind.store.tables import DagModel, DagRunModel, TaskInstanceModel


@dataclass(frozen=True, slots=True)
class NextWork:
    #: A run is queued or running, or a try is scheduled, queued or running: the scheduler keeps ticking
    #: every ``scheduler.loop_interval`` (runs time out, executors without events are polled).
    in_flight: bool
    #: The earliest stored moment something falls due: an unpaused DAG's next run, a retry, a reschedule
    #: (sensor poke), a deferral's timeout. None: nothing is waiting for a moment.
    due_at: datetime | None


def next_work(*, session: Session) -> NextWork:
    """Four indexed reads in one statement, run when a tick did nothing."""
    runs = exists().where(DagRunModel.state.in_([DagRunState.QUEUED, DagRunState.RUNNING]), ALL_RUNS.runs())
    tries = exists().where(
        TaskInstanceModel.state.in_(
            [TaskInstanceState.SCHEDULED, TaskInstanceState.QUEUED, TaskInstanceState.RUNNING]
        )
    )
    next_run = (
        select(func.min(DagModel.next_dagrun_create_after))
        .where(DagModel.is_active.is_(True), DagModel.is_paused.is_(False))
        .scalar_subquery()
    )
    retry = select(func.min(TaskInstanceModel.next_retry_at)).where(
        TaskInstanceModel.state == TaskInstanceState.UP_FOR_RETRY
    )
    poke = select(func.min(TaskInstanceModel.next_poke_at)).where(
        TaskInstanceModel.state == TaskInstanceState.UP_FOR_RESCHEDULE
    )
    timeout = select(func.min(TaskInstanceModel.trigger_timeout)).where(
        TaskInstanceModel.state == TaskInstanceState.DEFERRED
    )
    row = session.execute(
        select(
            select(runs).scalar_subquery(),
            select(tries).scalar_subquery(),
            next_run,
            retry.scalar_subquery(),
            poke.scalar_subquery(),
            timeout.scalar_subquery(),
        )
    ).one()
    moments = [_aware(m) for m in row[2:] if m is not None]
    return NextWork(in_flight=bool(row[0] or row[1]), due_at=min(moments) if moments else None)


def _aware(moment: datetime | str) -> datetime:
    # SQLite returns min() over a datetime column as text when the column type is lost in the aggregate.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
