"""What a task may read of, or start in, other DAGs: run and task states by logical date (for
ExternalTaskSensor) and manual runs (for TriggerDagRunOperator)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.core.run_inputs import DEFAULT_ALLOWED_RUN_ID_PATTERN
from tradewind.sdk.errors import NotFoundError
from tradewind.store import dag_runs, dags, task_instances
from tradewind.store.new_runs import trigger_run
from tradewind.store.tables import DagRunModel, TaskInstanceModel


def dag_task_groups(*, session: Session, dag_id: str) -> dict[str, str | None] | None:
    """Task id -> task group id of the DAG as last parsed; None when there is no such DAG."""
    try:
        sdag = dags.get_serialized_dag(session=session, dag_id=dag_id)
    except NotFoundError:
        return None
    return {task.task_id: task.task_group for task in sdag.tasks}


def run_states_at(*, session: Session, dag_id: str, logical_dates: Sequence[datetime]) -> list[str]:
    if not logical_dates:
        return []
    return list(
        session.scalars(
            select(DagRunModel.state).where(
                DagRunModel.dag_id == dag_id, DagRunModel.logical_date.in_(list(logical_dates))
            )
        )
    )


def task_states_at(
    *, session: Session, dag_id: str, logical_dates: Sequence[datetime], task_ids: Sequence[str]
) -> list[str]:
    """State labels (``"none"`` for no state) of every instance of ``task_ids`` in the runs at those dates."""
    if not logical_dates or not task_ids:
        return []
    rows = session.scalars(
        select(TaskInstanceModel.state)
        .join(
            DagRunModel,
            (DagRunModel.dag_id == TaskInstanceModel.dag_id)
            & (DagRunModel.run_id == TaskInstanceModel.run_id),
        )
        .where(
            TaskInstanceModel.dag_id == dag_id,
            TaskInstanceModel.task_id.in_(list(task_ids)),
            DagRunModel.logical_date.in_(list(logical_dates)),
        )
    )
    return [state or "none" for state in rows]


def trigger_or_reset(
    *,
    session: Session,
    dag_id: str,
    run_id: str | None,
    logical_date: datetime | None,
    conf: dict[str, Any],
    reset_dag_run: bool,
    triggered_by: str,
    now: datetime,
    allowed_run_id_pattern: str = DEFAULT_ALLOWED_RUN_ID_PATTERN,
) -> DagRunModel | None:
    """A new manual run; when ``run_id`` exists, None unless ``reset_dag_run``, in which case every task of
    that run is cleared (the run is queued again) and the run is returned. A given ``run_id`` that
    ``core.run_inputs`` refuses raises RefusedInputError (the triggering task fails with it)."""
    date = logical_date or now
    wanted = run_id or dag_runs.make_run_id("manual", date)
    try:
        existing = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=wanted)
    except NotFoundError:
        existing = None
    if existing is None:
        return trigger_run(
            session=session, dag_id=dag_id, now=now, conf=conf, run_id=run_id, logical_date=date,
            triggered_by=triggered_by, allowed_run_id_pattern=allowed_run_id_pattern,
        )  # fmt: skip
    if not reset_dag_run:
        return None
    sdag = dags.get_serialized_dag(session=session, dag_id=dag_id)
    task_instances.clear_task_instances(
        session=session, dag_id=dag_id, run_id=wanted, task_ids=list(sdag.task_dict),
        include_downstream=False, sdag=sdag, now=now,
    )  # fmt: skip
    return existing
