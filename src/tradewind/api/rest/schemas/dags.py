"""DAG bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tradewind.api.rest.schemas.strict import RequestBody
from tradewind.api.ui.schedule_shapes import schedule_interval
from tradewind.sdk.schedules import schedule_summary
from tradewind.store.tables import DagModel


class Tag(BaseModel):
    name: str


class DAG(BaseModel):
    """Airflow 2's DAG object, field for field; ``relative_fileloc`` is Tradewind's own addition."""

    dag_id: str
    dag_display_name: str
    root_dag_id: str | None = None
    description: str | None
    is_paused: bool
    is_active: bool
    is_subdag: bool = False
    last_parsed_time: datetime | None
    last_pickled: datetime | None = None
    last_expired: datetime | None = None
    scheduler_lock: bool | None = None
    pickle_id: str | None = None
    default_view: str | None = "grid"
    fileloc: str
    relative_fileloc: str
    file_token: str
    owners: list[str]
    tags: list[Tag]
    schedule_interval: dict[str, Any] | None = Field(
        description="{'__type': 'CronExpression' | 'TimeDelta' | 'RelativeDelta', ...}, or null"
    )
    timetable_description: str | None
    max_active_runs: int
    max_active_tasks: int
    max_consecutive_failed_dag_runs: int = 0
    has_task_concurrency_limits: bool = False
    has_import_errors: bool = False
    next_dagrun: datetime | None
    next_dagrun_data_interval_start: datetime | None
    next_dagrun_data_interval_end: datetime | None
    next_dagrun_create_after: datetime | None


class DAGDetail(DAG):
    doc_md: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    start_date: datetime | None = None
    end_date: datetime | None = None
    catchup: bool = False
    timezone: str = "UTC"
    dagrun_timeout: float | None = None
    dag_run_timeout: dict[str, Any] | None = None
    concurrency: int | None = None
    is_paused_upon_creation: bool | None = None
    last_parsed: datetime | None = None
    orientation: str | None = "LR"
    render_template_as_native_obj: bool | None = False
    template_search_path: list[str] | None = None
    dataset_expression: dict[str, Any] | None = None
    task_count: int = 0


class DAGCollection(BaseModel):
    dags: list[DAG]
    total_entries: int


class DAGPatch(RequestBody):
    is_paused: bool


class DAGSource(BaseModel):
    content: str
    fileloc: str


class Task(BaseModel):
    task_id: str
    task_display_name: str | None = None
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
    return schedule_summary(dag.timetable or {})


def dag_body(dag: DagModel, file_token: str, *, has_import_errors: bool = False) -> dict[str, Any]:
    return {
        "dag_id": dag.dag_id,
        "dag_display_name": dag.dag_display_name or dag.dag_id,
        "root_dag_id": None,
        "is_subdag": False,
        "has_import_errors": has_import_errors,
        "description": dag.description,
        "is_paused": dag.is_paused,
        "is_active": dag.is_active,
        "fileloc": dag.fileloc,
        "relative_fileloc": dag.relative_fileloc,
        "file_token": file_token,
        "owners": list(dag.owners or []),
        "tags": [{"name": t} for t in (dag.tags or [])],
        "schedule_interval": schedule_interval(dag.timetable),
        "timetable_description": dag.schedule_description,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "next_dagrun": dag.next_dagrun,
        "next_dagrun_data_interval_start": dag.next_dagrun_data_interval_start,
        "next_dagrun_data_interval_end": dag.next_dagrun_data_interval_end,
        "next_dagrun_create_after": dag.next_dagrun_create_after,
        "last_parsed_time": dag.last_parsed_time,
    }
