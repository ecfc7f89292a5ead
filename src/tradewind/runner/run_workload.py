"""Run one task try (`tradewind tasks run`): claim it, import its DAG file, run the task, record the outcome.

Works the same in a fresh process, in a child forked from a pre-imported parent (the LocalExecutor's fork
server), in a Celery worker and in a pod: everything it needs (engine, threads, signal handlers, logging)
is built inside ``run_task`` and torn down before it returns.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from contextlib import ExitStack, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.retries import failed_try_end
from tradewind.core.serialized_dag import SerializedDag, SerializedTask
from tradewind.core.states import DagRunType, TaskInstanceState
from tradewind.core.workload import ExecuteTask
from tradewind.plugins.extra_links import store_links
from tradewind.plugins.user_code import prepare_for_user_code
from tradewind.runner.db_runtime import DbRuntime
from tradewind.runner.execution import Ending, TaskResult, execute_task
from tradewind.runner.interrupts import TaskInterrupt
from tradewind.runner.log_capture import LogCapture, task_logging
from tradewind.runner.previous_success import previous_success_lookup
from tradewind.runner.secrets_masking import SecretsMasker, masker_for_environment
from tradewind.runner.supervisor import Supervisor, try_log_path
from tradewind.runner.task_callbacks import run_callbacks
from tradewind.runner.task_loading import concrete_task, dag_file_for_run, load_dag
from tradewind.runner.try_state import ClaimedTry, Refusal, TryState, current_try_number
from tradewind.runner.warm_start import runner_engine
from tradewind.sdk.asset_events import produced_events
from tradewind.sdk.context import build_context
from tradewind.sdk.errors import TaskSkipped, TradewindError
from tradewind.sdk.operators.virtualenvs import CACHE_ENV as VENV_CACHE_ENV
from tradewind.sdk.runtime import use_runtime
from tradewind.store import dags, task_instances
from tradewind.store.engine import make_session_factory, transaction
from tradewind.store.run_creation import create_run

TI = TaskInstanceState
log = logging.getLogger("tradewind.task")
#: How a try may end with exit code 0 (a rescheduled sensor has not failed: it goes on later).
CLEAN_ENDINGS = frozenset({TI.SUCCESS, TI.SKIPPED, TI.UP_FOR_RESCHEDULE})


def run_task(
    settings: Settings, workload: ExecuteTask, *, capture_output: bool = True, poke_sensors_reschedule: bool = False
) -> int:
    """Run the try ``workload`` names; 0 when it ended success, skipped or up for reschedule, 1 otherwise.

    ``workload.try_number`` 0 means the try the task instance is at. When the try is not queued at that
    try number (cleared, re-queued, running elsewhere, a redelivered message) nothing runs and 0 is
    returned. ``capture_output`` sends fd 1 and 2 into the try's log file for the duration.
    ``poke_sensors_reschedule`` runs waiting tasks (sensors, TriggerDagRunOperator's wait) in reschedule mode
    (`dags test`, whose executor runs one try at a time: a task sleeping in its slot would keep what it waits
    for from ever running).
    """
    key = workload.ti_key
    prepare_for_user_code(settings)
    os.environ[VENV_CACHE_ENV] = str(settings.venv_cache_folder)
    engine = runner_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        try_number = workload.try_number if workload.try_number > 0 else current_try_number(factory, key)
        state = TryState(factory, key, try_number)
        hostname = settings.core.hostname or socket.gethostname()
        claim = state.claim(now=utcnow(), hostname=hostname, pid=os.getpid())
        if isinstance(claim, Refusal):
            # Not into the log file: it belongs to whoever runs the try, if anyone.
            print(f"not running {key} try {try_number}: {claim.reason}", file=sys.stderr, flush=True)
            return 0
        masker = masker_for_environment()
        path = try_log_path(settings, key, try_number)
        capture = LogCapture(path, redact=masker.redact_text) if capture_output else nullcontext()
        with ExitStack() as stack:
            try:
                stack.enter_context(capture)
            except OSError as exc:
                # E.g. the logs volume is not mounted: fail the try rather than leave it running.
                print(f"cannot write the log of {key} try {try_number}: {exc}", file=sys.stderr, flush=True)
                result = TaskResult(Ending.FAILED, reason=f"cannot write the log file {path}: {exc}")
                final, _written = _record(claim, state, result, None, None)
                return 0 if final in CLEAN_ENDINGS else 1
            stack.enter_context(task_logging(settings.logging.level))
            try:
                return _run_claimed(
                    settings, workload, claim, state, DbRuntime(factory, masker=masker), masker,
                    poke_sensors_reschedule=poke_sensors_reschedule,
                )  # fmt: skip
            except Exception:
                # The runner itself failed (database gone ...): the try stays running and the scheduler
                # settles it when its heartbeats stop.
                log.exception("the runner failed; the try is left for the scheduler to settle")
                return 1
    finally:
        engine.dispose()


def _run_claimed(
    settings: Settings,
    workload: ExecuteTask,
    claim: ClaimedTry,
    state: TryState,
    runtime: DbRuntime,
    masker: SecretsMasker,
    *,
    poke_sensors_reschedule: bool = False,
) -> int:
    key = claim.key
    supervisor = Supervisor(
        heartbeat=lambda: state.heartbeat(now=utcnow()),
        interval=settings.scheduler.heartbeat_interval,
        log=log,
    )
    with supervisor, use_runtime(runtime):
        log.info(
            "Running %s, try %d of %d, on %s (pid %d)",
            key,
            claim.try_number,
            claim.max_tries + 1,
            settings.core.hostname or socket.gethostname(),
            os.getpid(),
        )
        task: Any = None
        context: dict[str, Any] | None = None
        try:
            task, context = _prepare(settings, workload, claim, runtime, supervisor)
            if poke_sensors_reschedule and getattr(task, "can_reschedule", False) and task.mode == "poke":
                log.info("dags test runs waiting tasks in reschedule mode, so that one does not block the run")
                task.mode = "reschedule"
        except TaskSkipped as exc:  # an XComArg.map() function skipped this map index, as in Airflow
            log.info("Task skipped: %s", exc)
            result = TaskResult(Ending.SKIPPED, reason=str(exc))
        except Exception as exc:
            log.error("%s", exc, exc_info=not _expected_setup_error(exc))
            result = TaskResult(Ending.FAILED, reason=str(exc), error=exc)
        except TaskInterrupt as exc:  # terminated while importing: nothing to kill yet
            log.error("Stopped before the task started: %s", exc)
            result = TaskResult(Ending.FAILED, reason=str(exc), error=exc, terminated=True)
        else:
            result = execute_task(
                task,
                context,
                push_xcom=lambda xcom_key, value: runtime.xcom_push(
                    dag_id=key.dag_id,
                    run_id=key.run_id,
                    task_id=key.task_id,
                    map_index=key.map_index,
                    key=xcom_key,
                    value=value,
                ),
                log=log,
                masker=masker,
                user_code=supervisor.user_code,
            )
            _store_extra_links(task, context, key, runtime)
        supervisor.stop_heartbeat()
        events = _produced_events(task, context) if result.ending is Ending.SUCCESS else []
        final, written = _record(claim, state, result, task, supervisor.external_state, asset_events=events)
        if written and final is not None and task is not None and context is not None:
            run_callbacks(task, final, context, result.error, log=log)
    return 0 if final in CLEAN_ENDINGS else 1


def _store_extra_links(task: Any, context: dict[str, Any], key: TaskInstanceKey, runtime: DbRuntime) -> None:
    """Each extra link's URL for this try, as an XCom the UI and the API read (Airflow 3's way)."""

    def push(xcom_key: str, url: str) -> None:
        runtime.xcom_push(
            dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, map_index=key.map_index, key=xcom_key,
            value=url,
        )

    store_links(task, context.get("ti", key), push, log=log)


def _prepare(
    settings: Settings, workload: ExecuteTask, claim: ClaimedTry, runtime: DbRuntime, supervisor: Supervisor
) -> tuple[Any, dict[str, Any]]:
    key = claim.key
    path = dag_file_for_run(
        settings.dags_folder,
        subdir=workload.dag_rel_path,
        relative_fileloc=claim.relative_fileloc,
        fileloc=claim.fileloc,
    )
    started = time.monotonic()
    with supervisor.user_code():
        dag = load_dag(path, key.dag_id, dags_folder=settings.dags_folder)
    log.info("Imported DAG file %s in %.3fs", path, time.monotonic() - started)

    def pull(task_id: str, xcom_key: str) -> Any:
        return runtime.xcom_pull(
            dag_id=key.dag_id, run_id=key.run_id, task_id=task_id, key=xcom_key, map_index=None
        )

    task = concrete_task(dag.get_task(key.task_id), key.map_index, pull)
    run = claim.run
    context = build_context(
        task=task,
        run_id=run.run_id,
        logical_date=run.logical_date,
        data_interval_start=run.data_interval_start,
        data_interval_end=run.data_interval_end,
        run_type=run.run_type,
        conf=run.conf,
        run_start_date=run.start_date,
        map_index=key.map_index,
        try_number=claim.try_number,
        max_tries=claim.max_tries,
        previous_success=previous_success_lookup(runtime.factory, key, run.logical_date),
    )
    return task, context


def _expected_setup_error(exc: BaseException) -> bool:
    """Errors whose message says it all (a missing file, an import error with file and line)."""
    return isinstance(exc, TradewindError)


def _produced_events(task: Any, context: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The asset events of a successful try: its outlets, with what task code set in ``outlet_events``."""
    outlets = getattr(task, "outlets", None) or []
    return produced_events(outlets, (context or {}).get("outlet_events")) if outlets else []


