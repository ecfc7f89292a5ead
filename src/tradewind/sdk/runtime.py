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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from tradewind.sdk.errors import ConflictError, TradewindError


class _Absent:
    def __repr__(self) -> str:
        return "XCOM_ABSENT"

    def __bool__(self) -> bool:
        return False


#: What ``TaskRuntime.xcom_pull`` returns when there is no such XCom.
XCOM_ABSENT: Final = _Absent()


@dataclass(frozen=True, slots=True)
class RescheduleHistory:
    """The reschedules of one try so far (a sensor in reschedule mode)."""

    count: int
    #: When the try's first poke started; None before its first reschedule.
    first_start: datetime | None


@dataclass(frozen=True, slots=True)
class TriggeredRun:
    dag_id: str
    run_id: str
    #: None when not known (a poll after a reschedule that was given no logical date).
    logical_date: datetime | None


class DagRunExists(ConflictError):
    """``trigger_dag_run`` was asked for a run id that exists (and not to reset it)."""

    def __init__(self, dag_id: str, run_id: str) -> None:
        super().__init__(f"DAG {dag_id!r} already has a run {run_id!r}")
        self.dag_id = dag_id
        self.run_id = run_id


class TaskRuntime(Protocol):
    def get_variable(self, key: str) -> str | None:
        """The stored value, or None if there is no such variable."""

    def set_variable(self, key: str, value: str, description: str | None = None) -> None: ...

    def delete_variable(self, key: str) -> None: ...

    def get_connection(self, conn_id: str) -> dict[str, Any] | None:
        """The connection's fields (``Connection.to_dict()``'s shape: conn_id, conn_type, description, host,
        login, password, schema, port, extra as a dict), or None if no backend defines it."""

    def xcom_push(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        """Store a JSON-serialisable value, replacing one with the same identity."""

    def xcom_pull(self, *, dag_id: str, run_id: str, task_id: str, key: str, map_index: int | None) -> Any:
        """One value; with ``map_index=None`` the single value of an unmapped task, or the list of every map
        index's value (ordered by index) of a mapped one. ``XCOM_ABSENT`` when there is none."""

    def skip_tasks(self, *, dag_id: str, run_id: str, task_ids: Sequence[str]) -> None:
        """Mark these tasks of the run skipped (every map index of a mapped one)."""

    # -- sensors and cross-DAG operators: narrow, data-only reads and one write ----------------------
    def reschedule_history(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
    ) -> RescheduleHistory: ...

    def dag_task_ids(self, *, dag_id: str) -> dict[str, str | None] | None:
        """Task id -> its task group id (None at the top), as the DAG was last parsed; None if no DAG."""

    def dag_run_states(self, *, dag_id: str, logical_dates: Sequence[datetime]) -> list[str]:
        """The states of the DAG's runs at these logical dates (one per run found)."""

    def task_instance_states(
        self, *, dag_id: str, logical_dates: Sequence[datetime], task_ids: Sequence[str]
    ) -> list[str]:
        """The state labels (``"none"`` for no state) of those tasks' instances (every map index) in the
        DAG's runs at these logical dates."""

    def trigger_dag_run(
        self,
        *,
        dag_id: str,
        run_id: str | None,
        logical_date: datetime | None,
        conf: dict[str, Any],
        reset_dag_run: bool,
        triggered_by: str,
    ) -> TriggeredRun:
        """Create a manual run (``DagRunExists`` if ``run_id`` exists and not ``reset_dag_run``; with it,
        the existing run is cleared and runs again)."""

    def dag_run_state(self, *, dag_id: str, run_id: str) -> str | None:
        """The run's state, or None if there is no such run."""

    # -- assets: a data-only read ---------------------------------------------------------------------
    def asset_events(
        self, *, name: str | None = None, uri: str | None = None, alias: str | None = None
    ) -> list[dict[str, Any]]:
        """The stored events of the asset named by ``name`` and/or ``uri`` (or those added through
        ``alias``), oldest first: dicts with id, name, uri, group, extra, timestamp (ISO text) and the
        source dag_id / task_id / run_id / map_index / alias_name."""

    def consumed_asset_events(self, *, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The events the run consumed (it was triggered by them), oldest first, as ``asset_events``."""

    def get_asset_state(self, *, name: str | None, uri: str | None, key: str) -> Any:
        """The asset state value under ``key`` of the asset named ``name`` (else by ``uri``), or None."""

    def set_asset_state(self, *, name: str | None, uri: str | None, key: str, value: Any) -> None: ...

    def delete_asset_state(self, *, name: str | None, uri: str | None, key: str) -> None: ...

    def clear_asset_state(self, *, name: str | None, uri: str | None) -> None: ...

    # -- the task state store (tradewind.sdk.task_state): one task instance's own keys ---------------
    def get_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str) -> Any:
        """The JSON value stored under ``key`` for that task instance, or None when there is none."""

    def set_task_state(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int,
        key: str,
        value: Any,
        expires_at: datetime | None,
    ) -> None:
        """Store (or replace) a JSON value (never None) under ``key``."""

    def delete_task_state(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str
    ) -> None: ...

    def clear_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int) -> None: ...


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
        #: conn_id -> fields, as ``TaskRuntime.get_connection`` returns them.
        self.connections: dict[str, dict[str, Any]] = {}
        self.descriptions: dict[str, str | None] = {}
        self.xcoms: dict[tuple[str, str, str, int, str], str] = {}
        self.skipped: dict[tuple[str, str], list[str]] = {}
        #: (dag_id, run_id, task_id, map_index) -> key -> JSON text: the task state store.
        self.task_states: dict[tuple[str, str, str, int], dict[str, str]] = {}
        #: Asset events ``asset_events`` reads (``dags test`` appends what the try's outlets produce).
        self.stored_asset_events: list[dict[str, Any]] = []
        #: (asset name or uri, key) -> JSON text: the asset state store.
        self.asset_states: dict[tuple[str, str], str] = {}
        #: (dag_id, run_id, task_id, map_index, try_number) -> start of each poke that was rescheduled.
        self.reschedules: dict[tuple[str, str, str, int, int], list[datetime]] = {}
        #: dag_id -> task id -> task group id: the DAGs cross-DAG sensors may look at.
        self.dags: dict[str, dict[str, str | None]] = {}
        #: (dag_id, run_id) -> (logical date, run state, task id -> state label).
        self.runs: dict[tuple[str, str], tuple[datetime, str, dict[str, str]]] = {}

    def get_variable(self, key: str) -> str | None:
        return self.variables.get(key)

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        self.variables[key] = value
        self.descriptions[key] = description

    def delete_variable(self, key: str) -> None:
        self.variables.pop(key, None)
        self.descriptions.pop(key, None)

    def get_connection(self, conn_id: str) -> dict[str, Any] | None:
        fields = self.connections.get(conn_id)
        return None if fields is None else {**fields, "conn_id": conn_id}

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

    # -- sensors and cross-DAG operators ------------------------------------------------------------
    def reschedule_history(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
    ) -> RescheduleHistory:
        starts = self.reschedules.get((dag_id, run_id, task_id, map_index, try_number), [])
        return RescheduleHistory(count=len(starts), first_start=min(starts) if starts else None)

    def dag_task_ids(self, *, dag_id: str) -> dict[str, str | None] | None:
        tasks = self.dags.get(dag_id)
        return None if tasks is None else dict(tasks)

    def dag_run_states(self, *, dag_id: str, logical_dates: Sequence[datetime]) -> list[str]:
        return [state for (d, _), (date, state, _) in self.runs.items() if d == dag_id and date in logical_dates]

    def task_instance_states(
        self, *, dag_id: str, logical_dates: Sequence[datetime], task_ids: Sequence[str]
    ) -> list[str]:
        return [
            tasks[t]
            for (d, _), (date, _, tasks) in self.runs.items()
            if d == dag_id and date in logical_dates
            for t in task_ids
            if t in tasks
        ]

    def trigger_dag_run(
        self,
        *,
        dag_id: str,
        run_id: str | None,
        logical_date: datetime | None,
        conf: dict[str, Any],
        reset_dag_run: bool,
        triggered_by: str,
    ) -> TriggeredRun:
        date = logical_date or datetime.now().astimezone()
        run_id = run_id or f"manual__{date.isoformat()}"
        if (dag_id, run_id) in self.runs and not reset_dag_run:
            raise DagRunExists(dag_id, run_id)
        tasks = {t: "none" for t in self.dags.get(dag_id, {})}
        self.runs[(dag_id, run_id)] = (date, "queued", tasks)
        return TriggeredRun(dag_id=dag_id, run_id=run_id, logical_date=date)

    def dag_run_state(self, *, dag_id: str, run_id: str) -> str | None:
        found = self.runs.get((dag_id, run_id))
        return None if found is None else found[1]

    # -- assets -------------------------------------------------------------------------------------
    def asset_events(
        self, *, name: str | None = None, uri: str | None = None, alias: str | None = None
    ) -> list[dict[str, Any]]:
        """Filters ``self.stored_asset_events`` (dicts as ``TaskRuntime.asset_events`` returns them)."""
        return [
            event
            for event in self.stored_asset_events
            if (name is None or event["name"] == name)
            and (uri is None or event["uri"] == uri)
            and (alias is None or event.get("source_alias_name") == alias)
        ]

    # -- the task state store -------------------------------------------------------------------------
    def get_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str) -> Any:
        encoded = self.task_states.get((dag_id, run_id, task_id, map_index), {}).get(key)
        return None if encoded is None else json.loads(encoded)

    def set_task_state(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int,
        key: str,
        value: Any,
        expires_at: datetime | None,
    ) -> None:
        encoded = json.dumps(value, allow_nan=False)
        self.task_states.setdefault((dag_id, run_id, task_id, map_index), {})[key] = encoded

    def delete_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str) -> None:
        self.task_states.get((dag_id, run_id, task_id, map_index), {}).pop(key, None)

    def clear_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int) -> None:
        self.task_states.pop((dag_id, run_id, task_id, map_index), None)

    def consumed_asset_events(self, *, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Always empty: ``dags test`` and in-memory runs are never asset-triggered."""
        return []

    def get_asset_state(self, *, name: str | None, uri: str | None, key: str) -> Any:
        encoded = self.asset_states.get((name or uri or "", key))
        return None if encoded is None else json.loads(encoded)

    def set_asset_state(self, *, name: str | None, uri: str | None, key: str, value: Any) -> None:
        self.asset_states[(name or uri or "", key)] = json.dumps(value, allow_nan=False)

    def delete_asset_state(self, *, name: str | None, uri: str | None, key: str) -> None:
        self.asset_states.pop((name or uri or "", key), None)

    def clear_asset_state(self, *, name: str | None, uri: str | None) -> None:
        for k in [k for k in self.asset_states if k[0] == (name or uri or "")]:
            del self.asset_states[k]
