"""Identity of a task instance."""

from __future__ import annotations

from typing import NamedTuple, Protocol


class HasTaskInstanceKey(Protocol):
    """Anything naming one task instance: a stored row, a workload, an API body."""

    @property
    def dag_id(self) -> str: ...
    @property
    def run_id(self) -> str: ...
    @property
    def task_id(self) -> str: ...
    @property
    def map_index(self) -> int: ...


class TaskInstanceKey(NamedTuple):
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1

    @classmethod
    def of(cls, item: HasTaskInstanceKey) -> TaskInstanceKey:
        """The key of a row (or anything else with ``dag_id``, ``run_id``, ``task_id`` and ``map_index``)."""
        return cls(item.dag_id, item.run_id, item.task_id, item.map_index)

    def __str__(self) -> str:
        suffix = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"{self.dag_id}.{self.task_id}{suffix} @ {self.run_id}"


class TaskTryKey(NamedTuple):
    """One try of one task instance: what an executor runs and reports on."""

    ti: TaskInstanceKey
    try_number: int

    def __str__(self) -> str:
        return f"{self.ti} try {self.try_number}"
