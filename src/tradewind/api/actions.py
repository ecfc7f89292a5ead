"""What users change through the UI and the API: trigger, clear, mark, run state, pause, delete. Each
action runs in one transaction and leaves an entry in the audit log. Only rows are written: the scheduler
picks up queued runs and cleared tasks from the database."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.auth import Principal
from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.redaction import redact
from tradewind.core.run_inputs import DEFAULT_ALLOWED_RUN_ID_PATTERN
from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.setup_teardown import clear_scope
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.sdk.errors import NotFoundError
from tradewind.store import dag_runs, dags, run_creation, task_instances
from tradewind.store.audit import record_audit
from tradewind.store.engine import transaction
from tradewind.store.tables import DagModel, DagRunModel

TI = TaskInstanceState
FAILED_STATES = frozenset({TI.FAILED.value, TI.UPSTREAM_FAILED.value})
UNFINISHED_STATES: frozenset[TI | None] = frozenset(
    {None, TI.SCHEDULED, TI.QUEUED, TI.RUNNING, TI.UP_FOR_RETRY, TI.UP_FOR_RESCHEDULE, TI.DEFERRED}
)


def trigger(
    factory: sessionmaker[Session],
    principal: Principal,
    *,
    dag_id: str,
    conf: dict[str, Any] | None,
    run_id: str | None = None,
    logical_date: datetime | None = None,
    note: str | None = None,
    allowed_run_id_pattern: str = DEFAULT_ALLOWED_RUN_ID_PATTERN,
) -> DagRunModel:
    """A queued manual run; conf is validated against the DAG's params (ParamValidationError), a refused
    run id, logical date or conf raises RefusedInputError."""
    now = utcnow()
    with transaction(factory) as session:
        run = run_creation.trigger_run(
            session=session,
            dag_id=dag_id,
            now=now,
            conf=conf or {},
            run_id=run_id or None,
            logical_date=logical_date,
            triggered_by=principal.username,
            allowed_run_id_pattern=allowed_run_id_pattern,
        )
        if note:
            run.note = note
        record_audit(
            session=session,
            event="trigger",
            owner=principal.username,
            dag_id=dag_id,
            run_id=run.run_id,
            extra={"conf": redact(conf or {})},
            now=now,
        )
        session.flush()
        return run


def set_paused(
    factory: sessionmaker[Session], principal: Principal, *, dag_id: str, is_paused: bool
) -> DagModel:
    now = utcnow()
    with transaction(factory) as session:
        dag = dags.set_paused(session=session, dag_id=dag_id, is_paused=is_paused)
        record_audit(
            session=session,
            event="pause" if is_paused else "unpause",
            owner=principal.username,
            dag_id=dag_id,
            now=now,
        )
        return dag


def delete_dag(factory: sessionmaker[Session], principal: Principal, *, dag_id: str) -> int:
    """Delete the DAG's metadata (runs, task instances, XComs, serialized form); returns the runs deleted.
    A DAG whose file still exists comes back at the next parse, without its history."""
    now = utcnow()
    with transaction(factory) as session:
        runs = dags.delete_dag(session=session, dag_id=dag_id)
        record_audit(
            session=session,
            event="delete_dag",
            owner=principal.username,
            dag_id=dag_id,
            extra={"runs": runs},
            now=now,
        )
        return runs


def _targets(
    session: Session,
    sdag: SerializedDag,
    *,
    run_id: str,
    task_ids: Collection[str] | None,
    include_downstream: bool,
    only_failed: bool,
) -> list[TaskInstanceKey]:
    """The task instances a clear would reset (those with a state), in task order."""
    dag_runs.get_dag_run(session=session, dag_id=sdag.dag_id, run_id=run_id)
    wanted = set(sdag.task_dict) if task_ids is None else set(task_ids)
    missing = sorted(wanted - set(sdag.task_dict))
    if missing:
        raise NotFoundError(
            f"DAG {sdag.dag_id!r} has no task(s) {', '.join(missing)}", kind="task", ident=missing[0]
        )
    wanted = clear_scope(sdag, wanted, include_downstream=include_downstream)
    tis, _ = task_instances.list_task_instances(
        session=session, dag_id=sdag.dag_id, run_id=run_id, task_ids=wanted
    )
    order = {t.task_id: i for i, t in enumerate(sdag.tasks)}
    chosen = [ti for ti in tis if ti.state is not None and (not only_failed or ti.state in FAILED_STATES)]
    chosen.sort(key=lambda ti: (order.get(ti.task_id, 0), ti.map_index))
    return [task_instances.key_of(ti) for ti in chosen]


def clear(
    factory: sessionmaker[Session],
    principal: Principal,
    sdag: SerializedDag,
    *,
    run_id: str,
    task_ids: Collection[str] | None,
    include_downstream: bool = False,
    only_failed: bool = False,
    dry_run: bool = False,
) -> list[TaskInstanceKey]:
    """Clear tasks of a run (all of them when ``task_ids`` is None) so the scheduler runs them again.
    With ``dry_run`` nothing changes and the task instances that would be cleared are returned."""
    now = utcnow()
    with transaction(factory) as session:
        keys = _targets(
            session,
            sdag,
            run_id=run_id,
            task_ids=task_ids,
            include_downstream=include_downstream,
            only_failed=only_failed,
        )
        if dry_run or not keys:
            return keys
        cleared = task_instances.clear_task_instances(
            session=session,
            dag_id=sdag.dag_id,
            run_id=run_id,
            task_ids=sorted({k.task_id for k in keys}),
            include_downstream=False,
            sdag=sdag,
            now=now,
            with_setups_and_teardowns=False,
        )
        record_audit(
            session=session,
            event="clear",
            owner=principal.username,
            dag_id=sdag.dag_id,
            run_id=run_id,
            task_id=next(iter(task_ids)) if task_ids is not None and len(task_ids) == 1 else None,
            extra={
                "task_ids": sorted({k.task_id for k in cleared}),
                "include_downstream": include_downstream,
                "only_failed": only_failed,
            },
            now=now,
        )
        return cleared


def mark(
    factory: sessionmaker[Session],
    principal: Principal,
    *,
    key: TaskInstanceKey,
    state: TaskInstanceState,
    dry_run: bool = False,
) -> bool:
    """Set a task instance to success, failed or skipped; False when it already was in that state."""
    now = utcnow()
    with transaction(factory) as session:
        ti = task_instances.get_task_instance(session=session, key=key)
        if dry_run:
            return ti.state != state.value
        changed = task_instances.mark_task_instance(session=session, key=key, state=state, now=now)
        if changed:
            record_audit(
                session=session,
                event=f"mark_{state.value}",
                owner=principal.username,
                dag_id=key.dag_id,
                run_id=key.run_id,
                task_id=key.task_id,
                extra={"map_index": key.map_index} if key.map_index >= 0 else None,
                now=now,
            )
        return changed


def set_run_state(
    factory: sessionmaker[Session], principal: Principal, *, dag_id: str, run_id: str, state: DagRunState
) -> DagRunModel:
    """Mark a run success (its unfinished tasks too), failed (running tasks failed, waiting ones skipped),
    or queued (the scheduler takes it up again)."""
    now = utcnow()
    with transaction(factory) as session:
        run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=run_id)
        if state is not DagRunState.QUEUED:
            tis, _ = task_instances.list_task_instances(
                session=session, dag_id=dag_id, run_id=run_id, states=UNFINISHED_STATES
            )
            for ti in tis:
                if state is DagRunState.SUCCESS:
                    target = TI.SUCCESS
                else:
                    target = TI.FAILED if ti.state == TI.RUNNING.value else TI.SKIPPED
                task_instances.mark_task_instance(
                    session=session, key=task_instances.key_of(ti), state=target, now=now
                )
        dag_runs.set_dag_run_state(
            session=session, dag_id=dag_id, run_id=run_id, expected=None, target=state, now=now
        )
        record_audit(
            session=session,
            event=f"run_{state.value}",
            owner=principal.username,
            dag_id=dag_id,
            run_id=run_id,
            now=now,
        )
        session.refresh(run)
        return run
