"""Creating DAG runs with their task instances: scheduled runs, manual triggers and backfills."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tradewind.core.run_inputs import (
    DEFAULT_ALLOWED_RUN_ID_PATTERN,
    check_conf_depth,
    check_logical_date,
    check_run_id,
)
from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.states import DagRunState, DagRunType
from tradewind.sdk.errors import ConflictError, RefusedInputError
from tradewind.sdk.schedules import DataInterval, manual_data_interval, timetable_from_dict
from tradewind.store import dag_runs, dags, task_instances
from tradewind.store.tables import DagRunModel
from tradewind.store.wakeup import ring


def create_run(
    *,
    session: Session,
    sdag: SerializedDag,
    run_type: DagRunType,
    logical_date: datetime,
    data_interval: DataInterval | None,
    now: datetime,
    conf: dict[str, Any] | None = None,
    run_id: str | None = None,
    triggered_by: str | None = None,
) -> DagRunModel:
    """A queued run with one task instance per task (ConflictError if the run id exists)."""
    run = dag_runs.create_dag_run(
        session=session,
        dag_id=sdag.dag_id,
        run_id=run_id or dag_runs.make_run_id(run_type, logical_date),
        run_type=run_type,
        logical_date=logical_date,
        data_interval=data_interval,
        conf=conf or {},
        state=DagRunState.QUEUED,
        external_trigger=run_type == DagRunType.MANUAL,
        triggered_by=triggered_by,
        dag_hash=sdag.content_hash(),
        now=now,
    )
    task_instances.create_task_instances(session=session, run=run, sdag=sdag)
    return run


def trigger_run(
    *,
    session: Session,
    dag_id: str,
    now: datetime,
    conf: dict[str, Any] | None = None,
    run_id: str | None = None,
    logical_date: datetime | None = None,
    triggered_by: str | None = None,
    allowed_run_id_pattern: str = DEFAULT_ALLOWED_RUN_ID_PATTERN,
) -> DagRunModel:
    """A manual run of a DAG, its conf validated against the DAG's params (from the serialized DAG: no
    user code is imported). The run id, logical date and conf a user gave pass ``core.run_inputs`` first.
    Raises RefusedInputError, NotFoundError, ParamValidationError or ConflictError."""
    from tradewind.sdk.params import resolve_params

    if run_id:
        check_run_id(run_id, pattern=allowed_run_id_pattern)
    if logical_date is not None:
        check_logical_date(logical_date)
    check_conf_depth(conf or {})
    dag = dags.get_dag(session=session, dag_id=dag_id)
    if not dag.is_active:
        raise ConflictError(f"DAG {dag_id!r} is not active (its file is gone or no longer defines it)")
    sdag = dags.get_serialized_dag(session=session, dag_id=dag_id)
    spec = {name: param.model_dump(by_alias=True) for name, param in sdag.params.items()}
    resolve_params(spec, conf or {})
    logical_date = logical_date or now
    try:
        interval = manual_data_interval(timetable_from_dict(sdag.timetable), logical_date)
    except (OverflowError, ValueError) as exc:  # the schedule's arithmetic left datetime's range
        raise RefusedInputError(
            f"logical_date {logical_date.isoformat()} is out of the range this DAG's schedule covers: {exc}",
            field="logical_date",
        ) from None
    ring(session)  # the scheduler starts the queued run as soon as this commits
    return create_run(
        session=session,
        sdag=sdag,
        run_type=DagRunType.MANUAL,
        logical_date=logical_date,
        data_interval=interval,
        now=now,
        conf=conf,
        run_id=run_id,
        triggered_by=triggered_by,
    )
