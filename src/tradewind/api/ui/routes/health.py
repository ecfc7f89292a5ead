"""/health: database and scheduler status for probes (JSON) and people (a page); open without login."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from tradewind.api.auth.authentication import optional_principal
from tradewind.api.component_health import check_health
from tradewind.api.dependencies import Ctx
from tradewind.api.errors import wants_json
from tradewind.api.ui.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/health")
async def health(request: Request, ctx: Ctx) -> Response:
    if wants_json(request):
        report = await run_in_threadpool(check_health, ctx.read_factory, ctx.settings)
        return JSONResponse(report.as_json())
    # The page lists running jobs (hosts, pids) only to logged-in users.
    principal = await optional_principal(request)
    request.state.principal = principal
    report = await run_in_threadpool(
        check_health, ctx.read_factory, ctx.settings, with_jobs=principal is not None
    )
    return render(request, "health.html", report=report, started_at=ctx.started_at)
