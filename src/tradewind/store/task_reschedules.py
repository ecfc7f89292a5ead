"""The reschedules of sensor tries: recorded when a poke finds its condition false in reschedule mode."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.store.tables import TaskRescheduleModel


def record_reschedule(
    *,
    session: Session,
    key: TaskInstanceKey,
    try_number: int,
    start_date: datetime,
    end_date: datetime,
    reschedule_date: datetime,
) -> None:
    session.add(
        TaskRescheduleModel(
            dag_id=key.dag_id,
            run_id=key.run_id,
            task_id=key.task_id,
            map_index=key.map_index,
            try_number=try_number,
            start_date=start_date,
            end_date=end_date,
            duration=(end_date - start_date).total_seconds(),
            reschedule_date=reschedule_date,
        )
    )


def _of(key: TaskInstanceKey) -> list[ColumnElement[bool]]:
    return [
        TaskRescheduleModel.dag_id == key.dag_id,
        TaskRescheduleModel.run_id == key.run_id,
        TaskRescheduleModel.task_id == key.task_id,
        TaskRescheduleModel.map_index == key.map_index,
    ]


def reschedule_summary(
    *, session: Session, key: TaskInstanceKey, try_number: int
) -> tuple[int, datetime | None]:
    """How many times this try was rescheduled, and when its first poke started (None: never)."""
    count, first = session.execute(
        select(func.count(TaskRescheduleModel.id), func.min(TaskRescheduleModel.start_date)).where(
            *_of(key), TaskRescheduleModel.try_number == try_number
        )
    ).one()
    return int(count), first


def list_reschedules(*, session: Session, key: TaskInstanceKey) -> list[TaskRescheduleModel]:
    """Every reschedule of the task instance, oldest first (the UI's list)."""
    return list(
        session.scalars(
            select(TaskRescheduleModel)
            .where(*_of(key))
            .order_by(TaskRescheduleModel.try_number, TaskRescheduleModel.id)
        )
    )
