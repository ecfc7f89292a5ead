"""REST API /api/v1/connections in Airflow 2's stable-API shapes (admin and op only; passwords write-only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session
from starlette.responses import Response

from tradewind.api import connection_actions
from tradewind.api.context import AppContext
from tradewind.api.dependencies import Ctx, DbSession, Op
from tradewind.api.errors import NO_CONTENT
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.rest.schemas.connections import (
    ConnectionBody,
    ConnectionCollection,
    ConnectionTestResult,
    ConnectionV1,
    v1_connection,
    v1_item,
)
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ParamValidationError
from tradewind.store import connections

router = APIRouter(responses=ERROR_RESPONSES)
VIA = "api"
OrderBy = Annotated[
    str,
    Query(
        max_length=50,
        description="connection_id, conn_type, description, host, schema, login, port or id; '-' first for "
        "descending",
    ),
]
UpdateMask = Annotated[list[str] | None, Query(description="the fields to change (default: all sent)")]
#: API names of the listing order -> the store's.
ORDER_NAMES = {"connection_id": "conn_id", **{c: c for c in connections.ORDER_COLUMNS}}


def list_page(
    ctx: AppContext, session: Session, limit: int, offset: int, order_by: str
) -> tuple[list[Connection], int]:
    """One page of connections, in ``order_by`` (an API name, ``-`` first for descending)."""
    name = order_by.removeprefix("-")
    if name not in ORDER_NAMES:
        raise ParamValidationError(
            f"order_by {order_by!r} is not one of {sorted(ORDER_NAMES)} (with '-' first for descending)",
            param="order_by",
        )
    return connections.list_connections(
        session=session,
        cipher=connection_actions.cipher(ctx),
        limit=limit,
        offset=offset,
        order_by=ORDER_NAMES[name],
        descending=order_by.startswith("-"),
    )


def check_mask(update_mask: list[str] | None) -> set[str] | None:
    if not update_mask:
        return None
    fields = {name.strip() for item in update_mask for name in item.split(",") if name.strip()}
    unknown = sorted(fields - set(connection_actions.CHANGEABLE))
    if unknown:
        raise ParamValidationError(
            f"update_mask names fields that cannot change: {unknown}", param="update_mask"
        )
    return fields


def check_same_id(body: ConnectionBody, connection_id: str) -> None:
    if body.connection_id != connection_id:
        raise ParamValidationError(
            f"connection_id {body.connection_id!r} in the body differs from {connection_id!r} in the URL "
            "(a connection id cannot change)",
            param="connection_id",
        )


@router.get(
    "/connections", response_model=ConnectionCollection, tags=["Connection"], summary="List connections"
)
def list_connections(
    ctx: Ctx,
    session: DbSession,
    _: Op,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    order_by: OrderBy = "connection_id",
) -> dict[str, Any]:
    rows, total = list_page(ctx, session, limit, offset, order_by)
    return {"connections": [v1_item(c) for c in rows], "total_entries": total}


@router.get(
    "/connections/{connection_id}",
    response_model=ConnectionV1,
    tags=["Connection"],
    summary="Get a connection",
)
def get_connection(connection_id: str, ctx: Ctx, session: DbSession, _: Op) -> dict[str, Any]:
    return v1_connection(connection_actions.get(ctx, session, connection_id))


@router.post("/connections", response_model=ConnectionV1, tags=["Connection"], summary="Create a connection")
def create_connection(body: ConnectionBody, ctx: Ctx, principal: Op) -> dict[str, Any]:
    connection = connection_actions.build(body.connection_id, body.fields())
    return v1_connection(connection_actions.create(ctx, principal, connection, via=VIA))


@router.patch(
    "/connections/{connection_id}",
    response_model=ConnectionV1,
    tags=["Connection"],
    summary="Update a connection",
)
def patch_connection(
    connection_id: str, body: ConnectionBody, ctx: Ctx, principal: Op, update_mask: UpdateMask = None
) -> dict[str, Any]:
    check_same_id(body, connection_id)
    fields = check_mask(update_mask) or body.given()
    connection = connection_actions.update(ctx, principal, connection_id, body.fields(fields), via=VIA)
    return v1_connection(connection)


@router.delete(
    "/connections/{connection_id}", status_code=NO_CONTENT, tags=["Connection"], summary="Delete a connection"
)
def delete_connection(connection_id: str, ctx: Ctx, principal: Op) -> Response:
    connection_actions.delete(ctx, principal, connection_id, via=VIA)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/connections/test",
    response_model=ConnectionTestResult,
    tags=["Connection"],
    summary="Test a connection through its hook",
)
def test_connection(body: ConnectionBody, ctx: Ctx, session: DbSession, _: Op) -> dict[str, Any]:
    """The connection need not be stored; a ``***`` password or extra value is taken from the stored one."""
    result = connection_actions.test(
        ctx, session, connection_actions.build(body.connection_id, body.fields())
    )
    return {"status": result.ok, "message": result.message}
