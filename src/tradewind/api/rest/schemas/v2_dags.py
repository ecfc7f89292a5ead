"""DAG bodies of /api/v2, in the shapes of Airflow 3's public API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from tradewind.api.rest.schemas.strict import RequestBody
from tradewind.api.ui.schedule_shapes import is_periodic
from tradewind.sdk.schedules import schedule_summary
from tradewind.store.tables import DagModel

#: Tradewind reads one DAG folder; Airflow 3 calls such a source a bundle.
BUNDLE_NAME = "dags-folder"


class DagTagResponse(BaseModel):
    name: str
    dag_id: str
    dag_display_name: str


class DAGResponse(BaseModel):
    dag_id: str
    dag_display_name: str
    is_paused: bool
    is_stale: bool
    last_parsed_time: datetime | None
    last_parse_duration: float | None = None
    last_expired: datetime | None = None
    bundle_name: str | None
    bundle_version: str | None = None
    relative_fileloc: str | None
    fileloc: str
    description: str | None
    timetable_summary: str | None
    timetable_description: str | None
    timetable_partitioned: bool = False
    timetable_periodic: bool
    tags: list[DagTagResponse]
    max_active_tasks: int
    max_active_runs: int | None
    max_consecutive_failed_dag_runs: int = 0
    has_task_concurrency_limits: bool = False
    has_import_errors: bool
    next_dagrun_logical_date: datetime | None
    next_dagrun_data_interval_start: datetime | None
    next_dagrun_data_interval_end: datetime | None
    next_dagrun_run_after: datetime | None
    allowed_run_types: list[str] | None = None
    owners: list[str]
    file_token: str
    is_backfillable: bool


class DAGCollectionResponse(BaseModel):
    dags: list[DAGResponse]
    total_entries: int


class DAGPatchBody(RequestBody):
    model_config = ConfigDict(extra="ignore")

    is_paused: bool


def dag_response(dag: DagModel, file_token: str, *, has_import_errors: bool) -> dict[str, object]:
    periodic = is_periodic(dag.timetable)
    display = dag.dag_display_name or dag.dag_id
    return {
        "dag_id": dag.dag_id,
        "dag_display_name": display,
        "is_paused": dag.is_paused,
        "is_stale": not dag.is_active,
        "last_parsed_time": dag.last_parsed_time,
        "bundle_name": BUNDLE_NAME,
        "relative_fileloc": dag.relative_fileloc,
        "fileloc": dag.fileloc,
        "description": dag.description,
        "timetable_summary": schedule_summary(dag.timetable or {}),
        "timetable_description": dag.schedule_description,
        "timetable_periodic": periodic,
        "tags": [{"name": t, "dag_id": dag.dag_id, "dag_display_name": display} for t in dag.tags or []],
        "max_active_tasks": dag.max_active_tasks,
        "max_active_runs": dag.max_active_runs,
        "has_import_errors": has_import_errors,
        "next_dagrun_logical_date": dag.next_dagrun,
        "next_dagrun_data_interval_start": dag.next_dagrun_data_interval_start,
        "next_dagrun_data_interval_end": dag.next_dagrun_data_interval_end,
        "next_dagrun_run_after": dag.next_dagrun_create_after,
        "owners": list(dag.owners or []),
        "file_token": file_token,
        "is_backfillable": periodic,
    }
