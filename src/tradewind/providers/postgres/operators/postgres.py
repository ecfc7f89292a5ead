"""``PostgresOperator``: Airflow's deprecated name of ``SQLExecuteQueryOperator`` on a Postgres connection."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tradewind.providers.common.sql.operators.sql import SQLExecuteQueryOperator


class PostgresOperator(SQLExecuteQueryOperator):
    """``PostgresOperator(task_id="x", sql="...", postgres_conn_id="postgres_default")``; use
    ``SQLExecuteQueryOperator(conn_id=...)`` in new DAGs. ``runtime_parameters`` become ``SET`` options of
    the session (``{"statement_timeout": "3s"}``)."""

    template_fields: Sequence[str] = (*SQLExecuteQueryOperator.template_fields, "runtime_parameters")

    def __init__(
        self,
        *,
        sql: str | list[str],
        postgres_conn_id: str = "postgres_default",
        autocommit: bool = False,
        parameters: Mapping[str, Any] | Iterable[Any] | None = None,
        database: str | None = None,
        runtime_parameters: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        warnings.warn(
            "PostgresOperator is deprecated: use SQLExecuteQueryOperator(conn_id=...) "
            "(from airflow.providers.common.sql.operators.sql)",
            DeprecationWarning,
            stacklevel=2,
        )
        self.runtime_parameters = dict(runtime_parameters) if runtime_parameters else None
        hook_params = dict(kwargs.pop("hook_params", None) or {})
        if self.runtime_parameters:
            options = " ".join(f"-c {name}={value}" for name, value in self.runtime_parameters.items())
            hook_params["options"] = options
        super().__init__(
            sql=sql,
            conn_id=postgres_conn_id,
            autocommit=autocommit,
            parameters=parameters,
            database=database,
            hook_params=hook_params,
            **kwargs,
        )
