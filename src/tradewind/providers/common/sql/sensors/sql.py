"""``SqlSensor``: run a query until its first row says yes (Airflow's names and meaning)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from tradewind.providers.common.sql.hooks.sql import DbApiHook
from tradewind.sdk.errors import TaskExecutionError
from tradewind.sdk.hooks.base import BaseHook
from tradewind.sdk.operators.python import emit
from tradewind.sdk.sensors.base import BaseSensorOperator


class SqlSensor(BaseSensorOperator):
    """Pokes ``sql`` on ``conn_id``: done when ``selector`` of the first row (its first cell by default) is
    truthy, or, with ``success``, when ``success(value)`` is. ``failure(value)`` true fails the task (it is
    checked first); ``fail_on_empty`` fails it when the query returns no row (otherwise no row is "not yet").
    """

    template_fields: Sequence[str] = ("sql", "hook_params", "parameters", "conn_id")
    template_ext: Sequence[str] = (".hql", ".sql")
    ui_color = "#7c7287"

    def __init__(
        self,
        *,
        conn_id: str,
        sql: str,
        parameters: Mapping[str, Any] | Sequence[Any] | None = None,
        success: Callable[[Any], bool] | None = None,
        failure: Callable[[Any], bool] | None = None,
        selector: Callable[[Any], Any] = itemgetter(0),
        fail_on_empty: bool = False,
        hook_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.conn_id = conn_id
        self.sql = sql
        self.parameters = parameters
        self.success = success
        self.failure = failure
        self.selector = selector
        self.fail_on_empty = fail_on_empty
        self.hook_params = dict(hook_params) if hook_params else None
        super().__init__(**kwargs)

    def _get_hook(self) -> DbApiHook:
        hook = BaseHook.get_hook(self.conn_id, hook_params=self.hook_params)
        if not isinstance(hook, DbApiHook):
            raise TaskExecutionError(
                f"task {self.task_id!r}: connection {self.conn_id!r} has hook {type(hook).__name__}, which "
                "is not a DbApiHook, so SqlSensor cannot query it"
            )
        return hook

    def poke(self, context: Mapping[str, Any]) -> bool:
        hook = self._get_hook()
        emit(f"Poking: {self.sql} (with parameters {self.parameters})")
        records = hook.get_records(self.sql, self.parameters)
        if not records:
            if self.fail_on_empty:
                raise TaskExecutionError(f"task {self.task_id!r}: no rows returned, and fail_on_empty is set")
            return False
        value = self.selector(records[0])
        if self.failure is not None:
            if not callable(self.failure):
                raise TaskExecutionError(f"task {self.task_id!r}: failure is not callable: {self.failure!r}")
            if self.failure(value):
                raise TaskExecutionError(
                    f"task {self.task_id!r}: failure criteria met: failure({value!r}) returned True"
                )
        if self.success is not None:
            if not callable(self.success):
                raise TaskExecutionError(f"task {self.task_id!r}: success is not callable: {self.success!r}")
            return bool(self.success(value))
        return bool(value)