def _record(
    claim: ClaimedTry,
    state: TryState,
    result: TaskResult,
    task: Any,
    external_state: str | None,
    *,
    asset_events: list[dict[str, Any]] | None = None,
) -> tuple[TaskInstanceState | None, bool]:
    """Write the try's final state with compare-and-set from running. Returns the state the try ended in
    and whether this runner wrote it (False: someone else set it meanwhile, and it is left alone)."""
    if external_state is not None:
        log.warning("state externally set to %s; leaving it", external_state)
        return _as_state(external_state), False
    now = utcnow()
    if result.ending is Ending.RESCHEDULED and result.reschedule_date is not None:
        return _record_reschedule(claim, state, result, now)
    target, retry_at, reason = _ending(claim, state, result, task, now)
    values: dict[str, Any] = {
        "end_date": now,
        "duration": (now - claim.start_date).total_seconds(),
        "state_reason": reason,
        "rendered_fields": result.rendered_fields or None,
        "next_retry_at": retry_at,
    }
    external = state.finish(target, values=values, asset_events=asset_events or ())
    if external is not None:
        log.warning("state externally set to %s; not overwriting it with %s", external, target.value)
        return _as_state(external), False
    _log_final(target, claim, values)
    return target, True


def _record_reschedule(
    claim: ClaimedTry, state: TryState, result: TaskResult, now: datetime
) -> tuple[TaskInstanceState | None, bool]:
    """running -> up_for_reschedule, same try number, with the next poke time and a reschedule row."""
    assert result.reschedule_date is not None
    external = state.reschedule(
        start_date=claim.start_date, now=now, reschedule_date=result.reschedule_date,
        rendered_fields=result.rendered_fields or None,
    )  # fmt: skip
    if external is not None:
        log.warning("state externally set to %s; not rescheduling", external)
        return _as_state(external), False
    log.info(
        "Marking task as UP_FOR_RESCHEDULE. %s, try %d; next poke at %s",
        claim.key, claim.try_number, result.reschedule_date.isoformat(),
    )  # fmt: skip
    return TI.UP_FOR_RESCHEDULE, True


