"""Task instances: creation, queries, compare-and-set state changes, heartbeats, marking and clearing."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, Update, bindparam, false, func, or_, select, update
from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.setup_teardown import clear_scope
from tradewind.core.states import DagRunState, TaskInstanceState, ti_state_or_none
from tradewind.core.transitions import check_ti_transition
from tradewind.sdk.errors import NotFoundError, TradewindError
from tradewind.store.dag_runs import set_dag_run_state
from tradewind.store.dags import get_serialized_dag
from tradewind.store.tables import DagRunModel, TaskInstanceModel
from tradewind.store.task_history import TryInfo, archive_try, list_tries
from tradewind.store.ti_key_binding import key_clauses, key_params
from tradewind.store.xcom import delete_xcoms

# archive_try, list_tries and TryInfo live in task_history; callers may import them from here too.
__all__ = [
    "CLEARABLE_FAILED",
    "DEFERRAL_CLEARED",
    "ClaimedRow",
    "TryInfo",
    "archive_try",
    "claim_queued",
    "clear_targets",
    "clear_task_instances",
    "create_task_instances",
    "get_task_instance",
    "heartbeat",
    "list_task_instances",
    "list_tries",
    "mark_task_instance",
    "state_filter",
    "transition",
]

StateOrNone = TaskInstanceState | None
Expected = TaskInstanceState | str | None | Collection[TaskInstanceState | str | None]

#: Ending a try, clearing or marking a task instance ends any deferral: the next try starts from ``execute``
#: (the trigger nobody waits on is deleted by the scheduler's housekeeping).
DEFERRAL_CLEARED: dict[str, Any] = {
    "trigger_id": None,
    "trigger_timeout": None,
    "next_method": None,
    "next_kwargs": None,
}
_COLUMNS = frozenset(TaskInstanceModel.__table__.columns.keys())
#: Columns a transition may never set through ``values``: the key, and state (set by ``target``).
_PROTECTED = frozenset({"id", "dag_id", "run_id", "task_id", "map_index", "state"})


def _key_filter(key: TaskInstanceKey) -> list[ColumnElement[bool]]:
    return [
        TaskInstanceModel.dag_id == key.dag_id,
        TaskInstanceModel.run_id == key.run_id,
        TaskInstanceModel.task_id == key.task_id,
        TaskInstanceModel.map_index == key.map_index,
    ]


def state_filter(states: Iterable[StateOrNone]) -> ColumnElement[bool]:
    """``state IN (...)``, with None matched as ``IS NULL`` (SQL's ``IN`` never matches NULL)."""
    states = set(states)
    named = [s.value if isinstance(s, TaskInstanceState) else s for s in states if s is not None]
    clauses: list[ColumnElement[bool]] = []
    if named:
        clauses.append(TaskInstanceModel.state.in_(named))
    if None in states:
        clauses.append(TaskInstanceModel.state.is_(None))
    return or_(*clauses) if clauses else false()


def _as_state_set(expected: Expected) -> set[StateOrNone]:
    if expected is None or isinstance(expected, str):
        return {ti_state_or_none(expected)}
    return {ti_state_or_none(s) for s in expected}


def create_task_instances(
    *, session: Session, run: DagRunModel, sdag: SerializedDag
) -> list[TaskInstanceModel]:
    """One task instance (map_index -1, no state) per task of the DAG that the run does not have yet.

    ``retries`` was resolved by the DAG processor (core.default_task_retries for tasks that set none).
    """
    existing = set(
        session.scalars(
            select(TaskInstanceModel.task_id).where(
                TaskInstanceModel.dag_id == run.dag_id, TaskInstanceModel.run_id == run.run_id
            )
        )
    )
    created = []
    for task in sdag.tasks:
        if task.task_id in existing:
            continue
        retries = task.retries or 0
        ti = TaskInstanceModel(
            dag_id=run.dag_id,
            run_id=run.run_id,
            task_id=task.task_id,
            map_index=-1,
            state=None,
            try_number=0,
            max_tries=retries,
            operator=task.operator,
            pool=task.pool,
            pool_slots=task.pool_slots,
            queue=task.queue,
            priority_weight=task.priority_weight,
        )
        session.add(ti)
        created.append(ti)
    session.flush()
    return created


def get_task_instance(*, session: Session, key: TaskInstanceKey) -> TaskInstanceModel:
    ti = session.scalars(select(TaskInstanceModel).where(*_key_filter(key))).one_or_none()
    if ti is None:
        raise NotFoundError(f"task instance {key} does not exist", kind="task_instance", ident=str(key))
    return ti


def list_task_instances(
    *,
    session: Session,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_ids: Collection[str] | None = None,
    states: Collection[StateOrNone] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[Sequence[TaskInstanceModel], int]:
    """Task instances matching every filter, by DAG, run, task and map index; and their count."""
    conditions: list[ColumnElement[bool]] = []
    if dag_id is not None:
        conditions.append(TaskInstanceModel.dag_id == dag_id)
    if run_id is not None:
        conditions.append(TaskInstanceModel.run_id == run_id)
    if task_ids is not None:
        conditions.append(TaskInstanceModel.task_id.in_(list(task_ids)))
    if states is not None:
        conditions.append(state_filter(states))
    total = session.scalar(select(func.count()).select_from(TaskInstanceModel).where(*conditions)) or 0
    stmt = (
        select(TaskInstanceModel)
        .where(*conditions)
        .order_by(
            TaskInstanceModel.dag_id,
            TaskInstanceModel.run_id,
            TaskInstanceModel.task_id,
            TaskInstanceModel.map_index,
        )
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all(), total


def transition(
    *,
    session: Session,
    key: TaskInstanceKey,
    expected: Expected,
    target: TaskInstanceState | str | None,
    try_number: int | None = None,
    by_user: bool = False,
    values: dict[str, Any] | None = None,
) -> bool:
    """Compare-and-set: move the task instance from ``expected`` to ``target`` in one conditional UPDATE.

    ``expected`` is a state, None (no state yet) or a collection of them; a state equal to ``target`` is
    dropped from a collection, as it would be no change. ``try_number`` additionally requires the row to be
    at that try. ``values`` are further columns set by the same statement (SQL expressions allowed).
    Returns False when the row was not in an expected state (another process moved it first).
    Raises InvalidTransitionError when a transition is not allowed at all.
    """
    target = ti_state_or_none(target)
    expected_states = _as_state_set(expected)
    if len(expected_states) > 1:
        expected_states.discard(target)
        if not expected_states:
            return False
    for state in expected_states:
        check_ti_transition(state, target, by_user=by_user)
    values = dict(values or {})
    unknown = set(values) - _COLUMNS
    if unknown or _PROTECTED & set(values):
        bad = sorted(unknown | (_PROTECTED & set(values)))
        raise TradewindError(f"transition of {key}: cannot set task_instance column(s) {', '.join(bad)}")
    conditions = [*_key_filter(key), state_filter(expected_states)]
    if try_number is not None:
        conditions.append(TaskInstanceModel.try_number == try_number)
    stmt = (
        update(TaskInstanceModel)
        .where(*conditions)
        .values(state=target.value if target is not None else None, **values)
        .execution_options(synchronize_session="fetch")
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


#: Task instances ``schedule_unstarted`` moves with one statement at most (bound parameters stay few).
SCHEDULE_BATCH = 500


def schedule_unstarted(*, session: Session, ids: Sequence[int], now: datetime) -> set[int]:
    """Compare-and-set each of ``ids`` from no state to scheduled (``scheduled_at`` = ``now``), in one
    statement per ``SCHEDULE_BATCH``; the ids moved (one another process moved first is left out). Planning
    decides many instances ready in one pass (a wide fan-out's first): one statement each cost ~1 ms."""
    check_ti_transition(None, TaskInstanceState.SCHEDULED)
    table = TaskInstanceModel.__table__
    assert isinstance(table, Table)
    moved: set[int] = set()
    for start in range(0, len(ids), SCHEDULE_BATCH):
        chunk = list(ids[start : start + SCHEDULE_BATCH])
        stmt = (
            update(table)
            .where(table.c.id.in_(chunk), table.c.state.is_(None))
            .values(state=TaskInstanceState.SCHEDULED.value, scheduled_at=now)
            .returning(table.c.id)
        )
        moved.update(session.execute(stmt).scalars())
    return moved


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """What a claim answers with from the task instance row it moved to running."""

    max_tries: int
    next_method: str | None
    next_kwargs: dict[str, Any] | None


def claim_queued(
    *, session: Session, key: TaskInstanceKey, try_number: int, values: dict[str, Any]
) -> ClaimedRow | None:
    """Compare-and-set queued -> running at ``try_number`` (``values``: further columns) and read what the
    claim needs, in one statement (UPDATE ... RETURNING, no ORM objects: this runs once per try). None when
    the row was not queued at that try; ``get_task_instance`` then tells why."""
    check_ti_transition(TaskInstanceState.QUEUED, TaskInstanceState.RUNNING)
    params = {**values, **key_params(key), "k_try_number": try_number}
    row = session.execute(_claim_statement(tuple(sorted(values))), params).one_or_none()
    if row is None:
        return None
    return ClaimedRow(max_tries=row.max_tries, next_method=row.next_method, next_kwargs=row.next_kwargs)


@functools.cache
def _claim_statement(columns: tuple[str, ...]) -> Update:
    """The claim's UPDATE on the table, built once per set of columns: a Core statement built once skips
    what an ORM statement built per call costs (its construction, cache key and ORM bulk-update steps: about
    0.6 ms of the API server's CPU per try)."""
    table = TaskInstanceModel.__table__
    assert isinstance(table, Table)
    c = table.c
    return (
        update(table)
        .where(
            *key_clauses(table),
            c.state == TaskInstanceState.QUEUED.value,
            c.try_number == bindparam("k_try_number"),
        )
        .values(
            state=TaskInstanceState.RUNNING.value,
            **{name: bindparam(name, type_=c[name].type) for name in columns},
        )
        .returning(c.max_tries, c.next_method, c.next_kwargs)
    )


def heartbeat(*, session: Session, key: TaskInstanceKey, try_number: int, now: datetime) -> bool:
    """Record that the runner of this try is alive; False when the try is no longer the caller's to run
    (the row moved to another try or out of running), which tells the runner to stop the task."""
    stmt = (
        update(TaskInstanceModel)
        .where(
            *_key_filter(key),
            TaskInstanceModel.try_number == try_number,
            TaskInstanceModel.state == TaskInstanceState.RUNNING,
        )
        .values(last_heartbeat_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


def mark_task_instance(
    *,
    session: Session,
    key: TaskInstanceKey,
    state: TaskInstanceState | str,
    now: datetime,
    by_user: bool = True,
) -> bool:
    """Set a final state (success, failed, skipped) as a user does from the UI, API or CLI; False if the
    task instance is in that state already or moved meanwhile."""
    state = TaskInstanceState(state)
    ti = get_task_instance(session=session, key=key)
    current = ti_state_or_none(ti.state)
    if current == state:
        return False
    start = ti.start_date or now
    return transition(
        session=session,
        key=key,
        expected=current,
        target=state,
        by_user=by_user,
        values={
            "start_date": start,
            "end_date": now,
            "duration": (now - start).total_seconds(),
            **DEFERRAL_CLEARED,
        },
    )


#: The states ``only_failed`` clears.
CLEARABLE_FAILED = frozenset({TaskInstanceState.FAILED.value, TaskInstanceState.UPSTREAM_FAILED.value})


def _checked_scope(sdag: SerializedDag, task_ids: Collection[str], *, include_downstream: bool) -> set[str]:
    """``core.setup_teardown.clear_scope`` of ``task_ids``; NotFoundError names a task the DAG lacks."""
    missing = sorted(set(task_ids) - set(sdag.task_dict))
    if missing:
        raise NotFoundError(
            f"DAG {sdag.dag_id!r} has no task(s) {', '.join(missing)}", kind="task", ident=missing[0]
        )
    return clear_scope(sdag, task_ids, include_downstream=include_downstream)


def clear_targets(
    *,
    session: Session,
    sdag: SerializedDag,
    run_id: str,
    task_ids: Collection[str],
    include_downstream: bool,
    only_failed: bool = False,
) -> list[TaskInstanceModel]:
    """The task instances of one run a clear of ``task_ids`` affects, in task order: the tasks chosen by
    ``core.setup_teardown.clear_scope`` (downstream tasks if asked, and the setups and teardowns a cleared
    task goes with), those with a state (one without has nothing to reset), and with ``only_failed`` only
    failed and upstream_failed ones. The one place that choice is made: the UI, the REST APIs and
    ``tasks clear`` show and clear what this returns. NotFoundError names a task the DAG does not have."""
    wanted = _checked_scope(sdag, task_ids, include_downstream=include_downstream)
    tis, _ = list_task_instances(session=session, dag_id=sdag.dag_id, run_id=run_id, task_ids=wanted)
    chosen = [ti for ti in tis if ti.state is not None and (not only_failed or ti.state in CLEARABLE_FAILED)]
    order = {t.task_id: i for i, t in enumerate(sdag.tasks)}
    chosen.sort(key=lambda ti: (order.get(ti.task_id, 0), ti.map_index))
    return chosen


def clear_task_instances(
    *,
    session: Session,
    dag_id: str,
    run_id: str,
    task_ids: Collection[str],
    include_downstream: bool,
    sdag: SerializedDag,
    now: datetime,
    only_failed: bool = False,
    depth: int = 0,
) -> list[TaskInstanceKey]:
    """Make tasks run again, as Airflow's clear does: keep each finished try in the history, reset the
    state to none, keep ``try_number`` and grant the task's retries again (``max_tries = try_number +
    retries``), delete their XComs, and queue the run again if it had finished. Their task state store
    keys are kept, as in Airflow: a task cleared to run again reads what its earlier tries stored.

    The task instances are those ``clear_targets`` chooses. A cleared ExternalTaskMarker clears its
    external task (with downstream) in the other DAG's run at the same logical date, and so on up to the
    marker's ``recursion_depth``; ``depth`` counts the DAGs crossed so far. The keys returned include
    those of other DAGs."""
    targets = clear_targets(
        session=session,
        sdag=sdag,
        run_id=run_id,
        task_ids=task_ids,
        include_downstream=include_downstream,
        only_failed=only_failed,
    )
    cleared: list[TaskInstanceKey] = []
    for ti in targets:
        if _clear_one(session, ti, sdag):
            cleared.append(TaskInstanceKey.of(ti))
    # XComs go, and ExternalTaskMarkers are followed, for every task in the scope; with only_failed, for
    # the failed ones only.
    scope = _checked_scope(sdag, task_ids, include_downstream=include_downstream)
    touched = sorted({ti.task_id for ti in targets} if only_failed else scope)
    delete_xcoms(session=session, dag_id=dag_id, run_id=run_id, task_ids=touched)
    set_dag_run_state(
        session=session,
        dag_id=dag_id,
        run_id=run_id,
        expected={DagRunState.SUCCESS, DagRunState.FAILED},
        target=DagRunState.QUEUED,
        now=now,
    )
    for task_id in touched:
        marker = sdag.task_dict[task_id].model_extra or {}
        if "external_marker" in marker:
            cleared += _clear_marked(session, dag_id, run_id, task_id, marker["external_marker"], now, depth)
    return cleared


def _clear_marked(
    session: Session,
    dag_id: str,
    run_id: str,
    task_id: str,
    marker: dict[str, Any],
    now: datetime,
    depth: int,
) -> list[TaskInstanceKey]:
    """An ExternalTaskMarker was cleared: clear its external task and that task's downstream in the external
    DAG's run at the same logical date (none: nothing to clear), following markers there in turn."""
    limit = int(marker.get("recursion_depth", 10))
    if depth >= limit:
        raise TradewindError(
            f"ExternalTaskMarker {task_id!r} of DAG {dag_id!r}: clearing across DAGs went {depth} DAGs deep, "
            f"its recursion_depth of {limit} (a cycle of markers, or a chain deeper than allowed)"
        )
    logical_date = session.scalar(
        select(DagRunModel.logical_date).where(DagRunModel.dag_id == dag_id, DagRunModel.run_id == run_id)
    )
    external_dag = str(marker["dag_id"])
    external_run = session.scalar(
        select(DagRunModel.run_id).where(
            DagRunModel.dag_id == external_dag, DagRunModel.logical_date == logical_date
        )
    )
    if external_run is None:
        return []
    try:
        external_sdag = get_serialized_dag(session=session, dag_id=external_dag)
    except NotFoundError:
        return []
    if marker["task_id"] not in external_sdag.task_dict:
        return []
    return clear_task_instances(
        session=session, dag_id=external_dag, run_id=external_run, task_ids=[str(marker["task_id"])],
        include_downstream=True, sdag=external_sdag, now=now, depth=depth + 1,
    )  # fmt: skip


def _clear_one(session: Session, ti: TaskInstanceModel, sdag: SerializedDag) -> bool:
    for _attempt in range(3):  # the row may move under us (runner finishing); re-read and retry
        current = ti_state_or_none(ti.state)
        if current is None:
            return True
        if current is not TaskInstanceState.SCHEDULED and ti.try_number > 0:
            archive_try(session=session, ti=ti)
        retries = sdag.task_dict[ti.task_id].retries or 0
        moved = transition(
            session=session,
            key=TaskInstanceKey.of(ti),
            expected=current,
            target=None,
            by_user=True,
            values={
                "max_tries": ti.try_number + retries,
                "start_date": None,
                "end_date": None,
                "duration": None,
                "scheduled_at": None,
                "queued_at": None,
                "next_retry_at": None,
                "next_poke_at": None,
                **DEFERRAL_CLEARED,
                "hostname": None,
                "pid": None,
                "external_executor_id": None,
                "last_heartbeat_at": None,
                "state_reason": None,
            },
        )
        if moved:
            return True
        session.refresh(ti)
    return False
