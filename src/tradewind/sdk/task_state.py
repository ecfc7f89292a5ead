"""``task_state_store`` in a task's context: JSON values one task instance keeps under its own keys.

The values outlive the try that wrote them: a retry (and a cleared task instance running again) reads what
an earlier try stored, e.g. the id of an external job to re-attach to instead of submitting it twice. Each
map index of a mapped task has its own keys; another task, or another run, never sees them. Every call goes
through the installed task runtime (the runner's database-backed one, or ``InMemoryRuntime``).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.sdk.errors import TaskStateValueError
from tradewind.sdk.runtime import get_runtime

#: ``retention=NEVER_EXPIRE``: the value is never removed by a clean-up.
NEVER_EXPIRE: timedelta = timedelta.max
#: How long a value is kept after its last write when ``set`` is given no ``retention`` (Airflow's default).
DEFAULT_RETENTION = timedelta(days=30)


class TaskStateStore:
    """The state of one task instance (run, task, map index); ``get``/``set``/``delete``/``clear`` and their
    ``a``-prefixed coroutine twins for ``async def`` tasks."""

    def __init__(self, *, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> None:
        self.dag_id = dag_id
        self.run_id = run_id
        self.task_id = task_id
        self.map_index = map_index

    def __repr__(self) -> str:
        suffix = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"<TaskStateStore {self.dag_id}.{self.task_id}{suffix} {self.run_id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskStateStore) and self._scope() == other._scope()

    def __hash__(self) -> int:
        return hash(tuple(self._scope().values()))

    def _scope(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "task_id": self.task_id,
            "map_index": self.map_index,
        }

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default`` when there is none."""
        value = get_runtime().get_task_state(**self._scope(), key=key)
        return default if value is None else value

    def set(self, key: str, value: Any, *, retention: timedelta | None = None) -> None:
        """Store ``value`` (JSON: str, int, float, bool, list, dict; not None) under ``key``, replacing what
        was there. ``retention``: how long it is kept after this write (``NEVER_EXPIRE``: always; None: 30
        days). A datetime is not JSON: store ``value.isoformat()``."""
        _check_value(key, value)
        get_runtime().set_task_state(**self._scope(), key=key, value=value, expires_at=_expiry(retention))

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens when it is not there."""
        get_runtime().delete_task_state(**self._scope(), key=key)

    def clear(self) -> None:
        """Remove every key of this task instance."""
        get_runtime().clear_task_state(**self._scope())

    # asyncio.to_thread copies the context, so the installed runtime goes with the call.
    async def aget(self, key: str, default: Any = None) -> Any:
        return await asyncio.to_thread(self.get, key, default)

    async def aset(self, key: str, value: Any, *, retention: timedelta | None = None) -> None:
        _check_value(key, value)
        await asyncio.to_thread(self.set, key, value, retention=retention)

    async def adelete(self, key: str) -> None:
        await asyncio.to_thread(self.delete, key)

    async def aclear(self) -> None:
        await asyncio.to_thread(self.clear)


def _check_value(key: str, value: Any) -> None:
    if value is None:
        raise TaskStateValueError(f"task state store key {key!r}: the value must not be None (use delete)")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TaskStateValueError(
            f"task state store key {key!r}: {type(value).__name__} is not JSON-serialisable ({exc})"
        ) from None


def _expiry(retention: timedelta | None) -> datetime | None:
    if retention is NEVER_EXPIRE or retention == NEVER_EXPIRE:
        return None
    if retention is not None and not isinstance(retention, timedelta):
        raise TaskStateValueError(f"task state store retention must be a timedelta, got {retention!r}")
    return datetime.now(UTC) + (retention if retention is not None else DEFAULT_RETENTION)
