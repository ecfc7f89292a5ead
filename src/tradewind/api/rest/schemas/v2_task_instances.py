"""Task instance and log bodies of /api/v2, in the shapes of Airflow 3's public API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from tradewind.api.rest.schemas.bounds import MapIndex
from tradewind.api.rest.schemas.strict import JsonDatetime, RequestBody
from tradewind.api.rest.schemas.v2_dag_runs import run_after
from tradewind.core.redaction import redact
from tradewind.store.tables import DagRunModel, TaskInstanceModel

#: Task instance ids are derived from their key, so one task instance keeps its id across tries.
TI_NAMESPACE = uuid.UUID("6f1c1f8e-3b0a-4d5e-9a57-0c2b8e1d7a41")


class TaskInstanceResponse(BaseModel):
    id: str
    task_id: str
    dag_id: str
    dag_run_id: str
    map_index: int
    logical_date: datetime | None
    run_after: datetime
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    state: str | None
    try_number: int
    max_tries: int
    task_display_name: str
    dag_display_name: str
    hostname: str | None
    unixname: str | None = None
    pool: str
    pool_slots: int
    queue: str | None
    priority_weight: int | None
    operator: str | None
    operator_name: str | None
    queued_when: datetime | None
    scheduled_when: datetime | None
    pid: int | None
    executor: str | None
    executor_config: str = "{}"
    note: str | None
    rendered_map_index: str | None = None
    rendered_fields: dict[str, Any] = Field(default_factory=dict)
    trigger: dict[str, Any] | None = None
    triggerer_job: dict[str, Any] | None = None
    dag_version: dict[str, Any] | None = None


class TaskInstanceCollectionResponse(BaseModel):
    task_instances: list[TaskInstanceResponse]
    total_entries: int


class ClearTaskInstancesBody(RequestBody):
    """Airflow 3's clear body (``only_failed`` defaults to true there too). Tradewind clears within one
    run, so ``dag_run_id`` is required, and the flags that reach other runs or upstream are refused."""

    model_config = ConfigDict(extra="ignore")

    dag_run_id: str | None = None
    #: JSON has no tuples: a ``[task_id, map_index]`` array is read as one.
    task_ids: list[str | Annotated[tuple[str, MapIndex], Strict(False)]] | None = None
    dry_run: bool = True
    only_failed: bool = True
    only_running: bool = False
    reset_dag_runs: bool = True
    include_upstream: bool = False
    include_downstream: bool = False
    include_future: bool = False
    include_past: bool = False
    start_date: JsonDatetime | None = None
    end_date: JsonDatetime | None = None
    run_on_latest_version: bool | None = None
    prevent_running_task: bool = False
    note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _supported(self) -> ClearTaskInstancesBody:
        if self.dag_run_id is None:
            raise ValueError("dag_run_id is required: Tradewind clears task instances within one DAG run")
        refused = [
            name
            for name in ("include_upstream", "include_future", "include_past", "only_running")
            if getattr(self, name)
        ]
        if refused:
            raise ValueError(f"{', '.join(refused)} not supported by Tradewind (clear within one run)")
        return self

    def task_id_set(self) -> list[str] | None:
        """The task ids; a ``[task_id, map_index]`` pair clears every map index of that task."""
        if self.task_ids is None:
            return None
        return sorted({t if isinstance(t, str) else t[0] for t in self.task_ids})


class StructuredLogMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    timestamp: datetime | None = None
    event: str


class TaskInstancesLogResponse(BaseModel):
    content: list[StructuredLogMessage]
    continuation_token: str | None


def task_instance_id(ti: TaskInstanceModel) -> str:
    return str(uuid.uuid5(TI_NAMESPACE, f"{ti.dag_id}\0{ti.run_id}\0{ti.task_id}\0{ti.map_index}"))


def task_instance_response(ti: TaskInstanceModel, run: DagRunModel) -> dict[str, Any]:
    return {
        "id": task_instance_id(ti),
        "task_id": ti.task_id,
        "dag_id": ti.dag_id,
        "dag_run_id": ti.run_id,
        "map_index": ti.map_index,
        "logical_date": run.logical_date,
        "run_after": run_after(run),
        "start_date": ti.start_date,
        "end_date": ti.end_date,
        "duration": ti.duration,
        "state": ti.state,
        "try_number": ti.try_number,
        "max_tries": ti.max_tries,
        "task_display_name": ti.task_id,
        "dag_display_name": ti.dag_id,
        "hostname": ti.hostname,
        "pool": ti.pool,
        "pool_slots": ti.pool_slots,
        "queue": ti.queue,
        "priority_weight": ti.priority_weight,
        "operator": ti.operator,
        "operator_name": ti.operator,
        "queued_when": ti.queued_at,
        "scheduled_when": ti.scheduled_at,
        "pid": ti.pid,
        "executor": ti.executor,
        "note": ti.note,
        # The runner masks secrets when it stores rendered fields; mask again in case a field slipped by.
        "rendered_fields": redact(ti.rendered_fields or {}),
    }
