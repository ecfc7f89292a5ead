"""A finished DAG run's trace: its run and try records read from the database, handed to ``Tracing``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.observability.tracing import RunRecord, Tracing, TryRecord
from tradewind.store.tables import DagRunModel, TaskInstanceHistoryModel, TaskInstanceModel


def trace_finished_runs(
    *, session: Session, tracing: Tracing, runs: Sequence[tuple[str, str, object]]
) -> None:
    """Emit the trace of each finished run ``(dag_id, run_id, state)``. Reads only; the caller's session."""
    for dag_id, run_id, _state in runs:
        run = session.scalars(
            select(DagRunModel).where(DagRunModel.dag_id == dag_id, DagRunModel.run_id == run_id)
        ).one_or_none()
        if run is not None:
            tries = run_tries(session=session, dag_id=dag_id, run_id=run_id)
            tracing.record_run(_run_record(run), [t for t in tries if _this_execution(t, run)])


def _this_execution(record: TryRecord, run: DagRunModel) -> bool:
    """Whether the try belongs to the run's latest execution: a run cleared and run again was queued anew,
    and the tries of its earlier execution (sent with that one's trace) ended before."""
    began = run.queued_at or run.start_date
    moment = record.end_date or record.start_date or record.queued_at
    return began is None or moment is None or moment >= began


def _run_record(run: DagRunModel) -> RunRecord:
    return RunRecord(
        dag_id=run.dag_id,
        run_id=run.run_id,
        state=run.state,
        run_type=run.run_type,
        queued_at=run.queued_at,
        start_date=run.start_date,
        end_date=run.end_date,
    )


def run_tries(*, session: Session, dag_id: str, run_id: str) -> list[TryRecord]:
    """Every try of every task instance of the run: the archived ones, then each current one not archived."""
    records: list[TryRecord] = []
    archived: set[TaskTryKey] = set()
    history = session.scalars(
        select(TaskInstanceHistoryModel)
        .where(TaskInstanceHistoryModel.dag_id == dag_id, TaskInstanceHistoryModel.run_id == run_id)
        .order_by(
            TaskInstanceHistoryModel.task_id,
            TaskInstanceHistoryModel.map_index,
            TaskInstanceHistoryModel.try_number,
        )
    ).all()
    for old in history:
        key = TaskTryKey(TaskInstanceKey.of(old), old.try_number)
        archived.add(key)
        # The history keeps no queue time: the try span starts at the launch this process saw, or at its start.
        records.append(
            TryRecord(
                key,
                old.state,
                None,
                old.start_date,
                old.end_date,
                old.hostname,
                old.executor,
                old.state_reason,
            )
        )
    current = session.scalars(
        select(TaskInstanceModel).where(
            TaskInstanceModel.dag_id == dag_id,
            TaskInstanceModel.run_id == run_id,
            TaskInstanceModel.try_number > 0,
        )
    ).all()
    for ti in current:
        key = TaskTryKey(TaskInstanceKey.of(ti), ti.try_number)
        if key in archived:
            continue
        records.append(
            TryRecord(
                key,
                ti.state,
                ti.queued_at,
                ti.start_date,
                ti.end_date,
                ti.hostname,
                ti.executor,
                ti.state_reason,
            )
        )
    return records