def _as_state(label: str) -> TaskInstanceState | None:
    return TI(label) if label in TI._value2member_map_ else None


def _ending(
    claim: ClaimedTry, state: TryState, result: TaskResult, task: Any, now: datetime
) -> tuple[TaskInstanceState, datetime | None, str | None]:
    """The try's final state, its next retry time and its state reason. A failure is retried or failed by
    ``core.retries.failed_try_end``, from the task's retry settings and its retry policy's decision."""
    if result.ending is Ending.SUCCESS:
        return TI.SUCCESS, None, None
    if result.ending is Ending.SKIPPED:
        return TI.SKIPPED, None, result.reason
    if result.ending is Ending.FAILED_NO_RETRY:
        return TI.FAILED, None, result.reason
    end = failed_try_end(
        _retry_settings(claim, state, task),
        try_number=claim.try_number,
        max_tries=claim.max_tries,
        now=now,
        decision=result.decision,
    )
    return end.state, end.next_retry_at, end.policy_reason or result.reason


def _retry_settings(claim: ClaimedTry, state: TryState, task: Any) -> SerializedTask:
    """The retry settings of the task as imported for this try, else as last parsed."""
    if task is not None:
        return SerializedTask(
            task_id=task.task_id,
            operator=type(task).__name__,
            retry_delay=task.retry_delay.total_seconds(),
            retry_exponential_backoff=task.retry_exponential_backoff,
            max_retry_delay=task.max_retry_delay.total_seconds() if task.max_retry_delay else None,
        )
    stored = state.stored_task()
    return stored if stored is not None else SerializedTask(task_id=claim.key.task_id, operator="unknown")


