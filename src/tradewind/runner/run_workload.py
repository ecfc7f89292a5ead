"""Run one task try (`tradewind tasks run`): claim it, import its DAG file, run the task, record the outcome.

Works the same in a fresh process, in a child forked from a pre-imported parent (the LocalExecutor's fork
server), in a Celery worker and in a pod: everything it needs (engine, threads, signal handlers, logging)
is built inside ``run_task`` and torn down before it returns.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from contextlib import ExitStack, nullcontext
from typing import Any

from tradewind.config.settings import Settings
from tradewind.core.json_values import encode_xcom_value, from_tagged_json
from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.core.log_paths import log_relative_path
from tradewind.core.states import TaskInstanceState
from tradewind.core.workload import TASK_TOKEN_ENV, ExecuteTask
from tradewind.execution.models import (
    ClaimedTry,
    DeferReport,
    Refusal,
    RescheduleReport,
    TryEnded,
    TryReport,
    XComValue,
)
from tradewind.observability.tracing import NO_TRACING, Tracing, open_tracing
from tradewind.plugins.extra_links import store_links
from tradewind.plugins.user_code import prepare_for_user_code
from tradewind.runner.alarm import Alarm
from tradewind.runner.api_channel import ApiChannel, ExecutionApiClient
from tradewind.runner.email_alerts import send_email_alert
from tradewind.runner.execution import Ending, Resume, TaskResult, execute_task
from tradewind.runner.interrupts import TaskInterrupt
from tradewind.runner.log_capture import LogCapture, task_logging
from tradewind.runner.log_loss import LogLoss
from tradewind.runner.log_upload import TryLogUpload
from tradewind.runner.masked_runtime import masking_runtime
from tradewind.runner.secrets_masking import SecretsMasker, masker_for_environment
from tradewind.runner.supervisor import Supervisor, try_log_path
from tradewind.runner.task_callbacks import run_callbacks
from tradewind.runner.task_loading import concrete_task, dag_file_for_run, load_dag
from tradewind.runner.try_channel import TryChannel
from tradewind.sdk.asset_events import produced_events
from tradewind.sdk.context import build_context
from tradewind.sdk.errors import ConfigError, TaskSkipped, TradewindError
from tradewind.sdk.operators.virtualenvs import CACHE_ENV as VENV_CACHE_ENV
from tradewind.sdk.runtime import TaskRuntime, use_runtime

log = logging.getLogger("tradewind.task")
#: How a try may end with exit code 0 (a rescheduled sensor or a deferred task has not failed: it goes on later).
CLEAN_ENDINGS = frozenset(
    {
        TaskInstanceState.SUCCESS,
        TaskInstanceState.SKIPPED,
        TaskInstanceState.UP_FOR_RESCHEDULE,
        TaskInstanceState.DEFERRED,
    }
)
#: How long a runner waits at exit for its spans to reach the collector (a dead one costs no more).
TRACES_FLUSH_SECONDS = 1.0


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
    prepare_process(settings)
    os.environ[VENV_CACHE_ENV] = str(settings.venv_cache_folder)
    channel = open_channel(settings, workload)
    tracing: Tracing = NO_TRACING
    try:
        hostname = settings.core.hostname or socket.gethostname()
        claim = channel.claim(hostname=hostname, pid=os.getpid())
        if isinstance(claim, Refusal):
            # Not into the log file: it belongs to whoever runs the try, if anyone.
            print(f"not running {key} try {workload.try_number or '(current)'}: {claim.reason}", file=sys.stderr,
                  flush=True)  # fmt: skip
            return 0
        tracing = open_tracing(settings, "runner", required=False)
        masker = masker_for_environment(settings)
        path = try_log_path(settings, key, claim.try_number)
        echo = settings.logging.task_output_to_stdout  # worker pods: the container log holds the try's lines too
        # The capture's reader starts the heartbeat thread once a heartbeat is due: a short try starts none.
        alarm = Alarm(settings.scheduler.heartbeat_interval) if capture_output else None
        capture: LogCapture | nullcontext[None] = (
            LogCapture(
                path, redact=masker.redact_text, echo_to_stdout=echo, folder=settings.base_log_folder, alarm=alarm
            )
            if capture_output
            else nullcontext()
        )
        relative = log_relative_path(key, claim.try_number)
        upload = TryLogUpload(settings, path, relative, channel.runtime()) if capture_output else None
        with ExitStack() as stack:
            try:
                stack.enter_context(capture)
            except OSError as exc:
                # E.g. the logs volume is not mounted: fail the try rather than leave it running.
                print(f"cannot write the log of {key} try {claim.try_number}: {exc}", file=sys.stderr, flush=True)
                result = TaskResult(Ending.FAILED, reason=f"cannot write the log file {path}: {exc}")
                final, _written = _record(claim, channel, result, None)
                return 0 if final in CLEAN_ENDINGS else 1
            stack.enter_context(task_logging(settings.logging.level))
            try:
                code = _run_claimed(
                    settings, workload, claim, channel, masking_runtime(channel.runtime(), masker), masker,
                    poke_sensors_reschedule=poke_sensors_reschedule, upload=upload, tracing=tracing,
                    log_loss=capture.loss if isinstance(capture, LogCapture) else None, heartbeat_alarm=alarm,
                )  # fmt: skip
            except Exception:
                # The runner itself failed (the execution API gone ...): the try stays running and the
                # scheduler settles it when its heartbeats stop.
                log.exception("the runner failed; the try is left for the scheduler to settle")
                code = 1
        if upload is not None:
            upload.upload()  # the capture has stopped: the file is whole
        return code
    finally:
        channel.close()
        tracing.close(timeout=TRACES_FLUSH_SECONDS)


#: The settings this process was prepared for user code with (a warm parent does it once for its tries).
_prepared_for: Settings | None = None


def prepare_process(settings: Settings) -> None:
    """``prepare_for_user_code`` unless this process (or the warm parent it was forked from) already did it
    with the same settings object (resolving the plugins folder alone cost ~1 ms of each try)."""
    global _prepared_for
    if _prepared_for is not settings:
        prepare_for_user_code(settings)
        _prepared_for = settings


def open_channel(settings: Settings, workload: ExecuteTask) -> TryChannel:
    """The execution API when the try came with a token (every executor hands one out); else, for an operator
    running `tasks run` by hand or `dags test`, the metadata database in process."""
    token = workload.token or os.environ.pop(TASK_TOKEN_ENV, "")
    if token:
        url = settings.execution_api.url or workload.api_url
        if not url:
            raise ConfigError(
                f"{workload.ti_key}: the try has a task token but no execution API URL "
                "(set [execution_api] url, env TRADEWIND__EXECUTION_API__URL)",
                key="execution_api.url",
            )
        # A database outage reaches the runner as 503s: it waits as long as every other component would.
        window = max(settings.execution_api.client_retry_seconds, settings.database.outage_timeout)
        client = ExecutionApiClient(url, token, retry_seconds=window)
        return ApiChannel(client, workload.ti_key)
    from tradewind.execution.local_channel import LocalChannel  # the ORM, only on this path
    from tradewind.secrets.chain import secrets_chain  # the ORM, only on this path
    from tradewind.store.engine import database_missing, make_engine, make_session_factory

    if settings.database.url is None and database_missing(settings.database_url):
        raise ConfigError(
            f"{workload.ti_key}: the try came without a task token and this process has no database "
            "(tries started by an executor carry a token; `tasks run` by hand needs [database] url)",
            key="database.url",
        )

    engine = make_engine(settings.database_url, pool_size=2)
    factory = make_session_factory(engine)
    return LocalChannel(
        factory, workload.ti_key, workload.try_number, engine=engine,
        allowed_run_id_pattern=settings.scheduler.allowed_run_id_pattern,
        secrets=secrets_chain(settings, factory), outage_window=settings.database.outage_timeout,
    )  # fmt: skip


def _run_claimed(
    settings: Settings,
    workload: ExecuteTask,
    claim: ClaimedTry,
    channel: TryChannel,
    runtime: TaskRuntime,
    masker: SecretsMasker,
    *,
    poke_sensors_reschedule: bool = False,
    upload: TryLogUpload | None = None,
    tracing: Tracing = NO_TRACING,
    log_loss: LogLoss | None = None,
    heartbeat_alarm: Alarm | None = None,
) -> int:
    key = claim.key
    try_key = TaskTryKey(key, claim.try_number)
    # The try's "running" span, closed early where its "finishing" span starts.
    running, finishing = ExitStack(), ExitStack()
    running.enter_context(tracing.phase(try_key, "running"))
    supervisor = Supervisor(
        heartbeat=channel.heartbeat,
        interval=settings.scheduler.heartbeat_interval,
        log=log,
        alarm=heartbeat_alarm,
    )
    returned: list[XComValue] = []
    with supervisor, use_runtime(runtime), finishing, running:
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
            task, context = _prepare(settings, workload, claim, channel, runtime, supervisor)
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
            resume = _resume(claim)
            result = execute_task(
                task,
                context,
                # What the task returned goes with the report of its end (``TryReport.xcoms``).
                push_xcom=lambda xcom_key, value: returned.append(returned_xcom(key, xcom_key, value)),
                log=log,
                masker=masker,
                user_code=supervisor.user_code,
                resume=resume,
            )
            _store_extra_links(task, context, key, runtime)
        supervisor.stop_heartbeat()
        running.close()
        finish_span = finishing.enter_context(tracing.phase(try_key, "finishing"))
        events = _produced_events(task, context) if result.ending is Ending.SUCCESS else []
        if upload is not None:
            upload.prepare()  # the store's connection, while the task token is still accepted
        _tell_log_loss(result, log_loss)
        final, written = _record(
            claim, channel, result, supervisor.external_state, asset_events=events, xcoms=returned
        )
        finish_span["state"] = final.value if final is not None else "none"
        if upload is not None:
            upload.ended(final)
        if written and final is not None and task is not None and context is not None:
            run_callbacks(task, final, context, result.error, log=log)
            send_email_alert(task, final, context, result.error, settings=settings, log=log)
    return 0 if final in CLEAN_ENDINGS else 1


def _tell_log_loss(result: TaskResult, loss: LogLoss | None) -> None:
    """A try whose log lost lines says so in its reason, which the UI and the API show (ADR 0016)."""
    summary = loss.summary() if loss is not None else None
    if summary is not None:
        result.reason = f"{result.reason}; {summary}" if result.reason else summary


def _resume(claim: ClaimedTry) -> Resume | None:
    """How a deferred try goes on (None: a try starting with ``execute``)."""
    if claim.next_method is None:
        return None
    log.info("Resuming after deferral: calling %s", claim.next_method)
    return Resume(claim.next_method, from_tagged_json(claim.next_kwargs) if claim.next_kwargs is not None else None)


def _store_extra_links(task: Any, context: dict[str, Any], key: TaskInstanceKey, runtime: TaskRuntime) -> None:
    """Each extra link's URL for this try, as an XCom the UI and the API read (Airflow 3's way)."""

    def push(xcom_key: str, url: str) -> None:
        runtime.xcom_push(
            dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, map_index=key.map_index, key=xcom_key,
            value=url,
        )

    store_links(task, context.get("ti", key), push, log=log)


def _prepare(
    settings: Settings,
    workload: ExecuteTask,
    claim: ClaimedTry,
    channel: TryChannel,
    runtime: TaskRuntime,
    supervisor: Supervisor,
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
        previous_success=lambda: channel.previous_success(logical_date=run.logical_date),
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
    channel: TryChannel,
    result: TaskResult,
    external_state: str | None,
    *,
    asset_events: list[dict[str, Any]] | None = None,
    xcoms: list[XComValue] | None = None,
) -> tuple[TaskInstanceState | None, bool]:
    """Report the try's end (with what it returned, when it succeeded); the server decides the state (retry
    or failure) and writes it with compare-and-set from running. Returns the state the try ended in and
    whether this report set it (False: someone else set it meanwhile, and it is left alone)."""
    if external_state is not None:
        log.warning("state externally set to %s; leaving it", external_state)
        return _as_state(external_state), False
    if result.ending is Ending.RESCHEDULED and result.reschedule_date is not None:
        return _record_reschedule(claim, channel, result)
    if result.ending is Ending.DEFERRED and result.deferral is not None:
        return _record_deferral(claim, channel, result)
    started = time.monotonic()
    end = channel.finish(_report(result, asset_events, xcoms if result.ending is Ending.SUCCESS else None))
    if isinstance(end, str):
        log.warning("state externally set to %s; not overwriting it", end)
        return _as_state(end), False
    _log_final(end, claim)
    log.debug("reported the end in %.3fs", time.monotonic() - started)
    return TaskInstanceState(end.state), True


def returned_xcom(key: TaskInstanceKey, xcom_key: str, value: Any) -> XComValue:
    """An XCom of the try's result, checked now (a value JSON cannot hold fails the task, naming it)."""
    return XComValue(key=xcom_key, value=json.loads(encode_xcom_value(value, task_id=key.task_id, key=xcom_key)))


