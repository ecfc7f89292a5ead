"""``SQLExecuteQueryOperator``: run SQL on any connection whose hook is a ``DbApiHook`` (Airflow's names).

The rows it returns are pushed to XCom as JSON: a row becomes a list, and values JSON has no type for
become the nearest JSON value (``Decimal`` a number, dates and times ISO text, ``UUID`` text, bytes hex).
"""

from __future__ import annotations

import ast
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tradewind.providers.common.sql.hooks.handlers import fetch_all_handler, return_single_query_results
from tradewind.providers.common.sql.hooks.sql import DbApiHook
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.errors import TaskExecutionError
from tradewind.sdk.hooks.base import BaseHook
from tradewind.sdk.operators.python import emit

OutputProcessor = Callable[[list[Any], list[Any]], Any]


def default_output_processor(results: list[Any], descriptions: list[Any]) -> list[Any]:
    return results


def json_safe(value: Any) -> Any:
    """``value`` with rows as lists and every value JSON can hold (see the module docstring)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


class BaseSQLOperator(BaseOperator):
    """Finds the ``DbApiHook`` of ``conn_id``'s connection type; ``database`` overrides the connection's
    database (PostgreSQL) or schema, ``hook_params`` go to the hook's constructor."""

    conn_id_field = "conn_id"
    template_fields: Sequence[str] = ("conn_id", "database", "hook_params")

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        database: str | None = None,
        hook_params: Mapping[str, Any] | None = None,
        retry_on_failure: bool = True,
        **kwargs: Any,
    ) -> None:
        self.conn_id = conn_id
        self.database = database
        self.hook_params = dict(hook_params or {})
        self.retry_on_failure = retry_on_failure
        super().__init__(**kwargs)

    def get_db_hook(self) -> DbApiHook:
        conn_id = getattr(self, self.conn_id_field)
        if not conn_id:
            raise TaskExecutionError(f"task {self.task_id!r}: {self.conn_id_field} is not set")
        params = dict(self.hook_params)
        if self.database:
            connection = BaseHook.get_connection(conn_id)
            params.setdefault("database" if connection.conn_type == "postgres" else "schema", self.database)
        hook = BaseHook.get_hook(conn_id, hook_params=params)
        if not isinstance(hook, DbApiHook):
            raise TaskExecutionError(
                f"task {self.task_id!r}: connection {conn_id!r} has hook {type(hook).__name__}, "
                f"which is not a DbApiHook, so {type(self).__name__} cannot run SQL on it"
            )
        return hook


class SQLExecuteQueryOperator(BaseSQLOperator):
    """``SQLExecuteQueryOperator(task_id="load", conn_id="my_pg", sql="load.sql", parameters={...})``.

    ``sql`` is a statement, a script (with ``split_statements=True``), a list of statements, or a ``.sql``
    template file found on the DAG's template search path. The rows of the last statement (or of every
    statement: see ``DbApiHook.run``) are returned and pushed to XCom; ``show_return_value_in_logs`` also
    writes them to the task log.
    """

    template_fields: Sequence[str] = ("sql", "parameters", *BaseSQLOperator.template_fields)
    template_ext: Sequence[str] = (".sql", ".json")
    template_fields_renderers: dict[str, str] = {"sql": "sql", "parameters": "json"}
    ui_color = "#cdaaed"

    def __init__(
        self,
        *,
        sql: str | list[str],
        autocommit: bool = False,
        parameters: Mapping[str, Any] | Iterable[Any] | None = None,
        handler: Callable[[Any], Any] = fetch_all_handler,
        output_processor: OutputProcessor | None = None,
        conn_id: str | None = None,
        database: str | None = None,
        split_statements: bool | None = None,
        return_last: bool = True,
        show_return_value_in_logs: bool = False,
        requires_result_fetch: bool = False,
        **kwargs: Any,
    ) -> None:
        self.sql = sql
        self.autocommit = autocommit
        self.parameters = parameters
        self.handler = handler
        self._output_processor = output_processor or default_output_processor
        self.split_statements = split_statements
        self.return_last = return_last
        self.show_return_value_in_logs = show_return_value_in_logs
        self.requires_result_fetch = requires_result_fetch
        super().__init__(conn_id=conn_id, database=database, **kwargs)

    def execute(self, context: Mapping[str, Any]) -> Any:
        emit(f"Executing: {self.sql}")
        hook = self.get_db_hook()
        extra: dict[str, Any] = {}
        if self.split_statements is not None:
            extra["split_statements"] = self.split_statements
        fetch = self.do_xcom_push or self.requires_result_fetch
        output = hook.run(
            sql=self.sql,
            autocommit=self.autocommit,
            parameters=self._parameters(),
            handler=self.handler if fetch else None,
            return_last=self.return_last,
            **extra,
        )
        if not self.do_xcom_push:
            return None
        if return_single_query_results(self.sql, self.return_last, self.split_statements):
            result = self._process_output([output], hook.descriptions)[-1]
        else:
            result = self._process_output(output, hook.descriptions)
        return json_safe(result)

    def _process_output(self, results: list[Any], descriptions: list[Any]) -> Any:
        if self.show_return_value_in_logs:
            emit(f"Operator output is: {results}")
        return self._output_processor(results, descriptions)

    def _parameters(self) -> Any:
        """``parameters`` as given, or read from the text a ``.json`` template file rendered to."""
        if not isinstance(self.parameters, str):
            return self.parameters
        try:
            return json.loads(self.parameters)
        except ValueError:
            return ast.literal_eval(self.parameters)
