"""ExternalTaskSensor (wait for tasks, a task group or a whole run of another DAG) and ExternalTaskMarker
(clearing it clears a task of another DAG)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError, TaskSkipped
from tradewind.sdk.external_states import count_in_states, group_tasks
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.operators.python import callable_kwargs, emit
from tradewind.sdk.runtime import get_runtime
from tradewind.sdk.sensors.base import BaseSensorOperator
from tradewind.sdk.triggers.base import BaseTrigger
from tradewind.sdk.triggers.external_task import WorkflowTrigger

TASK_STATES = frozenset(
    {"none", "scheduled", "queued", "running", "success", "failed", "up_for_retry", "up_for_reschedule",
     "deferred", "upstream_failed", "skipped", "removed"}
)  # fmt: skip
DAG_RUN_STATES = frozenset({"queued", "running", "success", "failed"})


class ExternalTaskSensor(BaseSensorOperator):
    """Wait until ``external_task_id`` / ``external_task_ids`` / ``external_task_group_id`` of
    ``external_dag_id`` (or, with none of them, its run) is in ``allowed_states`` for the run at the same
    logical date, shifted back by ``execution_delta`` or chosen by ``execution_date_fn``.

    Any of them in ``failed_states`` fails the sensor (skips it with ``soft_fail``); in ``skipped_states``
    skips it. ``check_existence`` fails at once if the DAG or the tasks do not exist."""

    template_fields: Sequence[str] = ("external_dag_id", "external_task_id", "external_task_ids",
                                      "external_task_group_id")  # fmt: skip
    ui_color = "#4db7db"

    def __init__(
        self,
        *,
        external_dag_id: str,
        external_task_id: str | None = None,
        external_task_ids: Collection[str] | None = None,
        external_task_group_id: str | None = None,
        allowed_states: Collection[str] | None = None,
        skipped_states: Collection[str] | None = None,
        failed_states: Collection[str] | None = None,
        execution_delta: timedelta | None = None,
        execution_date_fn: Callable[..., datetime | list[datetime]] | None = None,
        check_existence: bool = False,
        poll_interval: float | None = None,
        **kwargs: Any,
    ) -> None:
        if poll_interval is not None:
            kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        where = f"ExternalTaskSensor(task_id={self.task_id!r})"
        if external_task_id is not None and external_task_ids is not None:
            raise DagDefinitionError(f"{where}: give external_task_id or external_task_ids, not both")
        task_ids = [external_task_id] if external_task_id is not None else external_task_ids
        if task_ids is not None and external_task_group_id is not None:
            raise DagDefinitionError(f"{where}: give external_task_id(s) or external_task_group_id, not both")
        if execution_delta is not None and execution_date_fn is not None:
            raise DagDefinitionError(f"{where}: give execution_delta or execution_date_fn, not both")
        self.allowed_states = list(allowed_states) if allowed_states is not None else ["success"]
        self.skipped_states = list(skipped_states or [])
        self.failed_states = list(failed_states or [])
        valid = DAG_RUN_STATES if task_ids is None and external_task_group_id is None else TASK_STATES
        unknown = sorted(
            {str(s) for s in [*self.allowed_states, *self.skipped_states, *self.failed_states]} - valid
        )
        if unknown:
            raise DagDefinitionError(
                f"{where}: unknown state(s) {', '.join(unknown)}; valid: {sorted(valid)}"
            )
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.external_task_ids = list(task_ids) if task_ids is not None else None
        self.external_task_group_id = external_task_group_id
        self.execution_delta = execution_delta
        self.execution_date_fn = execution_date_fn
        self.check_existence = check_existence
        self._checked_existence = False

    def logical_dates(self, context: Mapping[str, Any]) -> list[datetime]:
        """The logical dates of the external runs to look at."""
        logical_date: datetime = context["logical_date"]
        if self.execution_delta is not None:
            return [logical_date - self.execution_delta]
        if self.execution_date_fn is not None:
            kwargs = callable_kwargs(self.execution_date_fn, [logical_date], context, {})
            result = self.execution_date_fn(logical_date, **kwargs)
            return list(result) if isinstance(result, list | tuple) else [result]
        return [logical_date]

    def poke(self, context: Mapping[str, Any]) -> bool:
        dates = self.logical_dates(context)
        if self.check_existence and not self._checked_existence:
            self._check_existence()
        what = self._describe()
        emit(f"Poking for {what} on {', '.join(d.isoformat() for d in dates)} ...")
        if self.failed_states and self._count(dates, self.failed_states) > 0:
            if self.soft_fail:
                raise TaskSkipped(f"{what} failed; skipping because soft_fail is set")
            raise TaskExecutionError(f"{what} failed (in one of {self.failed_states})")
        if self.skipped_states and self._count(dates, self.skipped_states) > 0:
            raise TaskSkipped(f"{what} reached one of the states to skip on ({self.skipped_states})")
        return self._count(dates, self.allowed_states) == len(dates)

    def _describe(self) -> str:
        if self.external_task_ids is not None:
            return f"tasks {self.external_task_ids} of DAG {self.external_dag_id!r}"
        if self.external_task_group_id is not None:
            return f"task group {self.external_task_group_id!r} of DAG {self.external_dag_id!r}"
        return f"DAG {self.external_dag_id!r}"

    def _check_existence(self) -> None:
        tasks = get_runtime().dag_task_ids(dag_id=self.external_dag_id)
        if tasks is None:
            raise TaskExecutionError(f"the external DAG {self.external_dag_id!r} does not exist")
        missing = [t for t in self.external_task_ids or [] if t not in tasks]
        if missing:
            raise TaskExecutionError(f"the external DAG {self.external_dag_id!r} has no task(s) {missing}")
        if self.external_task_group_id is not None and not self._group_tasks(tasks):
            raise TaskExecutionError(
                f"the external DAG {self.external_dag_id!r} has no task group {self.external_task_group_id!r}"
            )
        self._checked_existence = True

    def _group_tasks(self, tasks: Mapping[str, str | None]) -> list[str]:
        return group_tasks(tasks, self.external_task_group_id)

    def _count(self, dates: Sequence[datetime], states: Collection[str]) -> float:
        return count_in_states(
            dag_id=self.external_dag_id, dates=dates, states=states, task_ids=self.external_task_ids,
            group_id=self.external_task_group_id,
        )  # fmt: skip

    def deferral_trigger(self, context: Mapping[str, Any]) -> BaseTrigger | None:
        return WorkflowTrigger(
            external_dag_id=self.external_dag_id, logical_dates=self.logical_dates(context),
            external_task_ids=self.external_task_ids, external_task_group_id=self.external_task_group_id,
            allowed_states=self.allowed_states, failed_states=self.failed_states,
            skipped_states=self.skipped_states, poke_interval=self.poke_interval,
        )  # fmt: skip


class ExternalTaskMarker(EmptyOperator):
    """Marks that ``external_task_id`` of ``external_dag_id`` depends on this task: clearing this task
    (with downstream) also clears that task, and its downstream, in the run at the same logical date,
    following further markers there up to ``recursion_depth`` DAGs deep."""

    template_fields: Sequence[str] = ("external_dag_id", "external_task_id", "logical_date")
    ui_color = "#4db7db"

    def __init__(
        self,
        *,
        external_dag_id: str,
        external_task_id: str,
        logical_date: str | datetime | None = "{{ logical_date.isoformat() }}",
        recursion_depth: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if recursion_depth <= 0:
            raise DagDefinitionError(
                f"ExternalTaskMarker(task_id={self.task_id!r}): recursion_depth must be a positive integer"
            )
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.logical_date = logical_date.isoformat() if isinstance(logical_date, datetime) else logical_date
        self.recursion_depth = recursion_depth