def _report(
    result: TaskResult, asset_events: list[dict[str, Any]] | None, xcoms: list[XComValue] | None = None
) -> TryReport:
    decision = result.decision
    return TryReport(
        outcome=_OUTCOMES[result.ending],
        reason=result.reason,
        retry_action=decision.action.value if decision is not None else None,
        retry_delay_seconds=decision.retry_delay.total_seconds()
        if decision is not None and decision.retry_delay is not None
        else None,
        retry_reason=decision.reason if decision is not None else None,
        rendered_fields=result.rendered_fields or None,
        asset_events=asset_events or [],
        xcoms=xcoms or [],
    )


_OUTCOMES = {
    Ending.SUCCESS: "success",
    Ending.SKIPPED: "skipped",
    Ending.FAILED: "failed",
    Ending.FAILED_NO_RETRY: "failed_no_retry",
    Ending.RESCHEDULED: "failed",  # a reschedule without a date is a failure
    Ending.DEFERRED: "failed",  # a deferral without a trigger is a failure
}


def _record_reschedule(
    claim: ClaimedTry, channel: TryChannel, result: TaskResult
) -> tuple[TaskInstanceState | None, bool]:
    """running -> up_for_reschedule, same try number, with the next poke time and a reschedule row."""
    assert result.reschedule_date is not None
    report = RescheduleReport(reschedule_date=result.reschedule_date, rendered_fields=result.rendered_fields or None)
    external = channel.reschedule(report)
    if external is not None:
        log.warning("state externally set to %s; not rescheduling", external)
        return _as_state(external), False
    log.info(
        "Marking task as UP_FOR_RESCHEDULE. %s, try %d; next poke at %s",
        claim.key, claim.try_number, result.reschedule_date.isoformat(),
    )  # fmt: skip
    return TaskInstanceState.UP_FOR_RESCHEDULE, True


