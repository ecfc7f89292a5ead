"""TriggerDagRunOperator: start a run of another DAG, optionally waiting until it finishes."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError, TaskRescheduled, TaskSkipped
from tradewind.sdk.operator_links import BaseOperatorLink
from tradewind.sdk.operators.python import emit
from tradewind.sdk.runtime import DagRunExists, TriggeredRun, get_runtime
from tradewind.sdk.triggers.external_task import DagStateTrigger

#: The XCom keys the triggered run is pushed under (Airflow's names).
XCOM_RUN_ID = "trigger_run_id"
XCOM_LOGICAL_DATE_ISO = "trigger_logical_date_iso"


class TriggerDagRunLink(BaseOperatorLink):
    """ "Triggered DAG": the run this try triggered, in the UI."""

    name = "Triggered DAG"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        run = getattr(operator, "triggered_run", None)
        if not isinstance(run, TriggeredRun):
            return ""
        return f"/dags/{quote(run.dag_id, safe='')}?run_id={quote(run.run_id, safe='')}"


def _parse_logical_date(value: str | datetime | None, task_id: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise TaskExecutionError(
                f"task {task_id!r}: logical_date {value!r} is not an ISO 8601 date"
            ) from exc
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


class TriggerDagRunOperator(BaseOperator):
    """Trigger a manual run of ``trigger_dag_id`` (templated) with ``conf``, ``trigger_run_id`` and
    ``logical_date`` (templated; now when not given). The run id is pushed as the XCom ``trigger_run_id``.

    An existing run id fails the task, unless ``skip_when_already_exists`` (skip) or ``reset_dag_run``
    (clear that run so it runs again). ``wait_for_completion`` polls every ``poke_interval`` seconds until
    the run is in ``allowed_states`` (default success) or fails the task in ``failed_states`` (default
    failed). With ``deferrable=True`` the wait frees the slot between polls (reschedule mode: Tradewind has no
    triggerer yet); the triggered run id must then be known again at each poll, so without ``trigger_run_id``
    it is ``manual__<logical date>`` (``triggered__<dag>.<task>__<run id>`` without a logical date)."""

    template_fields: Sequence[str] = ("trigger_dag_id", "trigger_run_id", "logical_date", "conf")
    template_fields_renderers = {"conf": "py"}
    ui_color = "#ffefeb"
    operator_extra_links = (TriggerDagRunLink(),)
    #: Whether ``mode`` may be switched to "reschedule" (what `dags test` does with waiting tasks).
    can_reschedule = True

    def __init__(
        self,
        *,
        trigger_dag_id: str,
        trigger_run_id: str | None = None,
        conf: Mapping[str, Any] | None = None,
        logical_date: str | datetime | None = None,
        reset_dag_run: bool = False,
        wait_for_completion: bool = False,
        poke_interval: float = 60,
        allowed_states: Collection[str] | None = None,
        failed_states: Collection[str] | None = None,
        skip_when_already_exists: bool = False,
        deferrable: bool = False,
        fail_when_dag_is_paused: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if poke_interval < 0:
            raise DagDefinitionError(f"TriggerDagRunOperator(task_id={self.task_id!r}): poke_interval < 0")
        self.trigger_dag_id = trigger_dag_id
        self.trigger_run_id = trigger_run_id
        self.conf: Mapping[str, Any] = conf or {}
        self.logical_date = logical_date.isoformat() if isinstance(logical_date, datetime) else logical_date
        self.reset_dag_run = reset_dag_run
        self.wait_for_completion = wait_for_completion
        self.poke_interval = float(poke_interval)
        self.allowed_states = [str(s) for s in allowed_states] if allowed_states else ["success"]
        self.failed_states = [str(s) for s in failed_states] if failed_states is not None else ["failed"]
        self.skip_when_already_exists = skip_when_already_exists
        self.deferrable = deferrable
        #: "reschedule" (under `dags test`): wait_for_completion frees the slot between polls instead of sleeping
        #: in it. With deferrable=True the wait is the triggerer's (a DagStateTrigger) and needs no slot at all.
        self.mode = "poke"
        self.fail_when_dag_is_paused = fail_when_dag_is_paused
        #: The run this try triggered (for the "Triggered DAG" link).
        self.triggered_run: TriggeredRun | None = None

    def execute(self, context: Mapping[str, Any]) -> None:
        ti = context.get("ti")
        logical_date = _parse_logical_date(self.logical_date, self.task_id)
        run_id = self.trigger_run_id or None
        if self.reschedule and not self.deferrable:
            # Each poll is a new execution of this try: the run id must be known again without the trigger.
            run_id = run_id or self._reschedule_run_id(ti, logical_date)
        if self.reschedule and ti is not None and self._polled_before(ti):
            run = TriggeredRun(dag_id=self.trigger_dag_id, run_id=str(run_id), logical_date=logical_date)
        else:
            run = self._trigger(ti, run_id, logical_date)
        self.triggered_run = run
        if ti is not None:
            ti.xcom_push(XCOM_RUN_ID, run.run_id)
            if run.logical_date is not None:
                ti.xcom_push(XCOM_LOGICAL_DATE_ISO, run.logical_date.isoformat())
        if self.wait_for_completion and self.deferrable:
            emit(f"Deferring: the triggerer waits for {run.dag_id} run {run.run_id}")
            self.defer(
                trigger=DagStateTrigger(
                    dag_id=run.dag_id, states=[*self.allowed_states, *self.failed_states], run_ids=[run.run_id],
                    poll_interval=self.poke_interval,
                ),
                method_name="execute_complete",
                kwargs={"run_id": run.run_id},
            )  # fmt: skip
        if self.wait_for_completion:
            self._wait(run)

    def execute_complete(self, context: Mapping[str, Any], event: Any = None, run_id: str = "") -> None:
        """Where a deferred wait resumes: the triggered run reached one of the allowed or failed states."""
        state = ((event or {}).get("run_states") or {}).get(run_id)
        if state in self.failed_states:
            raise TaskExecutionError(f"{self.trigger_dag_id} run {run_id} ended {state}")
        emit(f"{self.trigger_dag_id} run {run_id} finished {state}")

    @property
    def reschedule(self) -> bool:
        return self.mode == "reschedule" and self.wait_for_completion and not self.deferrable

    def _reschedule_run_id(self, ti: Any, logical_date: datetime | None) -> str:
        if logical_date is not None:
            return f"manual__{logical_date.astimezone(UTC).isoformat()}"
        return f"triggered__{getattr(ti, 'dag_id', '?')}.{self.task_id}__{getattr(ti, 'run_id', '?')}"

    def _polled_before(self, ti: Any) -> bool:
        history = get_runtime().reschedule_history(
            dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, map_index=ti.map_index,
            try_number=ti.try_number,
        )  # fmt: skip
        return history.count > 0

    def _trigger(self, ti: Any, run_id: str | None, logical_date: datetime | None) -> TriggeredRun:
        try:
            run = get_runtime().trigger_dag_run(
                dag_id=self.trigger_dag_id,
                run_id=run_id,
                logical_date=logical_date,
                conf=dict(self.conf),
                reset_dag_run=self.reset_dag_run,
                triggered_by=f"{getattr(ti, 'dag_id', '?')}.{self.task_id}",
            )
        except DagRunExists as exc:
            if self.skip_when_already_exists:
                raise TaskSkipped(f"{exc}; skipping because skip_when_already_exists is set") from exc
            raise
        when = run.logical_date.isoformat() if run.logical_date else "none"
        emit(f"Triggered DAG {run.dag_id!r} as run {run.run_id!r} (logical date {when})")
        return run

    def _wait(self, run: TriggeredRun) -> None:
        runtime = get_runtime()
        while True:
            state = runtime.dag_run_state(dag_id=run.dag_id, run_id=run.run_id)
            if state is None:
                raise TaskExecutionError(f"{run.dag_id} run {run.run_id} no longer exists")
            emit(f"Waiting for {run.dag_id} run {run.run_id}: {state}")
            if state in self.failed_states:
                raise TaskExecutionError(f"{run.dag_id} run {run.run_id} ended {state}")
            if state in self.allowed_states:
                emit(f"{run.dag_id} run {run.run_id} finished {state}")
                return
            if self.reschedule:
                raise TaskRescheduled(datetime.now(UTC) + timedelta(seconds=self.poke_interval))
            time.sleep(self.poke_interval)
