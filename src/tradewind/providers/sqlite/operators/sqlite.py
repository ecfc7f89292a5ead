"""``SqliteOperator``: Airflow's deprecated name of ``SQLExecuteQueryOperator`` on a SQLite connection."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from tradewind.providers.common.sql.operators.sql import SQLExecuteQueryOperator


class SqliteOperator(SQLExecuteQueryOperator):
    """``SqliteOperator(task_id="x", sql="...", sqlite_conn_id="sqlite_default")``; use
    ``SQLExecuteQueryOperator(conn_id=...)`` in new DAGs."""

    def __init__(
        self,
        *,
        sql: str | list[str],
        sqlite_conn_id: str = "sqlite_default",
        parameters: Mapping[str, Any] | Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        warnings.warn(
            "SqliteOperator is deprecated: use SQLExecuteQueryOperator(conn_id=...) "
            "(from airflow.providers.common.sql.operators.sql)",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(sql=sql, conn_id=sqlite_conn_id, parameters=parameters, **kwargs)
