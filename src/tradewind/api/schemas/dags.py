"""DAG bodies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradewind.store.tables import DagModel


class Tag(BaseModel):
    name: str


class DAG(BaseModel):
    dag_id: str
    description: str | None
    is_paused: bool
    is_active: bool
    fileloc: str
    relative_fileloc: str
    file_token: str
    owners: list[str]
    tags: list[Tag]
    schedule_interval: str | None
    timetable_description: str | None
    max_active_runs: int
    max_active_tasks: int
    next_dagrun: datetime | None
    next_dagrun_data_interval_start: datetime | None
    next_dagrun_data_interval_end: datetime | None
    next_dagrun_create_after: datetime | None
    last_parsed_time: datetime | None


class DAGDetail(DAG):
    doc_md: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    start_date: datetime | None = None
    end_date: datetime | None = None
    catchup: bool = False
    timezone: str = "UTC"
    dagrun_timeout: float | None = None
    task_count: int = 0


class DAGCollection(BaseModel):
    dags: list[DAG]
    total_entries: int


class DAGPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_paused: bool


class DAGSource(BaseModel):
    content: str
    fileloc: str


class Task(BaseModel):
    task_id: str
    operator: str
    downstream_task_ids: list[str]
    upstream_task_ids: list[str]
    trigger_rule: str
    retries: int
    pool: str
    queue: str
    owner: str
    task_group: str | None
    is_mapped: bool
    template_fields: list[str]
    doc_md: str | None


class TaskCollection(BaseModel):
    tasks: list[Task]
    total_entries: int


def schedule_text(dag: DagModel) -> str | None:
    """The schedule as users wrote it: a cron expression, a period, ``@once``; None for manual-only DAGs."""
    timetable = dag.timetable or {}
    kind = timetable.get("type")
    if kind == "cron":
        return str(timetable.get("expression"))
    if kind == "delta":
        return str(timedelta(seconds=float(timetable.get("seconds", 0))))
    if kind == "once":
        return "@once"
    return None if kind in (None, "none") else str(kind)


def dag_body(dag: DagModel, file_token: str) -> dict[str, Any]:
    return {
        "dag_id": dag.dag_id,
        "description": dag.description,
        "is_paused": dag.is_paused,
        "is_active": dag.is_active,
        "fileloc": dag.fileloc,
        "relative_fileloc": dag.relative_fileloc,
        "file_token": file_token,
        "owners": list(dag.owners or []),
        "tags": [{"name": t} for t in (dag.tags or [])],
        "schedule_interval": schedule_text(dag),
        "timetable_description": dag.schedule_description,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "next_dagrun": dag.next_dagrun,
        "next_dagrun_data_interval_start": dag.next_dagrun_data_interval_start,
        "next_dagrun_data_interval_end": dag.next_dagrun_data_interval_end,
        "next_dagrun_create_after": dag.next_dagrun_create_after,
        "last_parsed_time": dag.last_parsed_time,
    }
