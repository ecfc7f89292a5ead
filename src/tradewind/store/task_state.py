"""The task state store: JSON values a task instance keeps under its own keys, across tries and clears."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from tradewind.core.clock import utcnow
from tradewind.store.tables import TaskStateModel
from tradewind.store.upsert import insert_or_update

_KEY_COLUMNS = ("dag_id", "run_id", "task_id", "map_index", "key")


@dataclass(frozen=True, slots=True)
class TaskScope:
    """The namespace of one task instance's state."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1


def _scope_filter(scope: TaskScope) -> list[ColumnElement[bool]]:
    return [
        TaskStateModel.dag_id == scope.dag_id,
        TaskStateModel.run_id == scope.run_id,
        TaskStateModel.task_id == scope.task_id,
        TaskStateModel.map_index == scope.map_index,
    ]


def get_task_state(*, session: Session, scope: TaskScope, key: str) -> Any | None:
    """The value stored under ``key``, or None when there is none (None itself is never stored)."""
    encoded = session.scalar(
        select(TaskStateModel.value).where(*_scope_filter(scope), TaskStateModel.key == key)
    )
    return None if encoded is None else json.loads(encoded)


def set_task_state(
    *,
    session: Session,
    scope: TaskScope,
    key: str,
    value: Any,
    expires_at: datetime | None,
    now: datetime | None = None,
) -> None:
    """Store (or replace) the value under ``key``. ``value`` must be JSON-serialisable and not None (the
    SDK checks it before it gets here)."""
    values = {
        "dag_id": scope.dag_id,
        "run_id": scope.run_id,
        "task_id": scope.task_id,
        "map_index": scope.map_index,
        "key": key,
        "value": json.dumps(value, allow_nan=False),
        "updated_at": now or utcnow(),
        "expires_at": expires_at,
    }
    insert_or_update(session, TaskStateModel, values, _KEY_COLUMNS, ("value", "updated_at", "expires_at"))


def delete_task_state(*, session: Session, scope: TaskScope, key: str) -> None:
    session.execute(delete(TaskStateModel).where(*_scope_filter(scope), TaskStateModel.key == key))


def clear_task_state(*, session: Session, scope: TaskScope) -> None:
    """Delete every key of the task instance."""
    session.execute(delete(TaskStateModel).where(*_scope_filter(scope)))
