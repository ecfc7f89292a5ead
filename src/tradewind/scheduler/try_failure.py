"""What happens to a try whose compute ended without the runner recording an outcome: retry or fail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.retries import has_tries_left, next_retry_at
from tradewind.core.serialized_dag import SerializedTask
from tradewind.core.states import TaskInstanceState
from tradewind.store import task_history, task_instances
from tradewind.store.tables import TaskInstanceModel

TI = TaskInstanceState


def fail_try(
    *,
    session: Session,
    ti: TaskInstanceModel,
    task: SerializedTask | None,
    reason: str,
    now: datetime,
    allow_retry: bool = True,
) -> TaskInstanceState | None:
    """Move a queued or running try to up_for_retry or failed. Returns the new state, or None if the try
    changed under us (the runner or another scheduler got there first)."""
    current = TI(ti.state) if ti.state else None
    if current not in (TI.QUEUED, TI.RUNNING):
        return None
    retry = allow_retry and task is not None and has_tries_left(ti.try_number, ti.max_tries)
    target = TI.UP_FOR_RETRY if retry else TI.FAILED
    start = ti.start_date or now
    values: dict[str, object] = {
        "end_date": now,
        "duration": (now - start).total_seconds(),
        "state_reason": reason,
        "next_retry_at": next_retry_at(task, ti.try_number, now) if retry and task is not None else None,
    }
    key = TaskInstanceKey(ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
    changed = task_instances.transition(
        session=session, key=key, expected=current, target=target, try_number=ti.try_number, values=values
    )
    if not changed:
        return None
    session.refresh(ti)
    task_history.archive_try(session=session, ti=ti)
    return target


def reset_to_scheduled(*, session: Session, ti: TaskInstanceModel, reason: str) -> bool:
    """Give back a queued try that never started: scheduled again, without using a try."""
    key = TaskInstanceKey(ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
    return task_instances.transition(
        session=session,
        key=key,
        expected=TI.QUEUED,
        target=TI.SCHEDULED,
        try_number=ti.try_number,
        values={
            "try_number": max(0, ti.try_number - 1),
            "queued_at": None,
            "queued_by_job_id": None,
            "external_executor_id": None,
            "state_reason": reason,
        },
    )
