"""The context a task runs with (what templates and ``**context`` see), built from plain values the runner
gives; ``ti``, the running task instance's view of XCom; and ``get_current_context()`` for code deep inside
a task that was not handed the context."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tradewind.sdk import macros
from tradewind.sdk.asset_events import InletEventAccessors, OutletEventAccessors, TriggeringAssetEvents
from tradewind.sdk.asset_state import AssetStateStoreAccessors
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import NoTaskContextError, NotFoundError
from tradewind.sdk.legacy_context import LegacyValues, PreviousSuccess, TaskContext
from tradewind.sdk.params import params_to_spec, resolve_params
from tradewind.sdk.runtime import XCOM_ABSENT, get_runtime
from tradewind.sdk.task_state import TaskStateStore
from tradewind.sdk.variable import _REQUIRED, Variable
from tradewind.sdk.xcom_arg import RETURN_VALUE_KEY

if TYPE_CHECKING:
    from tradewind.sdk.abstractoperator import AbstractOperator

Context = dict[str, Any]

_current_context: ContextVar[tuple[Context, ...]] = ContextVar("tradewind_task_context", default=())


@contextmanager
def set_current_context(context: Context) -> Iterator[Context]:
    """Make ``context`` what ``get_current_context()`` returns inside the block (the runner wraps each
    task's rendering and execution in it; blocks nest)."""
    token = _current_context.set((*_current_context.get(), context))
    try:
        yield context
    finally:
        _current_context.reset(token)


def get_current_context() -> Context:
    """The context of the task running now, from anywhere in its code (a helper a ``@task`` function
    calls, a PythonOperator callable). Raises NoTaskContextError outside a running task."""
    stack = _current_context.get()
    if not stack:
        raise NoTaskContextError(
            "get_current_context() was called outside a running task: the context exists only while a "
            "task's templates render and its execute() runs"
        )
    return stack[-1]


@dataclass
class DagRunContext:
    """``{{ dag_run.* }}``: the run a task instance belongs to."""

    dag_id: str
    run_id: str
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    run_type: str = "manual"
    conf: dict[str, Any] = field(default_factory=dict)
    start_date: datetime | None = None
    #: Set for DAG-level callbacks (the run has ended); None while tasks run.
    state: str | None = None
    end_date: datetime | None = None

    @property
    def external_trigger(self) -> bool:
        return self.run_type == "manual"


class RuntimeTaskInstance:
    """``ti`` / ``task_instance`` in the context: identity of the try, and XCom push and pull."""

    def __init__(
        self,
        *,
        task: AbstractOperator,
        dag_id: str,
        run_id: str,
        map_index: int = -1,
        try_number: int = 1,
        max_tries: int = 0,
    ) -> None:
        self.task = task
        self.dag_id = dag_id
        self.task_id = task.task_id
        self.run_id = run_id
        self.map_index = map_index
        self.try_number = try_number
        self.max_tries = max_tries

    def __repr__(self) -> str:
        suffix = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"<TaskInstance: {self.dag_id}.{self.task_id}{suffix} {self.run_id} try {self.try_number}>"

    def xcom_push(self, key: str, value: Any) -> None:
        get_runtime().xcom_push(
            dag_id=self.dag_id, run_id=self.run_id, task_id=self.task_id, map_index=self.map_index, key=key,
            value=value,
        )  # fmt: skip

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        key: str = RETURN_VALUE_KEY,
        map_indexes: int | Iterable[int] | None = None,
        default: Any = None,
        dag_id: str | None = None,
        run_id: str | None = None,
    ) -> Any:
        """One task id gives one value (a mapped task: the list of its map indexes' values, in order);
        a list of task ids gives the list of the values found. ``default`` when nothing is found."""
        if task_ids is None or isinstance(task_ids, str):
            return self._pull_one(task_ids or self.task_id, key, map_indexes, default, dag_id, run_id)
        values = [self._pull_one(t, key, map_indexes, XCOM_ABSENT, dag_id, run_id) for t in task_ids]
        found = [v for v in values if v is not XCOM_ABSENT]
        return found if found else default

    def _pull_one(
        self,
        task_id: str,
        key: str,
        map_indexes: int | Iterable[int] | None,
        default: Any,
        dag_id: str | None,
        run_id: str | None,
    ) -> Any:
        runtime = get_runtime()
        where = {
            "dag_id": dag_id or self.dag_id,
            "run_id": run_id or self.run_id,
            "task_id": task_id,
            "key": key,
        }
        if map_indexes is None and task_id == self.task_id and self.map_index >= 0:
            map_indexes = self.map_index  # a mapped task reading its own XCom means its own map index
        if map_indexes is None or isinstance(map_indexes, int):
            value = runtime.xcom_pull(**where, map_index=map_indexes)
            return default if value is XCOM_ABSENT else value
        values = [runtime.xcom_pull(**where, map_index=i) for i in map_indexes]
        found = [v for v in values if v is not XCOM_ABSENT]
        return found if found else default


class _VariableValues:
    def __init__(self, deserialize_json: bool) -> None:
        self._json = deserialize_json

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return Variable.get(key, deserialize_json=self._json)

    def __getitem__(self, key: str) -> Any:
        return Variable.get(key, deserialize_json=self._json)

    def get(self, key: str, default: Any = _REQUIRED) -> Any:
        return Variable.get(key, default_var=default, deserialize_json=self._json)


class VariableAccessor:
    """``{{ var.value.KEY }}``, ``{{ var.json.KEY.field }}``, ``{{ var.value.get("KEY", "fallback") }}``."""

    def __init__(self) -> None:
        self.value = _VariableValues(deserialize_json=False)
        self.json = _VariableValues(deserialize_json=True)


