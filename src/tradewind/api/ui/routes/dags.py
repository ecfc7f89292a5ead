"""Pages: the DAG list (filtered, paged, with the import-errors banner), import errors, pause/unpause."""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from tradewind.actions import dag_actions
from tradewind.api.auth.login_routes import safe_next
from tradewind.api.dependencies import Ctx, DbSession, Op, Viewer
from tradewind.api.rest.schemas.bounds import Page
from tradewind.api.rest.schemas.dags import schedule_text
from tradewind.api.ui.dag_list import dag_list_page
from tradewind.api.ui.rendering import redirect, render
from tradewind.api.ui.schedule_display import readable_schedule
from tradewind.store import import_errors

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
PAUSED_FILTERS = {"all": None, "active": False, "paused": True}


@router.get("/")
def home(_: Viewer) -> Response:
    return RedirectResponse("/dags", status_code=303)


@router.get("/dags")
def dag_list(
    request: Request,
    session: DbSession,
    _: Viewer,
    q: str = "",
    tag: Annotated[list[str] | None, Query()] = None,
    status: str = "all",
    page: Page = 1,
) -> Response:
    status = status if status in PAUSED_FILTERS else "all"
    tags = [t for t in (tag or []) if t]
    data = dag_list_page(
        session=session,
        search=q.strip(),
        tags=tags,
        paused=PAUSED_FILTERS[status],
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "dags.html",
        data=data,
        q=q,
        selected_tags=tags,
        status=status,
        page=page,
        pages=max(1, math.ceil(data.total / PAGE_SIZE)),
        schedule_text=schedule_text,
        readable_schedule=readable_schedule,
    )


@router.get("/import-errors")
def import_error_list(request: Request, session: DbSession, _: Viewer) -> Response:
    rows, total = import_errors.list_import_errors(session=session)
    return render(request, "import_errors.html", errors=rows, total=total)


@router.post("/dags/{dag_id}/pause")
def pause(
    dag_id: str,
    ctx: Ctx,
    principal: Op,
    is_paused: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    paused = is_paused.lower() in ("true", "1", "on", "yes")
    dag_actions.set_paused(ctx.write_factory, principal, dag_id=dag_id, is_paused=paused)
    return redirect(
        safe_next(next or f"/dags/{quote(dag_id, safe='')}"),
        f"DAG {dag_id} {'paused' if paused else 'unpaused'}.",
    )
