"""Page: the assets, with their lineage (producing tasks -> asset -> consuming DAGs) and latest events."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tradewind.api.dependencies import DbSession, Viewer
from tradewind.api.ui.rendering import render
from tradewind.store import asset_queue, assets

router = APIRouter(include_in_schema=False)
#: Assets listed on the page, and events shown per asset.
ASSET_PAGE = 500
EVENTS_PER_ASSET = 5


@router.get("/assets")
def asset_list(request: Request, session: DbSession, _: Viewer) -> Response:
    rows, total = assets.list_assets(session=session, limit=ASSET_PAGE)
    ids = [row.id for row in rows]
    consumers = assets.consuming_dags(session=session, asset_ids=ids)
    producers = assets.producing_tasks(session=session, asset_ids=ids)
    shown = []
    for row in rows:
        events, count = assets.list_events(
            session=session, asset_id=row.id, limit=EVENTS_PER_ASSET, newest_first=True
        )
        runs = asset_queue.runs_created_by(session=session, event_ids=[e.id for e, _ in events])
        shown.append(
            {
                "asset": row,
                "producers": producers[row.id],
                "consumers": consumers[row.id],
                "events": [(event, runs[event.id]) for event, _ in events],
                "event_count": count,
            }
        )
    return render(request, "assets.html", assets=shown, total=total)
