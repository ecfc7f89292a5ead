"""/api/v2/connections in Airflow 3's public-API shapes (admin and op only; a password is answered as ***)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from tradewind.api import connection_actions
from tradewind.api.dependencies import Ctx, DbSession, Op
from tradewind.api.errors import CREATED, NO_CONTENT
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.rest.schemas.connections import (
    ConnectionBody,
    ConnectionCollectionResponse,
    ConnectionResponse,
    ConnectionTestResult,
    v2_connection,
)
from tradewind.api.rest.v1.connections import OrderBy, UpdateMask, check_mask, check_same_id, list_page

router = APIRouter(responses=ERROR_RESPONSES)
VIA = "api"


@router.get("/connections", response_model=ConnectionCollectionResponse, tags=["Connection"])
def list_connections(
    ctx: Ctx,
    session: DbSession,
    _: Op,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    order_by: OrderBy = "connection_id",
) -> dict[str, Any]:
    rows, total = list_page(ctx, session, limit, offset, order_by)
    return {"connections": [v2_connection(c) for c in rows], "total_entries": total}


@router.get("/connections/{connection_id}", response_model=ConnectionResponse, tags=["Connection"])
def get_connection(connection_id: str, ctx: Ctx, session: DbSession, _: Op) -> dict[str, Any]:
    return v2_connection(connection_actions.get(ctx, session, connection_id))


@router.post("/connections", response_model=ConnectionResponse, status_code=CREATED, tags=["Connection"])
def create_connection(body: ConnectionBody, ctx: Ctx, principal: Op) -> dict[str, Any]:
    connection = connection_actions.build(body.connection_id, body.fields())
    return v2_connection(connection_actions.create(ctx, principal, connection, via=VIA))


@router.patch("/connections/{connection_id}", response_model=ConnectionResponse, tags=["Connection"])
def patch_connection(
    connection_id: str, body: ConnectionBody, ctx: Ctx, principal: Op, update_mask: UpdateMask = None
) -> dict[str, Any]:
    check_same_id(body, connection_id)
    fields = check_mask(update_mask) or body.given()
    return v2_connection(
        connection_actions.update(ctx, principal, connection_id, body.fields(fields), via=VIA)
    )


@router.delete("/connections/{connection_id}", status_code=NO_CONTENT, tags=["Connection"])
def delete_connection(connection_id: str, ctx: Ctx, principal: Op) -> Response:
    connection_actions.delete(ctx, principal, connection_id, via=VIA)
    return Response(status_code=NO_CONTENT)


@router.post("/connections/test", response_model=ConnectionTestResult, tags=["Connection"])
def test_connection(body: ConnectionBody, ctx: Ctx, session: DbSession, _: Op) -> dict[str, Any]:
    result = connection_actions.test(
        ctx, session, connection_actions.build(body.connection_id, body.fields())
    )
    return {"status": result.ok, "message": result.message}
