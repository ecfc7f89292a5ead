"""Queries the scheduler runs every iteration: due DAGs, runs to examine, task instances to dispatch.

On PostgreSQL the rows a scheduler works on are claimed with ``FOR UPDATE SKIP LOCKED`` so several
schedulers share one database without examining the same run or queueing the same task twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import DagRunState, TaskInstanceState, ti_state_or_none
from tradewind.core.transitions import check_ti_transition
from tradewind.store.tables import DagModel, DagRunModel, JobModel, TaskInstanceModel


def _locked(stmt: Select[Any], session: Session, *tables: type[Any]) -> Select[Any]:
    # FOR NO KEY UPDATE (key_share): a row lock that does not block rows of other tables referencing this
    # one (their foreign-key checks take KEY SHARE), so the scheduler never waits on, nor deadlocks with,
    # a process inserting such rows.
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True, key_share=True, of=list(tables) if tables else None)
    return stmt


#: ``dag_run.triggered_by`` of the runs `tradewind dags test` makes: only the process that made one runs it.
TEST_TRIGGER = "test"
#: ``dag_run.triggered_by`` of a run that a task of a `dags test` run triggered (TriggerDagRunOperator), and
#: so on down: ``test:`` and a digest of the test's own run. The test runs it; no service does.
TEST_CHILD_PREFIX = TEST_TRIGGER + ":"


def test_lineage(dag_id: str, run_id: str) -> str:
    """The ``triggered_by`` of runs triggered from within the `dags test` run (dag_id, run_id)."""
    digest = hashlib.sha256(f"{dag_id}\0{run_id}".encode()).hexdigest()[:24]
    return TEST_CHILD_PREFIX + digest


def test_child_trigger(*, session: Session, caller: TaskInstanceKey) -> str | None:
    """The ``triggered_by`` a run triggered by ``caller``'s task gets when ``caller`` belongs to a `dags test`
    (its lineage), else None."""
    parent = session.scalar(
        select(DagRunModel.triggered_by).where(
            DagRunModel.dag_id == caller.dag_id, DagRunModel.run_id == caller.run_id
        )
    )
    if parent == TEST_TRIGGER:
        return test_lineage(caller.dag_id, caller.run_id)
    if parent is not None and parent.startswith(TEST_CHILD_PREFIX):
        return parent
    return None


@dataclass(frozen=True, slots=True)
class RunScope:
    """The runs a scheduler works on: every run but `dags test`'s (``RunScope()``, every service), or the run
    a `dags test` process made (``RunScope(dag_id, run_id)``) with the runs its tasks triggered, which no other
    scheduler touches."""

    dag_id: str | None = None
    run_id: str | None = None

    @property
    def single_run(self) -> bool:
        return self.dag_id is not None

    def runs(self) -> ColumnElement[bool]:
        """A condition on DagRunModel."""
        if self.dag_id is not None:
            return or_(
                and_(DagRunModel.dag_id == self.dag_id, DagRunModel.run_id == self.run_id),
                DagRunModel.triggered_by == test_lineage(self.dag_id, self.run_id or ""),
            )
        return or_(DagRunModel.triggered_by.is_(None), ~_is_test_run_condition())

    def task_instances(self) -> ColumnElement[bool]:
        """A condition on TaskInstanceModel: its run is in scope."""
        same_run = and_(
            DagRunModel.dag_id == TaskInstanceModel.dag_id, DagRunModel.run_id == TaskInstanceModel.run_id
        )
        if self.dag_id is not None:
            return exists().where(same_run, self.runs())
        return ~exists().where(same_run, _is_test_run_condition())


def _is_test_run_condition() -> ColumnElement[bool]:
    return or_(
        DagRunModel.triggered_by == TEST_TRIGGER,
        DagRunModel.triggered_by.startswith(TEST_CHILD_PREFIX, autoescape=True),
    )


def has_deferred(*, session: Session, scope: RunScope) -> bool:
    """Whether a task instance of a run in ``scope`` waits for a trigger."""
    stmt = select(TaskInstanceModel.task_id).where(
        TaskInstanceModel.state == TaskInstanceState.DEFERRED.value, scope.task_instances()
    )
    return session.execute(stmt.limit(1)).first() is not None


#: What every scheduler service works on.
ALL_RUNS = RunScope()


#: Timetable types with no scheduled runs: manual only (``none``) and asset-triggered (``assets``, whose
#: runs ``scheduler.asset_runs`` creates).
UNSCHEDULED_TIMETABLES = ("none", "assets")


def dags_due(*, session: Session, now: datetime, limit: int = 100) -> Sequence[DagModel]:
    """Active DAGs whose next run is not computed yet (paused ones too, so the UI can show it), and
    unpaused ones whose next run is due. DAGs that never have a scheduled run (``schedule=None``, asset
    schedules: their next run stays None) are left out: otherwise every tick would read them again, and on
    SQLite, which sorts None first, a hundred of them would hide every due DAG."""
    timetable_type = DagModel.timetable["type"].as_string()
    stmt = (
        select(DagModel)
        .where(DagModel.is_active.is_(True))
        .where(
            or_(
                and_(
                    DagModel.next_dagrun_create_after.is_(None),
                    or_(timetable_type.is_(None), timetable_type.not_in(UNSCHEDULED_TIMETABLES)),
                ),
                and_(DagModel.is_paused.is_(False), DagModel.next_dagrun_create_after <= now),
            )
        )
        .order_by(DagModel.next_dagrun_create_after)
        .limit(limit)
    )
    return session.scalars(_locked(stmt, session, DagModel)).all()


def last_automated_run(*, session: Session, dag_id: str) -> DagRunModel | None:
    stmt = (
        select(DagRunModel)
        .where(DagRunModel.dag_id == dag_id, DagRunModel.run_type.in_(["scheduled", "backfill"]))
        .order_by(DagRunModel.logical_date.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def active_run_counts(
    *, session: Session, dag_ids: Iterable[str] | None = None, include_queued: bool = False
) -> dict[str, int]:
    """Runs per DAG that count against ``max_active_runs``: running ones (to start queued runs), or queued and
    running ones (to create scheduled runs, as Airflow: a DAG never has more runs waiting than it may run)."""
    states = [DagRunState.RUNNING, DagRunState.QUEUED] if include_queued else [DagRunState.RUNNING]
    stmt = select(DagRunModel.dag_id, func.count()).where(DagRunModel.state.in_(states))
    if dag_ids is not None:
        stmt = stmt.where(DagRunModel.dag_id.in_(list(dag_ids)))
    return {dag_id: n for dag_id, n in session.execute(stmt.group_by(DagRunModel.dag_id))}


#: Queued runs a tick reads (and may start) at most.
QUEUED_RUNS_PAGE = 100


def queued_runs(
    *, session: Session, scope: RunScope = ALL_RUNS, limit: int = QUEUED_RUNS_PAGE
) -> Sequence[DagRunModel]:
    stmt = (
        select(DagRunModel)
        .where(DagRunModel.state == DagRunState.QUEUED, scope.runs())
        .order_by(DagRunModel.logical_date, DagRunModel.id)
        .limit(limit)
    )
    return session.scalars(_locked(stmt, session, DagRunModel)).all()


def running_runs(*, session: Session, scope: RunScope = ALL_RUNS, limit: int = 200) -> Sequence[DagRunModel]:
    """Running runs to examine, least recently examined first; locked so no other scheduler examines them."""
    stmt = (
        select(DagRunModel)
        .where(DagRunModel.state == DagRunState.RUNNING, scope.runs())
        .order_by(DagRunModel.last_scheduling_decision.is_not(None), DagRunModel.last_scheduling_decision)
        .limit(limit)
    )
    return session.scalars(_locked(stmt, session, DagRunModel)).all()


@dataclass(frozen=True, slots=True)
class PlannedTi:
    """The columns of a task instance that planning reads: a tick reads every instance of each run with
    something to decide (``store.run_progress``), and a plain row costs a fraction of an ORM object (a fifth
    of the columns, no identity map)."""

    id: int
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    state: str | None
    try_number: int
    next_retry_at: datetime | None
    next_poke_at: datetime | None

    @classmethod
    def of(cls, ti: TaskInstanceModel) -> PlannedTi:
        return cls(*(getattr(ti, column.key) for column in _PLANNING_COLUMNS))


_PLANNING_COLUMNS = (
    TaskInstanceModel.id,
    TaskInstanceModel.dag_id,
    TaskInstanceModel.run_id,
    TaskInstanceModel.task_id,
    TaskInstanceModel.map_index,
    TaskInstanceModel.state,
    TaskInstanceModel.try_number,
    TaskInstanceModel.next_retry_at,
    TaskInstanceModel.next_poke_at,
)


def task_instances_of_runs(*, session: Session, runs: Sequence[DagRunModel]) -> list[PlannedTi]:
    if not runs:
        return []
    keys = [(r.dag_id, r.run_id) for r in runs]
    stmt = select(*_PLANNING_COLUMNS).where(
        tuple_(TaskInstanceModel.dag_id, TaskInstanceModel.run_id).in_(keys)
    )
    return [PlannedTi(*row) for row in session.execute(stmt)]


def previous_run(*, session: Session, run: DagRunModel) -> DagRunModel | None:
    stmt = (
        select(DagRunModel)
        .where(DagRunModel.dag_id == run.dag_id, DagRunModel.logical_date < run.logical_date)
        .order_by(DagRunModel.logical_date.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


#: Returned by task_instance_state when the row does not exist.
MISSING = object()


def task_instance_state(*, session: Session, key: TaskInstanceKey) -> object:
    """The state of one task instance (None: no state yet), or MISSING when there is no such row."""
    row = session.execute(
        select(TaskInstanceModel.state).where(
            TaskInstanceModel.dag_id == key.dag_id,
            TaskInstanceModel.run_id == key.run_id,
            TaskInstanceModel.task_id == key.task_id,
            TaskInstanceModel.map_index == key.map_index,
        )
    ).first()
    if row is None:
        return MISSING
    return ti_state_or_none(row[0])


@dataclass(frozen=True, slots=True)
class DispatchCandidate:
    """The columns of a scheduled task instance that dispatch reads: every tick reads up to 64 of them, and a
    plain row costs a fraction of an ORM object (no identity map for the UPDATE that queues it to sync)."""

    id: int
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    pool: str
    pool_slots: int
    queue: str
    priority_weight: int
    next_poke_at: datetime | None
    next_method: str | None


_DISPATCH_COLUMNS: tuple[Any, ...] = (
    TaskInstanceModel.id,
    TaskInstanceModel.dag_id,
    TaskInstanceModel.run_id,
    TaskInstanceModel.task_id,
    TaskInstanceModel.map_index,
    TaskInstanceModel.try_number,
    TaskInstanceModel.pool,
    TaskInstanceModel.pool_slots,
    TaskInstanceModel.queue,
    TaskInstanceModel.priority_weight,
    TaskInstanceModel.next_poke_at,
    TaskInstanceModel.next_method,
)


def dispatch_candidates(
    *, session: Session, limit: int, scope: RunScope = ALL_RUNS
) -> list[DispatchCandidate]:
    """Scheduled task instances of running runs, highest priority first; claimed on PostgreSQL."""
    stmt = (
        select(*_DISPATCH_COLUMNS)
        .join(
            DagRunModel,
            and_(
                DagRunModel.dag_id == TaskInstanceModel.dag_id, DagRunModel.run_id == TaskInstanceModel.run_id
            ),
        )
        .where(
            TaskInstanceModel.state == TaskInstanceState.SCHEDULED,
            DagRunModel.state == DagRunState.RUNNING,
            scope.runs(),
        )
        .order_by(
            TaskInstanceModel.priority_weight.desc(), TaskInstanceModel.scheduled_at, TaskInstanceModel.id
        )
        .limit(limit)
    )
    return [DispatchCandidate(*row) for row in session.execute(_locked(stmt, session, TaskInstanceModel))]


def queue_candidates(
    *, session: Session, tries: Sequence[tuple[int, int]], new_try: bool, values: dict[str, Any]
) -> set[int]:
    """Move scheduled task instances ``tries`` ((id, try number read)) to queued in one UPDATE, at a new try
    (``new_try``: try_number + 1) or at the same one; ``values`` are further columns. Returns the ids moved: a
    row no longer scheduled at that try number is left alone (another scheduler, or a user, moved it)."""
    if not tries:
        return set()
    check_ti_transition(TaskInstanceState.SCHEDULED, TaskInstanceState.QUEUED)
    ti = TaskInstanceModel
    try_number = ti.try_number + 1 if new_try else ti.try_number
    stmt = (
        update(ti)
        .where(tuple_(ti.id, ti.try_number).in_(list(tries)), ti.state == TaskInstanceState.SCHEDULED.value)
        .values(state=TaskInstanceState.QUEUED.value, try_number=try_number, **values)
        .returning(ti.id)
        .execution_options(synchronize_session="fetch")
    )
    return set(session.scalars(stmt))


def active_task_counts(*, session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """(queued+running tries per DAG, queued+running pool slots per pool)."""
    active = [TaskInstanceState.QUEUED, TaskInstanceState.RUNNING]
    per_dag = {
        dag_id: n
        for dag_id, n in session.execute(
            select(TaskInstanceModel.dag_id, func.count())
            .where(TaskInstanceModel.state.in_(active))
            .group_by(TaskInstanceModel.dag_id)
        )
    }
    per_pool = {
        pool: int(n or 0)
        for pool, n in session.execute(
            select(TaskInstanceModel.pool, func.sum(TaskInstanceModel.pool_slots))
            .where(TaskInstanceModel.state.in_(active))
            .group_by(TaskInstanceModel.pool)
        )
    }
    return per_dag, per_pool


def running_heartbeats(
    *, session: Session, scope: RunScope = ALL_RUNS
) -> Sequence[tuple[int, int, datetime | None]]:
    """(id, try number, last heartbeat, or the start when none came yet) of every running try, unlocked: what
    the zombie check watches for change."""
    stmt = select(
        TaskInstanceModel.id,
        TaskInstanceModel.try_number,
        func.coalesce(TaskInstanceModel.last_heartbeat_at, TaskInstanceModel.start_date),
    ).where(TaskInstanceModel.state == TaskInstanceState.RUNNING, scope.task_instances())
    return [(row[0], row[1], row[2]) for row in session.execute(stmt)]


def running_tries(*, session: Session, ids: Collection[int]) -> Sequence[TaskInstanceModel]:
    """The tries ``ids`` that are still running, locked (skipping rows another scheduler holds)."""
    if not ids:
        return []
    stmt = select(TaskInstanceModel).where(
        TaskInstanceModel.id.in_(list(ids)), TaskInstanceModel.state == TaskInstanceState.RUNNING
    )
    return session.scalars(_locked(stmt, session, TaskInstanceModel)).all()


def queued_before(
    *, session: Session, queued_before: datetime, scope: RunScope = ALL_RUNS
) -> Sequence[TaskInstanceModel]:
    stmt = select(TaskInstanceModel).where(
        TaskInstanceModel.state == TaskInstanceState.QUEUED,
        TaskInstanceModel.queued_at < queued_before,
        scope.task_instances(),
    )
    return session.scalars(_locked(stmt, session, TaskInstanceModel)).all()


def orphaned_tries(
    *, session: Session, executor: str, live_job_ids: Iterable[int]
) -> Sequence[TaskInstanceModel]:
    """Queued or running tries on this kind of executor whose scheduler job is not alive (never those of a
    `dags test` run: its own process runs them)."""
    stmt = select(TaskInstanceModel).where(
        TaskInstanceModel.state.in_([TaskInstanceState.QUEUED, TaskInstanceState.RUNNING]),
        ALL_RUNS.task_instances(),
        TaskInstanceModel.executor == executor,
        or_(
            TaskInstanceModel.queued_by_job_id.is_(None),
            TaskInstanceModel.queued_by_job_id.not_in(list(live_job_ids)),
        ),
    )
    return session.scalars(_locked(stmt, session, TaskInstanceModel)).all()


def claim_for_job(*, session: Session, ti_ids: Sequence[int], job_id: int) -> None:
    if ti_ids:
        session.execute(
            update(TaskInstanceModel)
            .where(TaskInstanceModel.id.in_(list(ti_ids)))
            .values(queued_by_job_id=job_id)
        )


def live_scheduler_job_ids(*, session: Session, heartbeat_after: datetime) -> list[int]:
    stmt = select(JobModel.id).where(
        JobModel.job_type == "scheduler",
        JobModel.state == "running",
        JobModel.latest_heartbeat >= heartbeat_after,
    )
    return list(session.scalars(stmt))


def expand_mapped(
    *,
    session: Session,
    placeholder: PlannedTi,
    length: int,
    now: datetime,
    state: TaskInstanceState | None = TaskInstanceState.SCHEDULED,
) -> tuple[PlannedTi, list[PlannedTi]]:
    """Turn a mapped task's placeholder (map_index -1) into ``length`` task instances in ``state`` (the
    tasks of a mapped task group: None, each planned on its own): the placeholder as map index 0, and the
    instances created for the others."""
    scheduled_at = now if state is not None else None
    session.execute(
        update(TaskInstanceModel)
        .where(TaskInstanceModel.id == placeholder.id, TaskInstanceModel.map_index == -1)
        .values(map_index=0, state=state, scheduled_at=scheduled_at)
    )
    first = replace(placeholder, map_index=0, state=state)
    if length <= 1:
        return first, []
    # Plain rows in one multi-row INSERT, no ORM objects: a mapped task may expand to thousands of instances.
    ti = TaskInstanceModel
    copied = (ti.max_tries, ti.operator, ti.pool, ti.pool_slots, ti.queue, ti.priority_weight)
    source = session.execute(select(*copied).where(ti.id == placeholder.id)).one()._asdict()
    common = {
        "dag_id": placeholder.dag_id,
        "run_id": placeholder.run_id,
        "task_id": placeholder.task_id,
        "state": state.value if state is not None else None,
        "try_number": 0,
        "scheduled_at": scheduled_at,
        **source,
    }
    session.execute(insert(ti), [{**common, "map_index": index} for index in range(1, length)])
    stmt = (
        select(*_PLANNING_COLUMNS)
        .where(
            ti.dag_id == placeholder.dag_id,
            ti.run_id == placeholder.run_id,
            ti.task_id == placeholder.task_id,
            ti.map_index > 0,
        )
        .order_by(ti.map_index)
    )
    return first, [PlannedTi(*row) for row in session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class EventTi:
    """The columns of a task instance that handling an executor's event reads (two events per try: plain
    rows, no identity map); the rare try that must be failed or given back is then read whole."""

    id: int
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    state: str | None
    queued_by_job_id: int | None
    pid: int | None
    hostname: str | None
    last_heartbeat_at: datetime | None
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    queued_at: datetime | None


_EVENT_COLUMNS = tuple(getattr(TaskInstanceModel, f) for f in EventTi.__dataclass_fields__)
#: Keys per ``IN`` list: well under SQLite's bound on variables (4 per key).
_KEYS_PER_QUERY = 200


def _keys_in_chunks(keys: Collection[TaskInstanceKey]) -> Iterator[ColumnElement[bool]]:
    """Conditions on TaskInstanceModel matching ``keys`` (duplicates dropped), ``_KEYS_PER_QUERY`` at a time."""
    ordered = list(dict.fromkeys(keys))
    columns = tuple_(
        TaskInstanceModel.dag_id,
        TaskInstanceModel.run_id,
        TaskInstanceModel.task_id,
        TaskInstanceModel.map_index,
    )
    for start in range(0, len(ordered), _KEYS_PER_QUERY):
        chunk = ordered[start : start + _KEYS_PER_QUERY]
        yield columns.in_([(k.dag_id, k.run_id, k.task_id, k.map_index) for k in chunk])


def event_task_instances(
    *, session: Session, keys: Collection[TaskInstanceKey]
) -> dict[TaskInstanceKey, EventTi]:
    """``EventTi`` rows of the ``keys`` that exist, in one query per 200 keys."""
    found: dict[TaskInstanceKey, EventTi] = {}
    for among in _keys_in_chunks(keys):
        for row in session.execute(select(*_EVENT_COLUMNS).where(among)):
            ti = EventTi(*row)
            found[TaskInstanceKey(ti.dag_id, ti.run_id, ti.task_id, ti.map_index)] = ti
    return found


def record_external_ids(*, session: Session, ids: Sequence[tuple[int, int, str]]) -> None:
    """Record each (task instance id, try number, external id) in one executemany UPDATE; an instance
    moved to another try since is left alone."""
    if not ids:
        return
    table = cast(Table, TaskInstanceModel.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.try_number == bindparam("b_try"))
        .values(external_executor_id=bindparam("b_external"))
    )
    session.execute(stmt, [{"b_id": i, "b_try": t, "b_external": e} for i, t, e in ids])


def get_task_instance_rows(
    *, session: Session, keys: Collection[TaskInstanceKey]
) -> dict[TaskInstanceKey, TaskInstanceModel]:
    """The rows of ``keys`` that exist, in one query per 200 keys."""
    found: dict[TaskInstanceKey, TaskInstanceModel] = {}
    for among in _keys_in_chunks(keys):
        for ti in session.scalars(select(TaskInstanceModel).where(among)):
            found[TaskInstanceKey.of(ti)] = ti
    return found


def get_task_instance_row(*, session: Session, key: TaskInstanceKey) -> TaskInstanceModel | None:
    stmt = select(TaskInstanceModel).where(
        TaskInstanceModel.dag_id == key.dag_id,
        TaskInstanceModel.run_id == key.run_id,
        TaskInstanceModel.task_id == key.task_id,
        TaskInstanceModel.map_index == key.map_index,
    )
    return session.scalars(stmt).first()
