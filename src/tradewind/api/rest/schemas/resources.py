"""Bodies of variables, pools, import errors, XComs, event logs, logs, health and version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tradewind.api.rest.schemas.bounds import NonNegativeInt
from tradewind.api.rest.schemas.strict import RequestBody


class Variable(BaseModel):
    key: str
    value: str
    description: str | None = None


class VariableCollection(BaseModel):
    variables: list[Variable]
    total_entries: int


class VariableBody(RequestBody):
    key: str = Field(min_length=1, max_length=250)
    value: str
    description: str | None = None


class VariablePatch(RequestBody):
    key: str | None = None
    value: str
    description: str | None = None


class Pool(BaseModel):
    name: str
    slots: int
    occupied_slots: int
    running_slots: int
    queued_slots: int
    scheduled_slots: int = 0
    deferred_slots: int = 0
    open_slots: int
    include_deferred: bool = False
    description: str | None


class PoolCollection(BaseModel):
    pools: list[Pool]
    total_entries: int


class PoolBody(RequestBody):
    name: str = Field(min_length=1, max_length=256)
    slots: NonNegativeInt
    description: str | None = None


class PoolPatch(RequestBody):
    name: str | None = None
    slots: NonNegativeInt | None = None
    description: str | None = None


class ImportError_(BaseModel):
    import_error_id: int
    filename: str
    lineno: int | None
    message: str
    stack_trace: str
    timestamp: datetime


class ImportErrorCollection(BaseModel):
    import_errors: list[ImportError_]
    total_entries: int


class XComEntry(BaseModel):
    key: str
    dag_id: str
    dag_run_id: str
    task_id: str
    map_index: int
    timestamp: datetime
    value: Any = None


class XComCollection(BaseModel):
    xcom_entries: list[XComEntry]
    total_entries: int


class EventLog(BaseModel):
    event_log_id: int
    when: datetime
    event: str
    owner: str | None
    dag_id: str | None
    task_id: str | None
    run_id: str | None
    extra: dict[str, Any] | None


class EventLogCollection(BaseModel):
    event_logs: list[EventLog]
    total_entries: int


class LogChunk(BaseModel):
    content: str
    continuation_token: str
    end_of_log: bool = Field(description="true once the try has finished and everything was read")


class ComponentHealth(BaseModel):
    status: str
    detail: str | None = None


class SchedulerHealth(ComponentHealth):
    latest_scheduler_heartbeat: datetime | None = None


class TriggererHealth(BaseModel):
    status: str | None = None
    latest_triggerer_heartbeat: datetime | None = None


class DagProcessorHealth(BaseModel):
    status: str | None = None
    latest_dag_processor_heartbeat: datetime | None = None


class Health(BaseModel):
    """Airflow's health body; the triggerer's status is null until a triggerer has run, and the DAG
    processor does not heartbeat, so its status is null."""

    metadatabase: ComponentHealth
    scheduler: SchedulerHealth
    triggerer: TriggererHealth = Field(default_factory=TriggererHealth)
    dag_processor: DagProcessorHealth = Field(default_factory=DagProcessorHealth)


class Version(BaseModel):
    version: str
    git_version: str | None = None
