"""`tradewind dags test`: parse the DAG folder, then run one DAG run to the end in this process."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tradewind.cli.arguments import print_rows
from tradewind.cli.store_access import open_store
from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.core.log_paths import task_log_path
from tradewind.core.states import FINISHED_DAG_RUN_STATES, DagRunState
from tradewind.core.workload import ExecuteTask
from tradewind.dag_processing.processor import DagProcessor
from tradewind.executors.inline import InlineExecutor
from tradewind.runner.run_workload import run_task
from tradewind.scheduler.tick import Scheduler
from tradewind.sdk.errors import NotFoundError, TradewindError
from tradewind.store import dag_runs, import_errors, task_instances
from tradewind.store.engine import transaction
from tradewind.store.new_runs import trigger_run
from tradewind.store.scheduling import TEST_TRIGGER, RunScope, has_deferred
from tradewind.store.tables import ImportErrorModel
from tradewind.triggerer.service import TriggererService

MAX_TICKS = 10_000_000
IDLE_WAIT_SECONDS = 0.05


def _missing_dag_message(dag_id: str, failures: Sequence[ImportErrorModel]) -> str:
    """Why ``dag_id`` is not there: the import errors of the files that name it first, else all of them."""
    naming = [f for f in failures if _mentions(f.filename, dag_id)]
    shown = naming or list(failures)
    if not shown:
        return f"DAG {dag_id!r} does not exist: no DAG file in the folder defines it"
    lead = (f"DAG {dag_id!r} does not exist: its file failed to import"
            if naming else f"DAG {dag_id!r} does not exist; {len(shown)} DAG file(s) failed to import")
    lines = [f"{f.filename}{'' if f.lineno is None else f':{f.lineno}'}: {f.message}" for f in shown]
    return lead + "\n  " + "\n  ".join(lines)


def _mentions(filename: str, dag_id: str) -> bool:
    try:
        return dag_id in Path(filename).read_text(errors="replace")
    except OSError:
        return False


def run_dag_test(dag_id: str, *, logical_date: datetime | None, conf: dict[str, Any]) -> int:
    store = open_store()
    settings = store.settings
    # Parsing stores this folder's DAGs; it never deactivates the DAGs of files it does not list (a running
    # standalone that loads the examples owns those).
    DagProcessor(settings, store.sessions).run_once(utcnow(), forget_unlisted=False)
    try:
        with transaction(store.sessions) as session:
            run = trigger_run(
                session=session,
                dag_id=dag_id,
                now=utcnow(),
                conf=conf,
                logical_date=logical_date,
                triggered_by=TEST_TRIGGER,
            )
            run_id = run.run_id
    except NotFoundError as exc:
        if exc.kind != "dag":
            raise
        with store.sessions() as session:
            failures, _total = import_errors.list_import_errors(session=session)
            raise NotFoundError(_missing_dag_message(dag_id, failures), kind="dag", ident=dag_id) from None
    print(f"testing {dag_id} as run {run_id}", file=sys.stderr)

    def _run_and_show(workload: ExecuteTask) -> int:
        code = run_task(settings, workload, poke_sensors_reschedule=True)
        path = task_log_path(settings.base_log_folder, workload.ti_key, workload.try_number)
        if path.exists():
            sys.stdout.write(f"--- {workload.task_id} try {workload.try_number} ---\n")
            sys.stdout.write(path.read_text(errors="replace"))
        return code

    executor = InlineExecutor(_run_and_show)
    # Only this run, and no new runs of any DAG: a scheduler service next to us leaves `test` runs alone.
    # The runs its tasks trigger (TriggerDagRunOperator) are in its scope too, and left alone by services.
    scope = RunScope(dag_id, run_id)
    scheduler = Scheduler(settings=settings, session_factory=store.sessions, executor=executor, scope=scope)
    triggerer = _Triggerer(settings, store.engine)
    try:
        for _ in range(MAX_TICKS):
            stats = scheduler.tick(utcnow())
            with store.sessions() as session:
                state = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=run_id).state
                deferred = has_deferred(session=session, scope=scope)
            if state in FINISHED_DAG_RUN_STATES:
                break
            if deferred:
                triggerer.start()
            if not stats.did_work:
                time.sleep(IDLE_WAIT_SECONDS)  # a retry, a rescheduled sensor or a deferred task waits
        else:  # pragma: no cover
            raise TradewindError(f"run {run_id} did not finish")
    finally:
        triggerer.stop()
    with store.sessions() as session:
        tis, _ = task_instances.list_task_instances(session=session, dag_id=dag_id, run_id=run_id)
        rows = [
            {
                "task_id": ti.task_id,
                "map_index": ti.map_index,
                "state": ti.state or "none",
                "try_number": ti.try_number,
            }
            for ti in tis
        ]
    print_rows(rows, ["task_id", "map_index", "state", "try_number"], "table")
    print(f"run {run_id}: {state}")
    return 0 if state == DagRunState.SUCCESS else 1


class _Triggerer:
    """A triggerer beside the test run, started when a task first defers, so deferred tasks resume
    (Airflow's dag.test runs triggers too)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self._stop = threading.Event()
        self._service = TriggererService(settings, engine=engine)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._service.run, args=(self._stop,), name="dags-test-triggerer", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=30)
