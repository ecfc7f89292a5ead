"""Task instance bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, model_validator

from tradewind.api.rest.schemas.bounds import MapIndex
from tradewind.api.rest.schemas.strict import JsonDatetime, RequestBody
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.redaction import redact
from tradewind.store.tables import TaskInstanceModel


class TaskInstance(BaseModel):
    """Airflow 2's TaskInstance object, field for field (hostname and unixname are "" when unknown, as
    Airflow's client wants strings); ``external_executor_id``, ``scheduled_when`` and ``state_reason`` are
    Tradewind's additions."""

    task_id: str
    task_display_name: str
    dag_id: str
    dag_run_id: str
    execution_date: datetime
    map_index: int
    rendered_map_index: str | None = None
    state: str | None
    try_number: int
    max_tries: int
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    hostname: str
    unixname: str = ""
    pid: int | None
    executor: str | None
    executor_config: str = "{}"
    sla_miss: dict[str, Any] | None = None
    trigger: dict[str, Any] | None = None
    triggerer_job: dict[str, Any] | None = None
    external_executor_id: str | None
    pool: str
    pool_slots: int
    queue: str
    priority_weight: int
    operator: str | None
    queued_when: datetime | None
    scheduled_when: datetime | None
    state_reason: str | None
    rendered_fields: dict[str, Any]
    note: str | None


class TaskInstanceCollection(BaseModel):
    task_instances: list[TaskInstance]
    total_entries: int


class TaskInstanceReference(BaseModel):
    task_id: str
    dag_id: str
    dag_run_id: str
    map_index: int
    execution_date: datetime | None = None


class TaskInstanceReferenceCollection(BaseModel):
    task_instances: list[TaskInstanceReference]


class TaskInstanceStatePatch(RequestBody):
    new_state: Literal["success", "failed", "skipped"]
    dry_run: bool = False
    map_index: MapIndex = -1


class ClearTaskInstances(RequestBody):
    """Airflow 2's body; Tradewind clears within one run, so ``dag_run_id`` is required and the flags that
    reach other runs or upstream tasks are refused when set."""

    dag_run_id: str
    task_ids: list[str]
    include_downstream: bool = False
    only_failed: bool = False
    dry_run: bool = True
    include_upstream: bool = False
    include_future: bool = False
    include_past: bool = False
    include_subdags: bool = False
    include_parentdag: bool = False
    only_running: bool = False
    reset_dag_runs: bool | None = None
    start_date: JsonDatetime | None = None
    end_date: JsonDatetime | None = None

    @model_validator(mode="after")
    def _supported(self) -> ClearTaskInstances:
        refused = [
            name
            for name in ("include_upstream", "include_future", "include_past", "only_running")
            if getattr(self, name)
        ]
        if refused:
            raise ValueError(f"{', '.join(refused)} not supported by Tradewind (clear within one run)")
        return self


def task_instance_body(ti: TaskInstanceModel, logical_date: datetime) -> dict[str, Any]:
    """``logical_date``: the run's, which Airflow 2 repeats on every task instance as execution_date."""
    return {
        "task_id": ti.task_id,
        "task_display_name": ti.task_id,
        "dag_id": ti.dag_id,
        "dag_run_id": ti.run_id,
        "execution_date": logical_date,
        "map_index": ti.map_index,
        "state": ti.state,
        "try_number": ti.try_number,
        "max_tries": ti.max_tries,
        "start_date": ti.start_date,
        "end_date": ti.end_date,
        "duration": ti.duration,
        "hostname": ti.hostname or "",
        "pid": ti.pid,
        "executor": ti.executor,
        "external_executor_id": ti.external_executor_id,
        "pool": ti.pool,
        "pool_slots": ti.pool_slots,
        "queue": ti.queue,
        "priority_weight": ti.priority_weight,
        "operator": ti.operator,
        "queued_when": ti.queued_at,
        "scheduled_when": ti.scheduled_at,
        "state_reason": ti.state_reason,
        # The runner masks secrets when it stores rendered fields; mask again in case a field slipped by.
        "rendered_fields": redact(ti.rendered_fields or {}),
        "note": ti.note,
    }


def reference_body(key: TaskInstanceKey, logical_date: datetime | None = None) -> dict[str, Any]:
    return {
        "task_id": key.task_id,
        "dag_id": key.dag_id,
        "dag_run_id": key.run_id,
        "map_index": key.map_index,
        "execution_date": logical_date,
    }
