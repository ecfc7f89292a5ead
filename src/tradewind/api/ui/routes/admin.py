"""Pages: variables and pools (create, edit, delete; secret-looking values masked) and the audit log."""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from tradewind.actions import variables_and_pools
from tradewind.api.dependencies import Admin, Ctx, DbSession, Viewer
from tradewind.api.rest.schemas.bounds import INT64_MAX, Page
from tradewind.api.ui.rendering import redirect, render
from tradewind.core.redaction import redact_json_text
from tradewind.sdk.errors import ParamValidationError, RefusedInputError
from tradewind.store import audit, pools, variables

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 100
Text = Annotated[str, Form()]


@router.get("/variables")
def variable_list(request: Request, session: DbSession, _: Viewer) -> Response:
    rows, total = variables.list_variables(session=session)
    shown = []
    for row in rows:
        value, masked = redact_json_text(row.val, row.key)
        shown.append({"key": row.key, "value": value, "masked": masked, "description": row.description})
    return render(request, "variables.html", variables=shown, total=total)


@router.get("/variables/new")
def variable_new(request: Request, _: Admin) -> Response:
    return render(request, "variable_form.html", variable=None, secret=False, error=None, values={})


@router.post("/variables/new")
def variable_create(
    request: Request, ctx: Ctx, principal: Admin, key: Text = "", value: Text = "", description: Text = ""
) -> Response:
    variables_and_pools.create_variable(
        ctx.write_factory, principal, key=key, value=value, description=description or None
    )
    return redirect("/variables", f"Variable {key.strip()} created.")


@router.get("/variables/{key}/edit")
def variable_edit(key: str, request: Request, session: DbSession, _: Admin) -> Response:
    row = variables.get_variable(session=session, key=key)
    _shown, masked = redact_json_text(row.val, key)
    # A masked value is never sent to the browser: the form keeps it unless a new one is typed.
    return render(
        request,
        "variable_form.html",
        variable=row,
        secret=masked,
        error=None,
        values={"value": "" if masked else row.val},
    )


@router.post("/variables/{key}/edit")
def variable_update(
    key: str, ctx: Ctx, principal: Admin, value: Text = "", description: Text = "", keep_value: Text = ""
) -> Response:
    variables_and_pools.update_variable(
        ctx.write_factory,
        principal,
        key=key,
        value=None if keep_value and not value else value,
        description=description or None,
    )
    return redirect("/variables", f"Variable {key} saved.")


@router.post("/variables/{key}/delete")
def variable_delete(key: str, ctx: Ctx, principal: Admin) -> Response:
    variables_and_pools.delete_variable(ctx.write_factory, principal, key=key)
    return redirect("/variables", f"Variable {key} deleted.")


@router.get("/pools")
def pool_list(request: Request, session: DbSession, _: Viewer) -> Response:
    return render(request, "pools.html", pools=pools.list_pools(session=session))


@router.get("/pools/new")
def pool_new(request: Request, _: Admin) -> Response:
    return render(request, "pool_form.html", pool=None)


def _slots(value: str) -> int:
    try:
        slots = int(value)
    except ValueError:
        raise ParamValidationError(f"slots must be a whole number, got {value!r}", param="slots") from None
    if slots > INT64_MAX:
        raise RefusedInputError(f"slots must be at most {INT64_MAX}", field="slots")
    return slots


@router.post("/pools/new")
def pool_create(
    ctx: Ctx, principal: Admin, name: Text = "", slots: Text = "", description: Text = ""
) -> Response:
    variables_and_pools.create_pool(
        ctx.write_factory, principal, name=name, slots=_slots(slots), description=description or None
    )
    return redirect("/pools", f"Pool {name.strip()} created.")


@router.get("/pools/{name}/edit")
def pool_edit(name: str, request: Request, session: DbSession, _: Admin) -> Response:
    return render(request, "pool_form.html", pool=pools.get_pool(session=session, name=name))


@router.post("/pools/{name}/edit")
def pool_update(name: str, ctx: Ctx, principal: Admin, slots: Text = "", description: Text = "") -> Response:
    variables_and_pools.update_pool(
        ctx.write_factory, principal, name=name, slots=_slots(slots), description=description or None
    )
    return redirect("/pools", f"Pool {name} saved.")


@router.post("/pools/{name}/delete")
def pool_delete(name: str, ctx: Ctx, principal: Admin) -> Response:
    variables_and_pools.delete_pool(ctx.write_factory, principal, name=name)
    return redirect("/pools", f"Pool {name} deleted.")


@router.get("/audit-log")
def audit_log(
    request: Request,
    session: DbSession,
    _: Viewer,
    page: Page = 1,
    dag_id: str = "",
    event: str = "",
) -> Response:
    rows, total = audit.list_audit(
        session=session,
        limit=AUDIT_PAGE,
        offset=(page - 1) * AUDIT_PAGE,
        dag_id=dag_id or None,
        event=event or None,
    )
    return render(
        request,
        "audit.html",
        entries=rows,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / AUDIT_PAGE)),
        dag_id=dag_id,
        event=event,
        quote=quote,
    )
