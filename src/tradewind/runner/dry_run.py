"""`tradewind tasks test`: run one task in this process with an in-memory runtime, recording nothing.

Its log goes to the terminal (timestamped, secrets masked). The metadata database is only read, and only
when it exists: for the DAG file's stored location, the stored variables and the connections task code asks
for (through the secrets backends, as a running task would; their secrets are masked in the log).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.plugins.user_code import prepare_for_user_code
from tradewind.runner.execution import Ending, execute_task
from tradewind.runner.inline_trigger import wait_inline
from tradewind.runner.log_capture import LogCapture, task_logging
from tradewind.runner.masked_runtime import masking_runtime
from tradewind.runner.secrets_masking import SecretsMasker, is_sensitive_name, masker_for_environment
from tradewind.runner.task_loading import concrete_task, find_dag_file, load_dag
from tradewind.sdk.context import build_context, task_params
from tradewind.sdk.errors import NotFoundError, TradewindError
from tradewind.sdk.operators.virtualenvs import CACHE_ENV as VENV_CACHE_ENV
from tradewind.sdk.runtime import InMemoryRuntime, use_runtime
from tradewind.sdk.schedules import manual_data_interval
from tradewind.secrets.chain import secrets_chain
from tradewind.store import dags, variables
from tradewind.store.engine import database_missing, make_engine, make_session_factory, transaction
from tradewind.store.migrate import check

log = logging.getLogger("tradewind.task")
TEST_RUN_ID_PREFIX = "__tradewind_task_test__"


def run_task_in_process(
    settings: Settings,
    *,
    dag_id: str,
    task_id: str,
    logical_date: datetime | None = None,
    task_params: dict[str, Any] | None = None,
    map_index: int = -1,
    subdir: str | None = None,
) -> int:
    """Run the task once; 0 when it succeeded or skipped, 1 otherwise. ``task_params`` override params."""
    prepare_for_user_code(settings)
    os.environ[VENV_CACHE_ENV] = str(settings.venv_cache_folder)
    stored_vars, fileloc = _from_database(settings, dag_id)
    masker = masker_for_environment(settings)
    for key, value in stored_vars.items():
        if is_sensitive_name(key):
            masker.add(value)
    runtime = _TestRuntime(stored_vars, settings)
    with (
        LogCapture(None, redact=masker.redact_text),
        task_logging(settings.logging.level),
        use_runtime(masking_runtime(runtime, masker)),
    ):
        try:
            return _run(
                settings,
                runtime,
                masker,
                dag_id,
                task_id,
                logical_date,
                task_params,
                map_index,
                subdir,
                fileloc,
            )
        except Exception as exc:
            log.error("%s", exc, exc_info=not isinstance(exc, TradewindError))
            return 1


def _run(
    settings: Settings,
    runtime: InMemoryRuntime,
    masker: SecretsMasker,
    dag_id: str,
    task_id: str,
    logical_date: datetime | None,
    overrides: dict[str, Any] | None,
    map_index: int,
    subdir: str | None,
    fileloc: str | None,
) -> int:
    path = _dag_file(settings, dag_id, subdir, fileloc)
    dag = load_dag(path, dag_id, dags_folder=settings.dags_folder)
    logical = logical_date or utcnow()
    run_id = f"{TEST_RUN_ID_PREFIX}{logical.isoformat()}"

    def pull(upstream: str, key: str) -> Any:
        return runtime.xcom_pull(dag_id=dag_id, run_id=run_id, task_id=upstream, key=key, map_index=None)

    task = concrete_task(dag.get_task(task_id), map_index, pull)
    interval = manual_data_interval(dag.timetable, logical)
    context = build_context(
        task=task,
        run_id=run_id,
        logical_date=logical,
        data_interval_start=interval.start,
        data_interval_end=interval.end,
        map_index=map_index,
        params=task_params(task, overrides),
        test_mode=True,
    )
    log.info("Testing %s.%s (logical date %s) from %s; nothing is recorded", dag_id, task_id, logical, path)

    def push(key: str, value: Any) -> None:
        runtime.xcom_push(
            dag_id=dag_id, run_id=run_id, task_id=task.task_id, map_index=map_index, key=key, value=value
        )

    result = execute_task(task, context, push_xcom=push, log=log, masker=masker)
    while result.ending is Ending.DEFERRED and result.deferral is not None:
        resume = wait_inline(result.deferral, log=log)
        result = execute_task(task, context, push_xcom=push, log=log, masker=masker, resume=resume)
    for name, value in result.rendered_fields.items():
        log.info("Rendered %s: %s", name, value)
    log.info("Task ended: %s", result.ending.value)
    return 0 if result.ending in (Ending.SUCCESS, Ending.SKIPPED, Ending.RESCHEDULED) else 1


def _dag_file(settings: Settings, dag_id: str, subdir: str | None, fileloc: str | None) -> Path:
    if subdir:
        return find_dag_file(settings.dags_folder / subdir, dag_id)
    if fileloc and Path(fileloc).is_file():
        return Path(fileloc)
    return find_dag_file(settings.dags_folder, dag_id)


class _TestRuntime(InMemoryRuntime):
    """The in-memory runtime, reading a connection from the secrets backends (the database last, when it is
    there and migrated) when task code asks for one."""

    def __init__(self, variables: dict[str, str], settings: Settings) -> None:
        super().__init__(variables)
        self._settings = settings

    def get_connection(self, conn_id: str) -> dict[str, Any] | None:
        found = super().get_connection(conn_id)
        if found is not None:
            return found
        if database_missing(self._settings.database_url):
            connection = secrets_chain(self._settings, None).get_connection(conn_id)
            return None if connection is None else connection.to_dict(validate=False)
        engine = make_engine(self._settings.database_url, immediate=False)
        try:
            factory = make_session_factory(engine) if check(engine).up_to_date else None
            connection = secrets_chain(self._settings, factory).get_connection(conn_id)
        except SQLAlchemyError:  # no database here: the other backends only
            connection = secrets_chain(self._settings, None).get_connection(conn_id)
        finally:
            engine.dispose()
        return None if connection is None else connection.to_dict(validate=False)


def _from_database(settings: Settings, dag_id: str) -> tuple[dict[str, str], str | None]:
    """Stored variables and the DAG's stored file location, when a migrated database is there."""
    if database_missing(settings.database_url):  # `tasks test` must not create one
        return {}, None
    engine = make_engine(settings.database_url, immediate=False)
    try:
        if not check(engine).up_to_date:
            return {}, None
        with transaction(make_session_factory(engine)) as session:
            rows, _ = variables.list_variables(session=session)
            stored = {row.key: row.val for row in rows}
            try:
                fileloc: str | None = dags.get_dag(session=session, dag_id=dag_id).fileloc
            except NotFoundError:  # not parsed yet: the DAG folder is searched instead
                fileloc = None
        return stored, fileloc
    except SQLAlchemyError:
        return {}, None
    finally:
        engine.dispose()
