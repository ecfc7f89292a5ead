"""Asset bodies: /api/v1 in Airflow 2's dataset shapes, /api/v2 in Airflow 3's asset shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tradewind.api.rest.schemas.bounds import NonNegativeInt
from tradewind.api.rest.schemas.strict import RequestBody
from tradewind.store.tables import AssetEventModel, AssetModel

# -- /api/v1 (Airflow 2.9+ datasets) --------------------------------------------------------------------


class DagScheduleDatasetReference(BaseModel):
    dag_id: str
    created_at: datetime | None = None
    updated_at: datetime | None = None


class TaskOutletDatasetReference(BaseModel):
    dag_id: str
    task_id: str
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Dataset(BaseModel):
    id: int
    uri: str
    extra: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    consuming_dags: list[DagScheduleDatasetReference]
    producing_tasks: list[TaskOutletDatasetReference]
    aliases: list[dict[str, Any]] = Field(default_factory=list)


class DatasetCollection(BaseModel):
    datasets: list[Dataset]
    total_entries: int


class BasicDAGRun(BaseModel):
    run_id: str
    dag_id: str


class DatasetEvent(BaseModel):
    id: int
    dataset_id: int
    dataset_uri: str
    extra: dict[str, Any]
    source_dag_id: str | None
    source_task_id: str | None
    source_run_id: str | None
    source_map_index: int
    created_dagruns: list[BasicDAGRun] = Field(default_factory=list)
    timestamp: datetime


class DatasetEventCollection(BaseModel):
    dataset_events: list[DatasetEvent]
    total_entries: int


class CreateDatasetEvent(RequestBody):
    dataset_uri: str
    extra: dict[str, Any] | None = None


def dataset_body(asset: AssetModel, consumers: list[str], producers: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": asset.id,
        "uri": asset.uri,
        "extra": asset.extra or {},
        "created_at": asset.created_at,
        "updated_at": asset.updated_at,
        "consuming_dags": [{"dag_id": d} for d in consumers],
        "producing_tasks": [{"dag_id": d, "task_id": t} for d, t in producers],
        "aliases": [],
    }


def dataset_event_body(
    event: AssetEventModel, asset: AssetModel, runs: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    return {
        "id": event.id,
        "dataset_id": asset.id,
        "dataset_uri": asset.uri,
        "extra": event.extra or {},
        "source_dag_id": event.source_dag_id,
        "source_task_id": event.source_task_id,
        "source_run_id": event.source_run_id,
        "source_map_index": event.source_map_index,
        "created_dagruns": [{"dag_id": d, "run_id": r} for d, r in runs or []],
        "timestamp": event.timestamp,
    }


def dataset_event_from_dict(event: dict[str, Any]) -> dict[str, Any]:
    """A consumed event (``store.asset_queue.consumed_events`` data) in the v1 shape."""
    return {
        "id": event["id"],
        "dataset_id": event["asset_id"],
        "dataset_uri": event["uri"],
        "extra": event["extra"],
        "source_dag_id": event["source_dag_id"],
        "source_task_id": event["source_task_id"],
        "source_run_id": event["source_run_id"],
        "source_map_index": event["source_map_index"],
        "created_dagruns": [],
        "timestamp": event["timestamp"],
    }


# -- /api/v2 (Airflow 3 assets) -------------------------------------------------------------------------


class AssetResponse(BaseModel):
    id: int
    name: str
    uri: str
    group: str
    extra: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    scheduled_dags: list[dict[str, Any]]
    producing_tasks: list[dict[str, Any]]
    consuming_tasks: list[dict[str, Any]] = Field(default_factory=list)
    aliases: list[dict[str, Any]] = Field(default_factory=list)


class AssetCollectionResponse(BaseModel):
    assets: list[AssetResponse]
    total_entries: int


class AssetEventResponse(BaseModel):
    id: int
    asset_id: int
    uri: str
    name: str
    group: str
    extra: dict[str, Any]
    source_task_id: str | None
    source_dag_id: str | None
    source_run_id: str | None
    source_map_index: int
    created_dagruns: list[dict[str, Any]] = Field(default_factory=list)
    timestamp: datetime


class AssetEventCollectionResponse(BaseModel):
    asset_events: list[AssetEventResponse]
    total_entries: int


class CreateAssetEventsBody(RequestBody):
    """Airflow 3's body; Tradewind also takes ``uri`` or ``name`` in place of ``asset_id``."""

    asset_id: NonNegativeInt | None = None
    uri: str | None = None
    name: str | None = None
    extra: dict[str, Any] | None = None


def asset_response(
    asset: AssetModel, consumers: list[str], producers: list[tuple[str, str]]
) -> dict[str, Any]:
    return {
        "id": asset.id,
        "name": asset.name,
        "uri": asset.uri,
        "group": asset.group,
        "extra": asset.extra or {},
        "created_at": asset.created_at,
        "updated_at": asset.updated_at,
        "scheduled_dags": [{"dag_id": d} for d in consumers],
        "producing_tasks": [{"dag_id": d, "task_id": t} for d, t in producers],
    }


def asset_event_response(
    event: AssetEventModel, asset: AssetModel, runs: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    return {
        "id": event.id,
        "asset_id": asset.id,
        "uri": asset.uri,
        "name": asset.name,
        "group": asset.group,
        "extra": event.extra or {},
        "source_task_id": event.source_task_id,
        "source_dag_id": event.source_dag_id,
        "source_run_id": event.source_run_id,
        "source_map_index": event.source_map_index,
        "created_dagruns": [{"dag_id": d, "run_id": r} for d, r in runs or []],
        "timestamp": event.timestamp,
    }


def asset_event_from_dict(event: dict[str, Any]) -> dict[str, Any]:
    """A consumed event (``store.asset_queue.consumed_events`` data) in the v2 shape."""
    return {
        "id": event["id"],
        "asset_id": event["asset_id"],
        "uri": event["uri"],
        "name": event["name"],
        "group": event["group"],
        "extra": event["extra"],
        "source_task_id": event["source_task_id"],
        "source_dag_id": event["source_dag_id"],
        "source_run_id": event["source_run_id"],
        "source_map_index": event["source_map_index"],
        "created_dagruns": [],
        "timestamp": event["timestamp"],
    }
