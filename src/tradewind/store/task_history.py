"""Task-instance try history: finished tries archived before a retry or clear reuses the row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.sdk.errors import NotFoundError
from tradewind.store.tables import TaskInstanceHistoryModel, TaskInstanceModel
from tradewind.store.upsert import insert_or_ignore

_TRY_COLUMNS = ("dag_id", "run_id", "task_id", "map_index", "try_number")
_COPIED = (
    "state",
    "start_date",
    "end_date",
    "duration",
    "hostname",
    "executor",
    "external_executor_id",
    "state_reason",
)


@dataclass(frozen=True, slots=True)
class TryInfo:
    """One try of a task instance, archived or current."""

    try_number: int
    state: str | None
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    hostname: str | None
    executor: str | None
    external_executor_id: str | None
    state_reason: str | None
    is_current: bool


def archive_try(*, session: Session, ti: TaskInstanceModel) -> bool:
    """Copy the task instance's current try into the history; False if that try was archived already
    (or the task instance has not had a try yet)."""
    if ti.try_number <= 0:
        return False
    values = {name: getattr(ti, name) for name in (*_TRY_COLUMNS, *_COPIED)}
    return insert_or_ignore(session, TaskInstanceHistoryModel, values, _TRY_COLUMNS)


def _info(row: TaskInstanceModel | TaskInstanceHistoryModel, *, is_current: bool) -> TryInfo:
    return TryInfo(
        try_number=row.try_number,
        is_current=is_current,
        **{name: getattr(row, name) for name in _COPIED},
    )


def list_tries(*, session: Session, key: TaskInstanceKey) -> list[TryInfo]:
    """Every try of the task instance, oldest first: the archived ones, then the current one unless it is
    archived already (a cleared task instance keeps its last try number until it is queued again)."""
    history = session.scalars(
        select(TaskInstanceHistoryModel)
        .where(
            TaskInstanceHistoryModel.dag_id == key.dag_id,
            TaskInstanceHistoryModel.run_id == key.run_id,
            TaskInstanceHistoryModel.task_id == key.task_id,
            TaskInstanceHistoryModel.map_index == key.map_index,
        )
        .order_by(TaskInstanceHistoryModel.try_number)
    ).all()
    current = session.scalars(
        select(TaskInstanceModel).where(
            TaskInstanceModel.dag_id == key.dag_id,
            TaskInstanceModel.run_id == key.run_id,
            TaskInstanceModel.task_id == key.task_id,
            TaskInstanceModel.map_index == key.map_index,
        )
    ).one_or_none()
    if current is None and not history:
        raise NotFoundError(f"task instance {key} does not exist", kind="task_instance", ident=str(key))
    tries = [_info(row, is_current=False) for row in history]
    archived = {row.try_number for row in history}
    if current is not None and current.try_number > 0 and current.try_number not in archived:
        tries.append(_info(current, is_current=True))
    return tries
