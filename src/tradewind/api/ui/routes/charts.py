"""Timelines and charts of one DAG: Gantt of a run, run and task durations, calendar, landing times; each a
page drawn in the browser (inline SVG, static/charts.js) from a JSON feed with an ETag."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from tradewind.api.dependencies import Ctx, DbSession, Viewer
from tradewind.api.ui import chart_data
from tradewind.api.ui.etag_json import etag_json
from tradewind.api.ui.live_state import run_active
from tradewind.api.ui.rendering import render
from tradewind.api.ui.routes.dag import dag_header
from tradewind.core.clock import utcnow

router = APIRouter(include_in_schema=False)
#: How many of the latest runs a chart shows, unless ``?limit=`` says otherwise (1 to 365).
DEFAULT_RUNS = 25
Limit = Annotated[int, Query(ge=1, le=365, description="how many of the latest runs to show")]
IfNoneMatch = Annotated[str | None, Header()]


def _page(
    request: Request,
    header: dict[str, Any],
    *,
    tab: str,
    title: str,
    charts: list[dict[str, str]],
    **extra: Any,
) -> Response:
    return render(request, "dag_chart.html", tab=tab, chart_title=title, charts=charts, **header, **extra)


def _dag_live_key(header: dict[str, Any]) -> str:
    """The DAG's latest runs, followed while one of them is queued or running."""
    active = any(run_active(r.state) for r in header["runs"])
    return json.dumps(["runs", header["dag"].dag_id]) if active else ""


@router.get("/dags/{dag_id}/gantt")
def gantt_page(
    dag_id: str, request: Request, session: DbSession, ctx: Ctx, _: Viewer, run_id: str | None = None
) -> Response:
    header = dag_header(session, ctx, dag_id, run_id)
    run = header["selected_run"]
    charts = []
    if run is not None:
        live = json.dumps(["tasks", dag_id, run.run_id]) if run_active(run.state) else ""
        url = f"/dags/{quote(dag_id, safe='')}/gantt-data?run_id={quote(run.run_id, safe='')}"
        charts.append({"kind": "gantt", "url": url, "live": live, "testid": "gantt"})
    return _page(request, header, tab="gantt", title="Gantt", charts=charts, run_picker=True)


@router.get("/dags/{dag_id}/gantt-data")
def gantt_data(
    dag_id: str, run_id: str, session: DbSession, ctx: Ctx, _: Viewer, if_none_match: IfNoneMatch = None
) -> Response:
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    return etag_json(chart_data.gantt(session, sdag, run_id, utcnow()), if_none_match)


@router.get("/dags/{dag_id}/durations")
def durations_page(
    dag_id: str, request: Request, session: DbSession, ctx: Ctx, _: Viewer, limit: Limit = DEFAULT_RUNS
) -> Response:
    header = dag_header(session, ctx, dag_id)
    base = f"/dags/{quote(dag_id, safe='')}"
    live = _dag_live_key(header)
    charts = [
        {"kind": "run-durations", "url": f"{base}/run-durations-data?limit={limit}", "live": live,
         "testid": "run-durations", "title": f"Run duration, last {limit} runs"},
        {"kind": "task-durations", "url": f"{base}/task-durations-data?limit={limit}", "live": live,
         "testid": "task-durations", "title": f"Task duration, last {limit} runs"},
    ]  # fmt: skip
    return _page(request, header, tab="durations", title="Durations", charts=charts, limit=limit)


@router.get("/dags/{dag_id}/run-durations-data")
def run_durations_data(
    dag_id: str, session: DbSession, _: Viewer, limit: Limit = DEFAULT_RUNS, if_none_match: IfNoneMatch = None
) -> Response:
    return etag_json(chart_data.run_durations(session, dag_id, limit, utcnow()), if_none_match)


@router.get("/dags/{dag_id}/task-durations-data")
def task_durations_data(
    dag_id: str,
    session: DbSession,
    ctx: Ctx,
    _: Viewer,
    limit: Limit = DEFAULT_RUNS,
    if_none_match: IfNoneMatch = None,
) -> Response:
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    return etag_json(chart_data.task_durations(session, sdag, limit), if_none_match)


@router.get("/dags/{dag_id}/calendar")
def calendar_page(dag_id: str, request: Request, session: DbSession, ctx: Ctx, _: Viewer) -> Response:
    header = dag_header(session, ctx, dag_id)
    url = f"/dags/{quote(dag_id, safe='')}/calendar-data"
    charts = [{"kind": "calendar", "url": url, "live": _dag_live_key(header), "testid": "calendar"}]
    return _page(request, header, tab="calendar", title="Calendar", charts=charts)


@router.get("/dags/{dag_id}/calendar-data")
def calendar_data(dag_id: str, session: DbSession, _: Viewer, if_none_match: IfNoneMatch = None) -> Response:
    return etag_json(chart_data.calendar(session, dag_id, utcnow()), if_none_match)


@router.get("/dags/{dag_id}/landing-times")
def landing_times_page(
    dag_id: str, request: Request, session: DbSession, ctx: Ctx, _: Viewer, limit: Limit = DEFAULT_RUNS
) -> Response:
    header = dag_header(session, ctx, dag_id)
    url = f"/dags/{quote(dag_id, safe='')}/landing-times-data?limit={limit}"
    charts = [{"kind": "landing-times", "url": url, "live": _dag_live_key(header), "testid": "landing-times"}]
    return _page(request, header, tab="landing", title="Landing times", charts=charts, limit=limit)


@router.get("/dags/{dag_id}/landing-times-data")
def landing_times_data(
    dag_id: str, session: DbSession, _: Viewer, limit: Limit = DEFAULT_RUNS, if_none_match: IfNoneMatch = None
) -> Response:
    return etag_json(chart_data.landing_times(session, dag_id, limit), if_none_match)
