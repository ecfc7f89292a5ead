"""DAG runs: run ids, creation, queries and compare-and-set state changes."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradewind.core.clock import as_utc
from tradewind.core.states import DagRunState, DagRunType
from tradewind.core.transitions import check_dag_run_transition
from tradewind.sdk.errors import ConflictError, NotFoundError
from tradewind.sdk.schedules import DataInterval
from tradewind.store.ordering import order_clauses
from tradewind.store.tables import DagModel, DagRunModel, TaskInstanceModel

ACTIVE_RUN_STATES: frozenset[DagRunState] = frozenset({DagRunState.QUEUED, DagRunState.RUNNING})
RUN_ORDER_COLUMNS = ("logical_date", "start_date", "end_date", "queued_at", "run_id", "state", "id")


def make_run_id(run_type: DagRunType | str, logical_date: datetime) -> str:
    """Airflow's run id format, e.g. ``manual__2026-11-24T06:00:00+00:00``."""
    return f"{DagRunType(run_type).value}__{as_utc(logical_date).isoformat()}"


def create_dag_run(
    *,
    session: Session,
    dag_id: str,
    run_id: str,
    run_type: DagRunType | str,
    logical_date: datetime,
    data_interval: DataInterval | None,
    conf: dict[str, Any] | None = None,
    state: DagRunState | str = DagRunState.QUEUED,
    external_trigger: bool = False,
    triggered_by: str | None = None,
    dag_hash: str | None = None,
    now: datetime,
) -> DagRunModel:
    """A new run; ConflictError if the DAG already has a run with this id."""
    state = DagRunState(state)
    if _find(session, dag_id, run_id) is not None:
        raise ConflictError(f"DAG {dag_id!r} already has a run with id {run_id!r}")
    run = DagRunModel(
        dag_id=dag_id,
        run_id=run_id,
        run_type=DagRunType(run_type).value,
        state=state.value,
        logical_date=logical_date,
        data_interval_start=data_interval.start if data_interval else None,
        data_interval_end=data_interval.end if data_interval else None,
        queued_at=now if state is DagRunState.QUEUED else None,
        start_date=now if state is DagRunState.RUNNING else None,
        end_date=now if state in (DagRunState.SUCCESS, DagRunState.FAILED) else None,
        conf=conf or {},
        external_trigger=external_trigger,
        triggered_by=triggered_by,
        dag_hash=dag_hash,
        updated_at=now,
    )
    try:
        # A savepoint, so losing a race with another creator leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        raise ConflictError(f"DAG {dag_id!r} already has a run with id {run_id!r}") from None
    return run


def _find(session: Session, dag_id: str, run_id: str) -> DagRunModel | None:
    stmt = select(DagRunModel).where(DagRunModel.dag_id == dag_id, DagRunModel.run_id == run_id)
    return session.scalars(stmt).one_or_none()


def get_dag_run(*, session: Session, dag_id: str, run_id: str) -> DagRunModel:
    run = _find(session, dag_id, run_id)
    if run is None:
        raise NotFoundError(f"DAG {dag_id!r} has no run {run_id!r}", kind="dag_run", ident=run_id)
    return run


@dataclass(frozen=True, slots=True)
class RunOfTry:
    """What a try's claim reads of its run and of its DAG's file."""

    run_type: str
    logical_date: datetime
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    start_date: datetime | None
    conf: dict[str, Any]
    fileloc: str
    relative_fileloc: str


def run_of_try(*, session: Session, dag_id: str, run_id: str) -> RunOfTry:
    """The run's fields a try's context needs and where its DAG's file is, in one query."""
    stmt = _run_of_try_statement()
    params = {"dag_id": dag_id, "run_id": run_id}
    row = session.execute(stmt, params).one_or_none()
    if row is None:
        raise NotFoundError(f"DAG {dag_id!r} has no run {run_id!r}", kind="dag_run", ident=run_id)
    if row.fileloc is None:
        raise NotFoundError(f"DAG {dag_id!r} does not exist", kind="dag", ident=dag_id)
    return RunOfTry(
        run_type=row.run_type,
        logical_date=row.logical_date,
        data_interval_start=row.data_interval_start,
        data_interval_end=row.data_interval_end,
        start_date=row.start_date,
        conf=dict(row.conf or {}),
        fileloc=row.fileloc,
        relative_fileloc=row.relative_fileloc,
    )


