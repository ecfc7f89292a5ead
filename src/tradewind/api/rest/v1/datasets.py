"""REST API /api/v1: datasets and dataset events (Airflow 2.9's names for assets), and creating an event
from outside (an external producer)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tradewind.actions.asset_events import create_asset_event
from tradewind.api.dependencies import Ctx, DbSession, Op, Viewer
from tradewind.api.rest.schemas.assets import (
    CreateDatasetEvent,
    Dataset,
    DatasetCollection,
    DatasetEvent,
    DatasetEventCollection,
    dataset_body,
    dataset_event_body,
    dataset_event_from_dict,
)
from tradewind.api.rest.schemas.bounds import Int64
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.ui.asset_pages import asset_page, event_page
from tradewind.sdk.assets import normalize_uri
from tradewind.sdk.errors import DagDefinitionError, ParamValidationError
from tradewind.store import asset_queue, assets, dag_runs

router = APIRouter(responses=ERROR_RESPONSES, tags=["Dataset"])


def _uri(value: str) -> str:
    try:
        return normalize_uri(value)
    except DagDefinitionError as exc:
        raise ParamValidationError(str(exc), param="dataset_uri") from None


@router.get("/datasets", response_model=DatasetCollection, summary="List datasets")
def list_datasets(
    session: DbSession,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    uri_pattern: Annotated[str | None, Query(description="part of the uri")] = None,
) -> dict[str, Any]:
    rows, total = asset_page(session, uri_pattern=uri_pattern, limit=limit, offset=offset)
    return {"datasets": [dataset_body(*row) for row in rows], "total_entries": total}


@router.get("/datasets/events", response_model=DatasetEventCollection, summary="List dataset events")
def list_dataset_events(
    session: DbSession,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    dataset_id: Int64 | None = None,
    source_dag_id: str | None = None,
    source_task_id: str | None = None,
    source_run_id: str | None = None,
    order_by: str = "timestamp",
) -> dict[str, Any]:
    rows, total = event_page(
        session, asset_id=dataset_id, source_dag_id=source_dag_id, source_task_id=source_task_id,
        source_run_id=source_run_id, limit=limit, offset=offset, order_by=order_by,
    )  # fmt: skip
    return {"dataset_events": [dataset_event_body(*row) for row in rows], "total_entries": total}


@router.post("/datasets/events", response_model=DatasetEvent, summary="Create a dataset event")
def post_dataset_event(
    body: CreateDatasetEvent, session: DbSession, ctx: Ctx, principal: Op
) -> dict[str, Any]:
    asset = assets.get_asset_by_uri(session=session, uri=_uri(body.dataset_uri))
    event, stored = create_asset_event(ctx.write_factory, principal, asset_id=asset.id, extra=body.extra)
    return dataset_event_body(event, stored)


@router.get("/datasets/{uri:path}", response_model=Dataset, summary="Get a dataset by its uri")
def get_dataset(uri: str, session: DbSession, _: Viewer) -> dict[str, Any]:
    asset = assets.get_asset_by_uri(session=session, uri=_uri(uri))
    consumers = assets.consuming_dags(session=session, asset_ids=[asset.id])
    producers = assets.producing_tasks(session=session, asset_ids=[asset.id])
    return dataset_body(asset, consumers[asset.id], producers[asset.id])


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/upstreamDatasetEvents",
    response_model=DatasetEventCollection,
    summary="The dataset events a DAG run consumed",
)
def upstream_dataset_events(dag_id: str, dag_run_id: str, session: DbSession, _: Viewer) -> dict[str, Any]:
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    events = asset_queue.consumed_events(session=session, dag_run_ids=[run.id])[run.id]
    return {"dataset_events": [dataset_event_from_dict(e) for e in events], "total_entries": len(events)}
