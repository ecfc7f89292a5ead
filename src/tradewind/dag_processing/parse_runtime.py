"""What DAG code can reach while its file is being parsed: Variables, read-only, from the database.

Airflow lets a DAG file call ``Variable.get`` at import time (discouraged: it costs a query per parse).
Parsing children get this runtime; it connects only if a file actually asks for a variable. XCom and
skipping belong to running tasks and are refused here with a clear message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from tradewind.sdk.errors import NotFoundError, TradewindError
from tradewind.store import variables
from tradewind.store.engine import make_engine, make_session_factory


class ParseTimeRuntime:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._engine: Engine | None = None

    def get_variable(self, key: str) -> str | None:
        if self._engine is None:
            self._engine = make_engine(self._url, immediate=False, pool_size=1)
        with make_session_factory(self._engine)() as session:
            try:
                return variables.get_variable(session=session, key=key).val
            except NotFoundError:
                return None

    def _refuse(self, what: str) -> TradewindError:
        return TradewindError(
            f"{what} is not available while a DAG file is being parsed; do it inside a task"
        )

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        raise self._refuse("Variable.set")

    def delete_variable(self, key: str) -> None:
        raise self._refuse("Variable.delete")

    def xcom_push(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        raise self._refuse("XCom")

    def xcom_pull(self, *, dag_id: str, run_id: str, task_id: str, key: str, map_index: int | None) -> Any:
        raise self._refuse("XCom")

    def skip_tasks(self, *, dag_id: str, run_id: str, task_ids: Sequence[str]) -> None:
        raise self._refuse("Skipping tasks")
