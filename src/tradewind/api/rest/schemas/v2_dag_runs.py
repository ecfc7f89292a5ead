"""DAG run bodies of /api/v2, in the shapes of Airflow 3's public API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradewind.api.rest.schemas.assets import AssetEventResponse, asset_event_from_dict
from tradewind.api.rest.schemas.strict import JsonDatetime, RequestBody
from tradewind.core.redaction import redact
from tradewind.core.states import DagRunType
from tradewind.store.tables import DagRunModel

#: How Airflow 3 names who created a run; a manual run's user is in ``triggering_user_name``.
TRIGGERED_BY = {
    DagRunType.SCHEDULED.value: "timetable",
    DagRunType.BACKFILL.value: "backfill",
    DagRunType.ASSET_TRIGGERED.value: "asset",
}


class DAGRunResponse(BaseModel):
    dag_run_id: str
    dag_id: str
    dag_display_name: str
    logical_date: datetime | None
    queued_at: datetime | None
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_after: datetime
    last_scheduling_decision: datetime | None
    run_type: str
    state: str
    triggered_by: str | None
    triggering_user_name: str | None
    conf: dict[str, Any] | None
    note: str | None
    dag_versions: list[dict[str, Any]] = Field(default_factory=list)
    bundle_version: str | None = None
    partition_key: str | None = None
    partition_date: datetime | None = None
    #: The asset events an asset-triggered run consumed (Airflow 3's asset event shape).
    consumed_asset_events: list[AssetEventResponse] = Field(default_factory=list)


class DAGRunCollectionResponse(BaseModel):
    dag_runs: list[DAGRunResponse]
    total_entries: int


class TriggerDAGRunPostBody(RequestBody):
    """Airflow 3's trigger body. ``logical_date`` may be null (Tradewind then uses the trigger time);
    explicit data intervals and partitions are refused."""

    model_config = ConfigDict(extra="ignore")

    dag_run_id: str | None = None
    logical_date: JsonDatetime | None = None
    run_after: JsonDatetime | None = None
    data_interval_start: JsonDatetime | None = None
    data_interval_end: JsonDatetime | None = None
    conf: dict[str, Any] | None = None
    note: str | None = None
    partition_key: str | None = None


class DAGRunClearBody(RequestBody):
    model_config = ConfigDict(extra="ignore")

    dry_run: bool = True
    only_failed: bool = False
    only_new: bool = False
    run_on_latest_version: bool | None = None
    note: str | None = Field(default=None, max_length=1000)


def run_after(run: DagRunModel) -> datetime:
    """When the run was due: the end of a scheduled interval, else the time it was triggered."""
    if run.run_type != DagRunType.MANUAL.value and run.data_interval_end is not None:
        return run.data_interval_end
    return run.logical_date


def dag_run_response(run: DagRunModel, consumed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The v2 run body; ``consumed``: its consumed events as ``store.asset_queue.consumed_events`` gives."""
    events = [asset_event_from_dict(e) for e in consumed or []]
    duration = (
        (run.end_date - run.start_date).total_seconds()
        if run.end_date is not None and run.start_date is not None
        else None
    )
    manual = run.run_type == DagRunType.MANUAL.value
    return {
        "dag_run_id": run.run_id,
        "dag_id": run.dag_id,
        "dag_display_name": run.dag_id,
        "logical_date": run.logical_date,
        "queued_at": run.queued_at,
        "start_date": run.start_date,
        "end_date": run.end_date,
        "duration": duration,
        "data_interval_start": run.data_interval_start,
        "data_interval_end": run.data_interval_end,
        "run_after": run_after(run),
        "last_scheduling_decision": run.last_scheduling_decision,
        "run_type": run.run_type,
        "state": run.state,
        "triggered_by": TRIGGERED_BY.get(run.run_type),
        "triggering_user_name": run.triggered_by if manual else None,
        "conf": redact(run.conf or {}),
        "note": run.note,
        "consumed_asset_events": events,
    }
