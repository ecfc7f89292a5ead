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
from sqlalchemy.orm import Session

from tradewind.config.settings import Settings
from tradewind.sdk.errors import NotFoundError, TradewindError
from tradewind.sdk.runtime import RescheduleHistory, TriggeredRun
from tradewind.secrets.chain import SecretsChain, secrets_chain
from tradewind.secrets.metastore import MetastoreBackend
from tradewind.store import variables
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.field_cipher import FieldCipher
from tradewind.store.transient_errors import REQUEST_WINDOW, in_retried_transaction


class ParseTimeRuntime:
    def __init__(self, database_url: str, settings: Settings | None = None) -> None:
        self._url = database_url
        self._settings = settings
        self._engine: Engine | None = None

    def _connect(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self._url, immediate=False, pool_size=1)
        return self._engine

    def get_connection(self, conn_id: str) -> dict[str, Any] | None:
        """From the secrets backends ``settings`` names, then the database (as a running task sees it)."""
        factory = make_session_factory(self._connect())
        chain = secrets_chain(self._settings, factory) if self._settings is not None else None
        if chain is None:
            chain = SecretsChain([MetastoreBackend(factory, FieldCipher(None))])
        connection = chain.get_connection(conn_id)
        return None if connection is None else connection.to_dict(validate=False)

    def get_variable(self, key: str) -> str | None:
        def read(session: Session) -> str | None:
            try:
                return variables.get_variable(session=session, key=key).val
            except NotFoundError:
                return None

        # A database outage waits (within the parse's own timeout) rather than break the file.
        return in_retried_transaction(make_session_factory(self._connect()), read, window=self._outage_window())

    def _outage_window(self) -> float:
        if self._settings is None:
            return REQUEST_WINDOW
        parse_timeout = self._settings.scheduler.dag_file_processor_timeout
        return min(self._settings.database.outage_timeout, parse_timeout / 2)

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