def _record_deferral(
    claim: ClaimedTry, channel: TryChannel, result: TaskResult
) -> tuple[TaskInstanceState | None, bool]:
    """running -> deferred, same try number, with the trigger stored; the process then exits (no callbacks)."""
    deferral = result.deferral
    assert deferral is not None
    report = DeferReport(
        classpath=deferral.classpath,
        kwargs=deferral.kwargs,
        next_method=deferral.next_method,
        next_kwargs=deferral.next_kwargs,
        timeout_seconds=deferral.timeout_seconds,
        rendered_fields=result.rendered_fields or None,
    )
    external = channel.defer(report)
    if external is not None:
        log.warning("state externally set to %s; not deferring", external)
        return _as_state(external), False
    log.info("Pausing task as DEFERRED. %s, try %d; trigger %s", claim.key, claim.try_number, deferral.classpath)
    return TaskInstanceState.DEFERRED, True


def _as_state(label: str) -> TaskInstanceState | None:
    return TaskInstanceState(label) if label in TaskInstanceState._value2member_map_ else None


def _log_final(end: TryEnded, claim: ClaimedTry) -> None:
    target = TaskInstanceState(end.state)
    line = f"Marking task as {target.value.upper()}. {claim.key}, try {claim.try_number}"
    if target is TaskInstanceState.UP_FOR_RETRY and end.next_retry_at is not None:
        line += f"; next try after {end.next_retry_at.isoformat()}"
    if end.state_reason and target not in (TaskInstanceState.SUCCESS, TaskInstanceState.SKIPPED):
        line += f" ({end.state_reason})"
    (log.info if target in (TaskInstanceState.SUCCESS, TaskInstanceState.SKIPPED) else log.error)(line)
