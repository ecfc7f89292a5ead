"""Identity of a task instance."""

from __future__ import annotations

from typing import NamedTuple


class TaskInstanceKey(NamedTuple):
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1

    def __str__(self) -> str:
        suffix = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"{self.dag_id}.{self.task_id}{suffix} @ {self.run_id}"


class TaskTryKey(NamedTuple):
    """One try of one task instance: what an executor runs and reports on."""

    ti: TaskInstanceKey
    try_number: int

    def __str__(self) -> str:
        return f"{self.ti} try {self.try_number}"
