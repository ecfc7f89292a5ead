"""What users change through the UI, the REST APIs and the command line: trigger, clear, mark, run state,
pause, delete. Each action runs in one transaction and leaves an entry in the audit log. Only rows are written: the scheduler
picks up queued runs and cleared tasks from the database, woken by the ring of the transaction that made them (ADR 0012)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradewind.actions.actor import Actor
from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.redaction import redact
from tradewind.core.run_inputs import DEFAULT_ALLOWED_RUN_ID_PATTERN
from tradewind.core.serialized_dag import SerializedDag
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.store import dag_runs, dags, task_instances
from tradewind.store import new_runs as run_creation
from tradewind.store.audit import record_audit
from tradewind.store.engine import transaction
from tradewind.store.tables import DagModel, DagRunModel
from tradewind.store.wakeup import DAG_PROCESSOR, ring

UNFINISHED_STATES: frozenset[TaskInstanceState | None] = frozenset(
    {
        None,
        TaskInstanceState.SCHEDULED,
        TaskInstanceState.QUEUED,
        TaskInstanceState.RUNNING,
        TaskInstanceState.UP_FOR_RETRY,
        TaskInstanceState.UP_FOR_RESCHEDULE,
        TaskInstanceState.DEFERRED,
    }
)


def trigger(
    factory: sessionmaker[Session],
    actor: Actor,
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
            triggered_by=actor.username,
            allowed_run_id_pattern=allowed_run_id_pattern,
        )
        if note:
            run.note = note
        record_audit(
            session=session,
            event="trigger",
            owner=actor.username,
            dag_id=dag_id,
            run_id=run.run_id,
            extra={"conf": redact(conf or {})},
            now=now,
        )
        session.flush()
        return run


def set_paused(factory: sessionmaker[Session], actor: Actor, *, dag_id: str, is_paused: bool) -> DagModel:
    now = utcnow()
    with transaction(factory) as session:
        dag = dags.set_paused(session=session, dag_id=dag_id, is_paused=is_paused)
        if not is_paused:
            ring(session)  # its due run, and the queued runs it held back, are work now
        record_audit(
            session=session,
            event="pause" if is_paused else "unpause",
            owner=actor.username,
            dag_id=dag_id,
            now=now,
        )
        return dag


def delete_dag(factory: sessionmaker[Session], actor: Actor, *, dag_id: str) -> int:
    """Delete the DAG's metadata (runs, task instances, XComs, serialized form); returns the runs deleted.
    A DAG whose file still exists comes back at the next parse, without its history."""
    now = utcnow()
    with transaction(factory) as session:
        runs = dags.delete_dag(session=session, dag_id=dag_id)
        ring(session, DAG_PROCESSOR)  # its file, if still there, is parsed again at once
        record_audit(
            session=session,
            event="delete_dag",
            owner=actor.username,
            dag_id=dag_id,
            extra={"runs": runs},
            now=now,
        )
        return runs


def clear(
    factory: sessionmaker[Session],
    actor: Actor,
    sdag: SerializedDag,
    *,
    run_id: str,
    task_ids: Collection[str] | None,
    include_downstream: bool = False,
    only_failed: bool = False,
    dry_run: bool = False,
    source: str | None = None,
) -> list[TaskInstanceKey]:
    """Clear tasks of a run (all of them when ``task_ids`` is None) so the scheduler runs them again; the
    task instances are those ``store.task_instances.clear_targets`` chooses. With ``dry_run`` nothing
    changes and the task instances that would be cleared are returned. ``source`` (``"cli"``) is recorded
    in the audit entry."""
    now = utcnow()
    with transaction(factory) as session:
        dag_runs.get_dag_run(session=session, dag_id=sdag.dag_id, run_id=run_id)
        targets = task_instances.clear_targets(
            session=session,
            sdag=sdag,
            run_id=run_id,
            task_ids=set(sdag.task_dict) if task_ids is None else task_ids,
            include_downstream=include_downstream,
            only_failed=only_failed,
        )
        keys = [TaskInstanceKey.of(ti) for ti in targets]
        if dry_run or not keys:
            return keys
        cleared = task_instances.clear_task_instances(
            session=session,
            dag_id=sdag.dag_id,
            run_id=run_id,
            task_ids=set(sdag.task_dict) if task_ids is None else task_ids,
            include_downstream=include_downstream,
            only_failed=only_failed,
            sdag=sdag,
            now=now,
        )
        ring(session)
        extra: dict[str, Any] = {
            "task_ids": sorted({k.task_id for k in cleared}),
            "include_downstream": include_downstream,
            "only_failed": only_failed,
        }
        if source is not None:
            extra["source"] = source
        record_audit(
            session=session,
            event="clear",
            owner=actor.username,
            dag_id=sdag.dag_id,
            run_id=run_id,
            task_id=next(iter(task_ids)) if task_ids is not None and len(task_ids) == 1 else None,
            extra=extra,
            now=now,
        )
        return cleared


def mark(
    factory: sessionmaker[Session],
    actor: Actor,
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
            ring(session)  # downstream tasks, and the run's state, are decided again
            record_audit(
                session=session,
                event=f"mark_{state.value}",
                owner=actor.username,
                dag_id=key.dag_id,
                run_id=key.run_id,
                task_id=key.task_id,
                extra={"map_index": key.map_index} if key.map_index >= 0 else None,
                now=now,
            )
        return changed


def set_run_state(
    factory: sessionmaker[Session], actor: Actor, *, dag_id: str, run_id: str, state: DagRunState
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
                    target = TaskInstanceState.SUCCESS
                else:
                    target = (
                        TaskInstanceState.FAILED
                        if ti.state == TaskInstanceState.RUNNING.value
                        else TaskInstanceState.SKIPPED
                    )
                task_instances.mark_task_instance(
                    session=session, key=TaskInstanceKey.of(ti), state=target, now=now
                )
        dag_runs.set_dag_run_state(
            session=session, dag_id=dag_id, run_id=run_id, expected=None, target=state, now=now
        )
        ring(session)
        record_audit(
            session=session,
            event=f"run_{state.value}",
            owner=actor.username,
            dag_id=dag_id,
            run_id=run_id,
            now=now,
        )
        session.refresh(run)
        return run