@functools.cache
def _run_of_try_statement() -> Select[Any]:
    """Built once: it runs at every claim, and building it cost more than running it. On the tables, not the
    mapped classes: a Core statement skips the ORM's compile and result steps."""
    run, dag = DagRunModel.__table__.c, DagModel.__table__.c
    return (
        select(
            run.run_type,
            run.logical_date,
            run.data_interval_start,
            run.data_interval_end,
            run.start_date,
            run.conf,
            dag.fileloc,
            dag.relative_fileloc,
        )
        .select_from(DagRunModel.__table__.outerjoin(DagModel.__table__, dag.dag_id == run.dag_id))
        .where(run.dag_id == bindparam("dag_id"), run.run_id == bindparam("run_id"))
    )


def list_dag_runs(
    *,
    session: Session,
    dag_id: str | None = None,
    states: Collection[DagRunState | str] | None = None,
    run_type: DagRunType | str | None = None,
    limit: int | None = None,
    offset: int = 0,
    order_by: str = "-logical_date",
) -> tuple[Sequence[DagRunModel], int]:
    """Runs matching the filters, and their count. ``order_by``: a column name, ``-`` first for descending."""
    conditions: list[ColumnElement[bool]] = []
    if dag_id is not None:
        conditions.append(DagRunModel.dag_id == dag_id)
    if states is not None:
        conditions.append(DagRunModel.state.in_([DagRunState(s).value for s in states]))
    if run_type is not None:
        conditions.append(DagRunModel.run_type == DagRunType(run_type).value)
    total = session.scalar(select(func.count()).select_from(DagRunModel).where(*conditions)) or 0
    stmt = (
        select(DagRunModel)
        .where(*conditions)
        .order_by(*order_clauses(DagRunModel, order_by, RUN_ORDER_COLUMNS, tiebreak="id"))
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all(), total


def set_dag_run_state(
    *,
    session: Session,
    dag_id: str,
    run_id: str,
    expected: DagRunState | str | Collection[DagRunState | str] | None,
    target: DagRunState | str,
    now: datetime,
) -> bool:
    """Compare-and-set the run's state; ``expected=None`` means whatever state it is in now.

    Sets the dates that go with the target: running sets ``start_date`` (if unset) and clears ``end_date``;
    success and failed set ``end_date``; queued clears both and sets ``queued_at``. Returns False when the
    run was not in an expected state; raises InvalidTransitionError for a transition not allowed at all.
    """
    target = DagRunState(target)
    if expected is None:
        expected_states = {DagRunState(get_dag_run(session=session, dag_id=dag_id, run_id=run_id).state)}
    elif isinstance(expected, str):
        expected_states = {DagRunState(expected)}
    else:
        expected_states = {DagRunState(s) for s in expected}
    if len(expected_states) > 1 or expected is None:
        expected_states.discard(target)  # staying in the same state is no change
    if not expected_states:
        return False
    for state in expected_states:
        check_dag_run_transition(state, target)
    values: dict[str, Any] = {"state": target.value, "updated_at": now}
    if target is DagRunState.RUNNING:
        values.update(start_date=func.coalesce(DagRunModel.start_date, now), end_date=None)
    elif target is DagRunState.QUEUED:
        values.update(queued_at=now, start_date=None, end_date=None)
    else:
        values.update(end_date=now)
    stmt = (
        update(DagRunModel)
        .where(
            DagRunModel.dag_id == dag_id,
            DagRunModel.run_id == run_id,
            DagRunModel.state.in_([s.value for s in expected_states]),
        )
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


def latest_task_end(*, session: Session, dag_id: str, run_id: str) -> datetime | None:
    """The latest end of the run's task instances: a run ends no earlier than its last try. A tick's clock
    reads its start, and a runner may record its try's end (through the execution API) while that tick
    plans the run."""
    latest = session.scalar(
        select(func.max(TaskInstanceModel.end_date)).where(
            TaskInstanceModel.dag_id == dag_id, TaskInstanceModel.run_id == run_id
        )
    )
    return as_utc(latest) if latest is not None else None


def previous_successful_run(*, session: Session, dag_id: str, before: datetime) -> DagRunModel | None:
    """The successful run with the newest logical date before ``before`` (Airflow 2's
    ``prev_execution_date_success``), or None."""
    stmt = (
        select(DagRunModel)
        .where(
            DagRunModel.dag_id == dag_id,
            DagRunModel.state == DagRunState.SUCCESS.value,
            DagRunModel.logical_date < before,
        )
        .order_by(DagRunModel.logical_date.desc(), DagRunModel.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()
