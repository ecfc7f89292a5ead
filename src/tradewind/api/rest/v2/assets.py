"""/api/v2 assets and asset events (Airflow 3's public API shapes), and creating an event from outside."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tradewind.actions.asset_events import asset_id_of, create_asset_event
from tradewind.api.dependencies import Ctx, DbSession, Op, Viewer
from tradewind.api.errors import CREATED
from tradewind.api.rest.schemas.assets import (
    AssetCollectionResponse,
    AssetEventCollectionResponse,
    AssetEventResponse,
    AssetResponse,
    CreateAssetEventsBody,
    asset_event_from_dict,
    asset_event_response,
    asset_response,
)
from tradewind.api.rest.schemas.bounds import Int64
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.ui.asset_pages import asset_page, event_page
from tradewind.sdk.assets import normalize_uri
from tradewind.sdk.errors import DagDefinitionError, ParamValidationError
from tradewind.store import asset_queue, assets, dag_runs

router = APIRouter(responses=ERROR_RESPONSES, tags=["Asset"])


@router.get("/assets", response_model=AssetCollectionResponse, summary="List assets")
def list_assets(
    session: DbSession,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    uri_pattern: Annotated[str | None, Query(description="part of the uri")] = None,
) -> dict[str, Any]:
    rows, total = asset_page(session, uri_pattern=uri_pattern, limit=limit, offset=offset)
    return {"assets": [asset_response(*row) for row in rows], "total_entries": total}


@router.get("/assets/events", response_model=AssetEventCollectionResponse, summary="List asset events")
def list_asset_events(
    session: DbSession,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    asset_id: Int64 | None = None,
    source_dag_id: str | None = None,
    source_task_id: str | None = None,
    source_run_id: str | None = None,
    order_by: str = "timestamp",
) -> dict[str, Any]:
    rows, total = event_page(
        session, asset_id=asset_id, source_dag_id=source_dag_id, source_task_id=source_task_id,
        source_run_id=source_run_id, limit=limit, offset=offset, order_by=order_by,
    )  # fmt: skip
    return {"asset_events": [asset_event_response(*row) for row in rows], "total_entries": total}


@router.post(
    "/assets/events", response_model=AssetEventResponse, status_code=CREATED, summary="Create an asset event"
)
def post_asset_event(
    body: CreateAssetEventsBody, session: DbSession, ctx: Ctx, principal: Op
) -> dict[str, Any]:
    if body.asset_id is None and body.uri is None and body.name is None:
        raise ParamValidationError("give asset_id, uri or name", param="asset_id")
    try:
        uri = normalize_uri(body.uri) if body.uri is not None else None
    except DagDefinitionError as exc:
        raise ParamValidationError(str(exc), param="uri") from None
    asset_id = asset_id_of(session, asset_id=body.asset_id, uri=uri, name=body.name)
    event, asset = create_asset_event(ctx.write_factory, principal, asset_id=asset_id, extra=body.extra)
    return asset_event_response(event, asset)


@router.get("/assets/{asset_id}", response_model=AssetResponse, summary="Get an asset")
def get_asset(asset_id: Int64, session: DbSession, _: Viewer) -> dict[str, Any]:
    asset = assets.get_asset(session=session, asset_id=asset_id)
    consumers = assets.consuming_dags(session=session, asset_ids=[asset.id])
    producers = assets.producing_tasks(session=session, asset_ids=[asset.id])
    return asset_response(asset, consumers[asset.id], producers[asset.id])


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/upstreamAssetEvents",
    response_model=AssetEventCollectionResponse,
    summary="The asset events a DAG run consumed",
)
def upstream_asset_events(dag_id: str, dag_run_id: str, session: DbSession, _: Viewer) -> dict[str, Any]:
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    events = asset_queue.consumed_events(session=session, dag_run_ids=[run.id])[run.id]
    return {"asset_events": [asset_event_from_dict(e) for e in events], "total_entries": len(events)}
