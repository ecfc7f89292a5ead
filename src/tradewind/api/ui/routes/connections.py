"""Pages: connections (list, create, edit, delete, test) for admin and op; secrets never sent to the browser."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tradewind.api import connection_actions
from tradewind.api.dependencies import Ctx, DbSession, Op
from tradewind.api.ui.connection_form import connection_from_form, form_spec, form_values
from tradewind.api.ui.rendering import redirect, render
from tradewind.sdk.errors import PermissionDeniedError
from tradewind.sdk.hook_registry import known_conn_types
from tradewind.secrets.connection_view import masked_extra_text
from tradewind.store import connections

router = APIRouter(include_in_schema=False)
VIA = "ui"


@router.get("/connections")
def connection_list(request: Request, ctx: Ctx, session: DbSession, _: Op) -> Response:
    rows, total = connections.list_connections(session=session, cipher=connection_actions.cipher(ctx))
    shown = [
        {"connection": c, "extra": masked_extra_text(c) or "", "has_password": bool(c.password)} for c in rows
    ]
    testing = ctx.settings.core.test_connection
    return render(request, "connections.html", connections=shown, total=total, testing=testing)


def _types(current: str) -> list[str]:
    known = known_conn_types()
    return known if not current or current in known else [*known, current]


def _form(request: Request, conn_type: str, conn_id: str | None, values: dict[str, object]) -> Response:
    spec = form_spec(conn_type)
    return render(
        request, "connection_form.html", spec=spec, conn_id=conn_id, conn_type=conn_type, types=_types(conn_type),
        values=values,
    )  # fmt: skip


@router.get("/connections/new")
def connection_new(request: Request, _: Op, conn_type: str = "", conn_type_other: str = "") -> Response:
    return _form(
        request, (conn_type_other or conn_type).strip(), None, form_values(form_spec(conn_type), None)
    )


@router.post("/connections/new")
async def connection_create(request: Request, ctx: Ctx, principal: Op) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    spec = form_spec(form.get("conn_type", "").strip())
    connection = connection_from_form(spec, form.get("conn_id", ""), form, None)
    connection_actions.create(ctx, principal, connection, via=VIA)
    return redirect("/connections", f"Connection {connection.conn_id} created.")


@router.get("/connections/{conn_id}/edit")
def connection_edit(
    conn_id: str, request: Request, ctx: Ctx, session: DbSession, _: Op, conn_type: str = ""
) -> Response:
    stored = connection_actions.get(ctx, session, conn_id)
    chosen = conn_type.strip() or stored.conn_type or ""
    return _form(request, chosen, conn_id, form_values(form_spec(chosen), stored))


@router.post("/connections/{conn_id}/edit")
async def connection_update(
    conn_id: str, request: Request, ctx: Ctx, session: DbSession, principal: Op
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    stored = connection_actions.get(ctx, session, conn_id)
    spec = form_spec(form.get("conn_type", "").strip() or stored.conn_type or "")
    connection = connection_from_form(spec, conn_id, form, stored)
    changes = {f: getattr(connection, f) for f in connection_actions.CHANGEABLE}
    connection_actions.update(ctx, principal, conn_id, changes, via=VIA)
    return redirect("/connections", f"Connection {conn_id} saved.")


@router.post("/connections/{conn_id}/delete")
def connection_delete(conn_id: str, ctx: Ctx, principal: Op) -> Response:
    connection_actions.delete(ctx, principal, conn_id, via=VIA)
    return redirect("/connections", f"Connection {conn_id} deleted.")


@router.post("/connections/{conn_id}/test")
def connection_test(conn_id: str, ctx: Ctx, session: DbSession, _: Op) -> Response:
    try:
        result = connection_actions.test(ctx, session, connection_actions.get(ctx, session, conn_id))
    except PermissionDeniedError as exc:
        return redirect("/connections", f"Connection {conn_id}: {exc}")
    verdict = "test succeeded" if result.ok else "test failed"
    return redirect("/connections", f"Connection {conn_id}: {verdict}: {result.message}")
