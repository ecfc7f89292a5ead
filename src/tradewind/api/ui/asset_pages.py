"""The pages of assets and asset events that both REST versions list (``/api/v1/datasets``, ``/api/v2/assets``);
each version only shapes the rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tradewind.sdk.errors import ParamValidationError
from tradewind.store import asset_queue, assets
from tradewind.store.tables import AssetEventModel, AssetModel

AssetRow = tuple[AssetModel, list[str], list[tuple[str, str]]]
EventRow = tuple[AssetEventModel, AssetModel, Any]


def asset_page(
    session: Session, *, uri_pattern: str | None, limit: int, offset: int
) -> tuple[list[AssetRow], int]:
    """Assets with the DAGs that consume each and the tasks that produce it."""
    rows, total = assets.list_assets(session=session, uri_pattern=uri_pattern, limit=limit, offset=offset)
    ids = [row.id for row in rows]
    consumers = assets.consuming_dags(session=session, asset_ids=ids)
    producers = assets.producing_tasks(session=session, asset_ids=ids)
    return [(row, consumers[row.id], producers[row.id]) for row in rows], total


def event_page(
    session: Session,
    *,
    asset_id: int | None,
    source_dag_id: str | None,
    source_task_id: str | None,
    source_run_id: str | None,
    limit: int,
    offset: int,
    order_by: str,
) -> tuple[list[EventRow], int]:
    """Asset events, oldest first (``order_by="-timestamp"``: newest first), with the runs each created."""
    if order_by not in ("timestamp", "-timestamp"):
        raise ParamValidationError("order_by must be timestamp or -timestamp", param="order_by")
    rows, total = assets.list_events(
        session=session, asset_id=asset_id, source_dag_id=source_dag_id, source_task_id=source_task_id,
        source_run_id=source_run_id, limit=limit, offset=offset, newest_first=order_by == "-timestamp",
    )  # fmt: skip
    runs = asset_queue.runs_created_by(session=session, event_ids=[event.id for event, _ in rows])
    return [(event, asset, runs[event.id]) for event, asset in rows], total