def _log_final(target: TaskInstanceState, claim: ClaimedTry, values: dict[str, Any]) -> None:
    line = f"Marking task as {target.value.upper()}. {claim.key}, try {claim.try_number}"
    line += f", took {values['duration']:.3f}s"
    if target is TI.UP_FOR_RETRY:
        line += f"; next try after {values['next_retry_at'].isoformat()}"
    (log.info if target in (TI.SUCCESS, TI.SKIPPED) else log.error)(line)


#: The made-up DAG a rehearsal runs; it never outlives the rehearsal's transaction.
REHEARSAL_DAG_ID = "__tradewind_rehearsal__"


def rehearse_try(engine: Engine) -> None:
    """Send everything a try sends to the database (claim, heartbeat, XCom, variable, outcome) for a made-up
    DAG, inside one transaction that is rolled back: ``engine`` ends with the ORM configured and every
    statement of a try compiled, and the database is left as it was. The same code as a real try, so the
    rehearsal cannot drift from it. Raises if the database is unreachable or not migrated."""
    key = TaskInstanceKey(REHEARSAL_DAG_ID, "rehearsal", "rehearsal")
    now = utcnow()
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            # Each of the runner's transactions becomes a savepoint inside ``outer``.
            factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
            with transaction(factory) as session:
                sdag = SerializedDag(
                    dag_id=key.dag_id, fileloc="", tasks=[SerializedTask(task_id=key.task_id, operator="rehearsal")]
                )
                dags.upsert_dag(session=session, sdag=sdag, paused_default=True, now=now)
                create_run(session=session, sdag=sdag, run_type=DagRunType.MANUAL, logical_date=now,
                           data_interval=None, now=now, run_id=key.run_id)
                ti = task_instances.get_task_instance(session=session, key=key)
                ti.state, ti.try_number = TI.QUEUED.value, 1
            state = TryState(factory, key, 1)
            claim = state.claim(now=now, hostname="rehearsal", pid=os.getpid())
            if isinstance(claim, Refusal):
                raise TradewindError(f"rehearsal try refused: {claim.reason}")
            state.heartbeat(now=now)
            runtime = DbRuntime(factory)
            runtime.xcom_push(dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, map_index=-1,
                              key="return_value", value=None)
            runtime.xcom_pull(dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, key="return_value",
                              map_index=None)
            runtime.get_variable(REHEARSAL_DAG_ID)
            _record(claim, state, TaskResult(Ending.SUCCESS), None, None)
        finally:
            outer.rollback()
