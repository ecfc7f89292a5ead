"""The UI's one live-state feed: pages poll it with If-None-Match and get 304 until what they show changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from tradewind.api.dependencies import Ctx, DbSession, Viewer
from tradewind.api.ui.etag_json import etag_json
from tradewind.api.ui.graph_layout import group_members
from tradewind.api.ui.live_state import parse_keys, snapshot
from tradewind.sdk.errors import NotFoundError

router = APIRouter(include_in_schema=False)


@router.get("/ui/live")
def live_state(
    session: DbSession,
    ctx: Ctx,
    _: Viewer,
    key: Annotated[list[str] | None, Query(description="JSON arrays naming what the page shows")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    def groups(dag_id: str) -> dict[str, list[str]]:
        try:
            return group_members(ctx.dag_cache.get(session=session, dag_id=dag_id))
        except NotFoundError:
            return {}

    return etag_json(snapshot(session, parse_keys(key or []), groups), if_none_match)