class ConnectionAccessor:
    """``{{ conn.my_db.host }}``, ``{{ conn.get("my_db").login }}`` (None, or ``default_conn``, if missing)."""

    def __getattr__(self, conn_id: str) -> Connection:
        if conn_id.startswith("__"):
            raise AttributeError(conn_id)
        return Connection.get(conn_id)

    def get(self, conn_id: str, default_conn: Any = None) -> Any:
        try:
            return Connection.get(conn_id)
        except NotFoundError:
            return default_conn


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def task_params(task: AbstractOperator, conf: Mapping[str, Any] | None) -> dict[str, Any]:
    """The params a task sees: the DAG's, overridden by the task's own, then by the run's conf (validated)."""
    declared: dict[str, Any] = dict(task.dag.params) if task.has_dag() else {}
    declared.update(task.params)
    return resolve_params(params_to_spec(declared), conf)


def build_context(
    *,
    task: AbstractOperator,
    run_id: str,
    logical_date: datetime,
    data_interval_start: datetime | None = None,
    data_interval_end: datetime | None = None,
    run_type: str = "manual",
    conf: Mapping[str, Any] | None = None,
    run_start_date: datetime | None = None,
    map_index: int = -1,
    try_number: int = 1,
    max_tries: int | None = None,
    params: Mapping[str, Any] | None = None,
    test_mode: bool = False,
    prev_data_interval_start_success: datetime | None = None,
    prev_data_interval_end_success: datetime | None = None,
    previous_success: Callable[[], PreviousSuccess | None] | None = None,
) -> Context:
    """The context dict for one try. ``params`` None: computed from the DAG, the task and ``conf``.

    Dates are UTC; ``ds`` and ``ts`` format the logical date in UTC, as Airflow does. Airflow 2's names
    (``execution_date``, ``next_ds`` ...) are computed when read (``previous_success`` finds the last
    successful run for ``prev_execution_date_success`` / ``prev_start_date_success``).
    """
    dag = task.dag
    logical = _utc(logical_date)
    start = _utc(data_interval_start) if data_interval_start is not None else logical
    end = _utc(data_interval_end) if data_interval_end is not None else logical
    dag_run = DagRunContext(
        dag_id=dag.dag_id, run_id=run_id, logical_date=logical, data_interval_start=start,
        data_interval_end=end, run_type=run_type, conf=dict(conf or {}), start_date=run_start_date,
    )  # fmt: skip
    ti = RuntimeTaskInstance(
        task=task, dag_id=dag.dag_id, run_id=run_id, map_index=map_index, try_number=try_number,
        max_tries=(task.retries or 0) if max_tries is None else max_tries,
    )  # fmt: skip
    ds = logical.strftime("%Y-%m-%d")
    ts = logical.isoformat()
    triggering = TriggeringAssetEvents(dag_id=dag.dag_id, run_id=run_id)
    legacy = LegacyValues(
        logical_date=logical, data_interval_start=start, data_interval_end=end,
        external_trigger=dag_run.external_trigger, timetable=getattr(dag, "timetable", None),
        previous_success=previous_success or (lambda: None),
    )  # fmt: skip
    values = {
        "dag": dag,
        "task": task,
        "ti": ti,
        "task_instance": ti,
        "dag_run": dag_run,
        "run_id": run_id,
        "params": dict(params) if params is not None else task_params(task, conf),
        "var": VariableAccessor(),
        "conn": ConnectionAccessor(),
        "macros": macros,
        "ds": ds,
        "ds_nodash": ds.replace("-", ""),
        "ts": ts,
        "ts_nodash": logical.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": ts.replace("-", "").replace(":", ""),
        "logical_date": logical,
        "data_interval_start": start,
        "data_interval_end": end,
        "prev_data_interval_start_success": prev_data_interval_start_success,
        "prev_data_interval_end_success": prev_data_interval_end_success,
        "map_index": map_index,
        "try_number": try_number,
        "test_mode": test_mode,
        "task_instance_key_str": f"{dag.dag_id}__{task.task_id}__{ds.replace('-', '')}",
        "outlet_events": OutletEventAccessors(),
        "inlet_events": InletEventAccessors(),
        "triggering_asset_events": triggering,
        "triggering_dataset_events": triggering,
        "asset_state_store": AssetStateStoreAccessors(
            getattr(task, "inlets", None) or [], getattr(task, "outlets", None) or []
        ),
        "task_state_store": TaskStateStore(
            dag_id=dag.dag_id, run_id=run_id, task_id=task.task_id, map_index=map_index
        ),
    }
    return TaskContext(values, legacy)


def build_dag_callback_context(
    *,
    dag: Any,
    dag_run: DagRunContext,
    reason: str,
) -> Context:
    """The context of a DAG-level on_success_callback / on_failure_callback: the DAG, its ended run
    (``dag_run.state``), ``reason`` (success, task_failure or timed_out, as Airflow) and the run's dates."""
    logical = _utc(dag_run.logical_date)
    ds = logical.strftime("%Y-%m-%d")
    return {
        "dag": dag,
        "dag_run": dag_run,
        "run_id": dag_run.run_id,
        "reason": reason,
        "params": resolve_params(params_to_spec(dict(dag.params)), dag_run.conf),
        "var": VariableAccessor(),
        "conn": ConnectionAccessor(),
        "macros": macros,
        "ds": ds,
        "ds_nodash": ds.replace("-", ""),
        "ts": logical.isoformat(),
        "logical_date": logical,
        "data_interval_start": _utc(dag_run.data_interval_start),
        "data_interval_end": _utc(dag_run.data_interval_end),
    }
