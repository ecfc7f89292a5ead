"""Run one DAG-level callback (`tradewind dags run-callback REQUEST_ID`): the DAG's on_success_callback or
on_failure_callback for a run that ended, asked for by the scheduler and started by the DAG processor.

Like a task try, it imports the DAG file in its own process, sends its output (and the traceback if it
raises) to a log file with secrets masked, and can read Variables and XComs.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tradewind.config.settings import Settings
from tradewind.core.log_paths import dag_callback_log_path, dag_callback_log_relative_path
from tradewind.execution.db_runtime import DbRuntime
from tradewind.plugins.user_code import prepare_for_user_code
from tradewind.runner.log_capture import LogCapture, task_logging
from tradewind.runner.log_upload import TryLogUpload
from tradewind.runner.masked_runtime import masking_runtime
from tradewind.runner.secrets_masking import masker_for_environment
from tradewind.runner.task_loading import dag_file_for_run, load_dag
from tradewind.sdk.context import DagRunContext, build_dag_callback_context
from tradewind.sdk.errors import NotFoundError, TradewindError
from tradewind.sdk.runtime import use_runtime
from tradewind.secrets.chain import secrets_chain
from tradewind.store import dag_callback_requests as dag_callbacks
from tradewind.store import dag_runs, dags
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.transient_errors import in_retried_transaction

log = logging.getLogger("tradewind.dag_callback")


def run_dag_callback(settings: Settings, request_id: int) -> int:
    """0 when the callback returned, 1 when it (or importing its DAG file) raised; 0 too when the request is
    gone (another DAG processor ran it)."""
    prepare_for_user_code(settings)
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        factory = make_session_factory(engine)
        try:
            # Before any user code runs: a database outage here is waited out, never the callback's failure.
            request = in_retried_transaction(
                factory,
                lambda session: _read_request(session, request_id),
                window=settings.database.outage_timeout,
            )
        except NotFoundError:
            print(f"DAG callback request {request_id} is gone; nothing to run", file=sys.stderr)
            return 0
        run_context, callback_name, reason = request.run, request.callback, request.reason
        fileloc, relative_fileloc = request.fileloc, request.relative_fileloc
        masker = masker_for_environment(settings)
        path = dag_callback_log_path(settings.base_log_folder, run_context.dag_id, run_context.run_id,
                                     callback_name)
        runtime = DbRuntime(factory, secrets=secrets_chain(settings, factory))
        with LogCapture(path, redact=masker.redact_text), task_logging(settings.logging.level), \
                use_runtime(masking_runtime(runtime, masker)):
            code = _run_callback(settings, run_context, callback_name, reason, fileloc, relative_fileloc)
        relative = dag_callback_log_relative_path(run_context.dag_id, run_context.run_id, callback_name)
        upload = TryLogUpload(settings, path, relative, runtime)
        upload.finished = True  # the run has ended; nothing more is written to this file
        upload.upload()  # the capture has stopped: the file is whole
        return code
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class _Request:
    """What running one callback request needs from the database."""

    run: DagRunContext
    callback: str
    reason: str
    fileloc: str
    relative_fileloc: str


def _read_request(session: Session, request_id: int) -> _Request:
    request = dag_callbacks.get_dag_callback_request(session=session, request_id=request_id)
    dag_row = dags.get_dag(session=session, dag_id=request.dag_id)
    run = dag_runs.get_dag_run(session=session, dag_id=request.dag_id, run_id=request.run_id)
    context = DagRunContext(
        dag_id=run.dag_id, run_id=run.run_id, logical_date=run.logical_date,
        data_interval_start=run.data_interval_start or run.logical_date,
        data_interval_end=run.data_interval_end or run.logical_date, run_type=run.run_type,
        conf=dict(run.conf or {}), start_date=run.start_date, state=run.state, end_date=run.end_date,
    )  # fmt: skip
    return _Request(context, request.callback, request.reason, dag_row.fileloc, dag_row.relative_fileloc)


def _run_callback(
    settings: Settings, run_context: DagRunContext, callback_name: str, reason: str, fileloc: str,
    relative_fileloc: str,
) -> int:
    log.info("Running %s of DAG %s for run %s (%s, reason: %s)", callback_name, run_context.dag_id,
             run_context.run_id, run_context.state, reason)
    try:
        dag_file = dag_file_for_run(settings.dags_folder, subdir="", relative_fileloc=relative_fileloc,
                                    fileloc=fileloc)
        dag = load_dag(dag_file, run_context.dag_id, dags_folder=settings.dags_folder)
        callback = getattr(dag, callback_name, None)
        for function in _as_list(callback):
            function(build_dag_callback_context(dag=dag, dag_run=run_context, reason=reason))
    except TradewindError as exc:
        log.error("%s", exc)
        return 1
    except Exception:
        log.exception("%s of DAG %s raised", callback_name, run_context.dag_id)
        return 1
    log.info("%s of DAG %s done", callback_name, run_context.dag_id)
    return 0


def _as_list(callback: Any) -> list[Any]:
    """A DAG may give one callable or a list of them (as Airflow allows)."""
    if callback is None:
        return []
    return list(callback) if isinstance(callback, list | tuple) else [callback]
