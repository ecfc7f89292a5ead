"""What DAG code can reach while its file is being parsed: Variables, read-only, from the database.

Airflow lets a DAG file call ``Variable.get`` at import time (discouraged: it costs a query per parse).
Parsing children get this runtime; it connects only if a file actually asks for a variable. XCom and
skipping belong to running tasks and are refused here with a clear message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from tradewind.sdk.errors import NotFoundError, TradewindError
from tradewind.sdk.runtime import RescheduleHistory, TriggeredRun
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

    def get_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str) -> Any:
        raise self._refuse("The task state store")

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
        raise self._refuse("The task state store")

    def delete_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str) -> None:
        raise self._refuse("The task state store")

    def clear_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int) -> None:
        raise self._refuse("The task state store")

    def asset_events(
        self, *, name: str | None = None, uri: str | None = None, alias: str | None = None
    ) -> list[dict[str, Any]]:
        raise self._refuse("Reading asset events")

    def consumed_asset_events(self, *, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        raise self._refuse("Reading asset events")

    # -- sensors and cross-DAG operators: task-time only -------------------------------------------
    def reschedule_history(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
    ) -> RescheduleHistory:
        raise self._refuse("A sensor's reschedules")

    def dag_task_ids(self, *, dag_id: str) -> dict[str, str | None] | None:
        raise self._refuse("Reading another DAG")

    def dag_run_states(self, *, dag_id: str, logical_dates: Sequence[datetime]) -> list[str]:
        raise self._refuse("Reading another DAG's runs")

    def task_instance_states(
        self, *, dag_id: str, logical_dates: Sequence[datetime], task_ids: Sequence[str]
    ) -> list[str]:
        raise self._refuse("Reading another DAG's runs")

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
        raise self._refuse("Triggering a DAG run")

    def dag_run_state(self, *, dag_id: str, run_id: str) -> str | None:
        raise self._refuse("Reading another DAG's runs")

    def get_asset_state(self, *, name: str | None, uri: str | None, key: str) -> Any:
        raise self._refuse("The asset state store")

    def set_asset_state(self, *, name: str | None, uri: str | None, key: str, value: Any) -> None:
        raise self._refuse("The asset state store")

    def delete_asset_state(self, *, name: str | None, uri: str | None, key: str) -> None:
        raise self._refuse("The asset state store")

    def clear_asset_state(self, *, name: str | None, uri: str | None) -> None:
        raise self._refuse("The asset state store")
