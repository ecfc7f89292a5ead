"""What happens to a try whose compute ended without the runner recording an outcome: retry or fail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.serialized_dag import SerializedTask
from tradewind.core.states import TaskInstanceState
from tradewind.execution.try_ending import TryEnd, end_try
from tradewind.store import task_instances
from tradewind.store.tables import TaskInstanceModel


def fail_try(
    *,
    session: Session,
    ti: TaskInstanceModel,
    task: SerializedTask | None,
    reason: str,
    now: datetime,
    allow_retry: bool = True,
) -> TaskInstanceState | None:
    """Move a queued or running try whose process ended without a report to up_for_retry or failed, by the
    same rule as a runner's report of a failure. Returns the new state, or None if the try changed under us
    (the runner or another scheduler got there first)."""
    end = end_try(
        session=session, ti=ti, outcome="failed", task=task, now=now, reason=reason,
        expected=(TaskInstanceState.QUEUED, TaskInstanceState.RUNNING), allow_retry=allow_retry,
    )  # fmt: skip
    return end.state if isinstance(end, TryEnd) else None


def reset_to_scheduled(*, session: Session, ti: TaskInstanceModel, reason: str) -> bool:
    """Give back a queued try that never started: scheduled again, without using a try (a resuming deferred
    try was queued at its own try number, which it keeps)."""
    key = TaskInstanceKey.of(ti)
    return task_instances.transition(
        session=session,
        key=key,
        expected=TaskInstanceState.QUEUED,
        target=TaskInstanceState.SCHEDULED,
        try_number=ti.try_number,
        values={
            "try_number": ti.try_number if ti.next_method is not None else max(0, ti.try_number - 1),
            "queued_at": None,
            "queued_by_job_id": None,
            "external_executor_id": None,
            "state_reason": reason,
        },
    )
