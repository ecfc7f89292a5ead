"""The task runtime: how DAG code reaches variables, XComs and branch skips while a task runs.

The runner installs an implementation with ``set_runtime()`` (a database-backed one, later an execution API
client); ``dags test`` and the tests use ``InMemoryRuntime``. The installed runtime lives in a context
variable: a thread started by task code sees it only if started with ``contextvars.copy_context().run``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final, Protocol

from tradewind.sdk.errors import TradewindError


class _Absent:
    def __repr__(self) -> str:
        return "XCOM_ABSENT"

    def __bool__(self) -> bool:
        return False


#: What ``TaskRuntime.xcom_pull`` returns when there is no such XCom.
XCOM_ABSENT: Final = _Absent()


class TaskRuntime(Protocol):
    def get_variable(self, key: str) -> str | None:
        """The stored value, or None if there is no such variable."""

    def set_variable(self, key: str, value: str, description: str | None = None) -> None: ...

    def delete_variable(self, key: str) -> None: ...

    def xcom_push(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        """Store a JSON-serialisable value, replacing one with the same identity."""

    def xcom_pull(self, *, dag_id: str, run_id: str, task_id: str, key: str, map_index: int | None) -> Any:
        """One value; with ``map_index=None`` the single value of an unmapped task, or the list of every map
        index's value (ordered by index) of a mapped one. ``XCOM_ABSENT`` when there is none."""

    def skip_tasks(self, *, dag_id: str, run_id: str, task_ids: Sequence[str]) -> None:
        """Mark these tasks of the run skipped (every map index of a mapped one)."""


_runtime: ContextVar[TaskRuntime | None] = ContextVar("tradewind_task_runtime", default=None)


def set_runtime(runtime: TaskRuntime | None) -> None:
    """Install the runtime task code uses (None removes it)."""
    _runtime.set(runtime)


def get_runtime() -> TaskRuntime:
    runtime = _runtime.get()
    if runtime is None:
        raise TradewindError(
            "no task runtime is installed: Variables, XComs and branch skips work only while a task runs "
            "(under `tradewind tasks run` or `tradewind dags test`), or after set_runtime(...)"
        )
    return runtime


@contextmanager
def use_runtime(runtime: TaskRuntime) -> Iterator[TaskRuntime]:
    """Install ``runtime`` for the duration of the block."""
    token = _runtime.set(runtime)
    try:
        yield runtime
    finally:
        _runtime.reset(token)


class InMemoryRuntime:
    """A real, fast runtime kept in dicts. XCom values go through JSON like the stored ones do."""

    def __init__(self, variables: dict[str, str] | None = None) -> None:
        self.variables: dict[str, str] = dict(variables or {})
        self.descriptions: dict[str, str | None] = {}
        self.xcoms: dict[tuple[str, str, str, int, str], str] = {}
        self.skipped: dict[tuple[str, str], list[str]] = {}

    def get_variable(self, key: str) -> str | None:
        return self.variables.get(key)

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        self.variables[key] = value
        self.descriptions[key] = description

    def delete_variable(self, key: str) -> None:
        self.variables.pop(key, None)
        self.descriptions.pop(key, None)

    def xcom_push(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        try:
            encoded = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TradewindError(
                f"XCom {key!r} of task {task_id!r} is not JSON-serialisable: {type(value).__name__} ({exc})"
            ) from exc
        self.xcoms[(dag_id, run_id, task_id, map_index, key)] = encoded

    def xcom_pull(self, *, dag_id: str, run_id: str, task_id: str, key: str, map_index: int | None) -> Any:
        if map_index is not None:
            encoded = self.xcoms.get((dag_id, run_id, task_id, map_index, key))
            return XCOM_ABSENT if encoded is None else json.loads(encoded)
        mapped = sorted(
            (k[3], v)
            for k, v in self.xcoms.items()
            if k[:3] == (dag_id, run_id, task_id) and k[4] == key and k[3] >= 0
        )
        if mapped:
            return [json.loads(v) for _, v in mapped]
        encoded = self.xcoms.get((dag_id, run_id, task_id, -1, key))
        return XCOM_ABSENT if encoded is None else json.loads(encoded)

    def skip_tasks(self, *, dag_id: str, run_id: str, task_ids: Sequence[str]) -> None:
        done = self.skipped.setdefault((dag_id, run_id), [])
        done.extend(t for t in task_ids if t not in done)

    def clear_xcoms(self, *, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> None:
        """Drop a try's XComs before it runs again, as the runner does on retry."""
        for k in [k for k in self.xcoms if k[:4] == (dag_id, run_id, task_id, map_index)]:
            del self.xcoms[k]
