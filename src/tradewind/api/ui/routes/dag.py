"""Pages of one DAG: graph view, grid view, runs, source code and details; and the graph's live data."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from tradewind.api.context import AppContext
from tradewind.api.dependencies import Ctx, DbSession, Viewer
from tradewind.api.rest.schemas.bounds import Page
from tradewind.api.rest.schemas.dags import schedule_text
from tradewind.api.ui.graph_layout import group_members, layout
from tradewind.api.ui.grid_data import grid_values
from tradewind.api.ui.live_state import task_details
from tradewind.api.ui.rendering import render
from tradewind.api.ui.run_states import STATES, group_states, mapped_counts, task_states
from tradewind.api.ui.schedule_display import dag_timezone, readable_schedule
from tradewind.core.clock import utcnow
from tradewind.core.states import FINISHED_DAG_RUN_STATES, DagRunState
from tradewind.sdk.errors import NotFoundError
from tradewind.store import asset_queue, dag_files, dag_runs, dags
from tradewind.store.tables import DagRunModel

router = APIRouter(include_in_schema=False)
GRID_RUNS = 25
RUNS_PAGE = 50


def run_finished(run: DagRunModel | None) -> bool:
    return run is None or DagRunState(run.state) in FINISHED_DAG_RUN_STATES


def dag_header(session: Session, ctx: AppContext, dag_id: str, run_id: str | None = None) -> dict[str, Any]:
    """What every tab of the DAG page shows: the DAG, its recent runs, and the selected run."""
    dag = dags.get_dag(session=session, dag_id=dag_id)
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    runs, total = dag_runs.list_dag_runs(session=session, dag_id=dag_id, limit=GRID_RUNS)
    selected = None
    if run_id:
        selected = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=run_id)
    elif runs:
        selected = runs[0]
    return {
        "dag": dag,
        "sdag": sdag,
        "runs": runs,
        "run_total": total,
        "selected_run": selected,
        "schedule": schedule_text(dag),
        "readable_schedule": readable_schedule(dag),
        "dag_timezone": dag_timezone(dag.timetable, sdag.timezone),
        "states": STATES,
    }


@router.get("/dags/{dag_id}")
def graph_page(
    dag_id: str, request: Request, session: DbSession, ctx: Ctx, _: Viewer, run_id: str | None = None
) -> Response:
    header = dag_header(session, ctx, dag_id, run_id)
    return render(request, "dag_graph.html", tab="graph", **header)


@router.get("/dags/{dag_id}/graph-data")
def graph_data(
    dag_id: str,
    session: DbSession,
    ctx: Ctx,
    _: Viewer,
    run_id: str | None = None,
    collapsed: Annotated[str, Query(description="comma-separated group ids to show collapsed")] = "",
) -> JSONResponse:
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    data = layout(sdag, {g for g in collapsed.split(",") if g})
    data["dag_id"] = dag_id
    data.update(run_status(session, sdag_id=dag_id, run_id=run_id, members=group_members(sdag)))
    return JSONResponse(data)


def run_status(
    session: Session, *, sdag_id: str, run_id: str | None, members: dict[str, list[str]]
) -> dict[str, Any]:
    if not run_id:
        return {
            "run_id": None,
            "run_state": None,
            "finished": True,
            "tasks": {},
            "group_states": {},
            "mapped": {},
            "details": {},
        }
    run = dag_runs.get_dag_run(session=session, dag_id=sdag_id, run_id=run_id)
    tasks = task_states(session=session, dag_id=sdag_id, run_ids=[run_id]).get(run_id, {})
    return {
        "run_id": run_id,
        "run_state": run.state,
        "finished": run_finished(run),
        "tasks": tasks,
        "group_states": group_states(tasks, members),
        "mapped": mapped_counts(session=session, dag_id=sdag_id, run_id=run_id),
        "details": task_details(session, sdag_id, run_id),
    }


@router.get("/dags/{dag_id}/runs/{run_id}/states")
def run_states(dag_id: str, run_id: str, session: DbSession, ctx: Ctx, _: Viewer) -> JSONResponse:
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    return JSONResponse(run_status(session, sdag_id=dag_id, run_id=run_id, members=group_members(sdag)))


@router.get("/dags/{dag_id}/grid")
def grid_page(
    dag_id: str, request: Request, session: DbSession, ctx: Ctx, _: Viewer, fragment: bool = False
) -> Response:
    header = dag_header(session, ctx, dag_id)
    runs = list(reversed(header["runs"]))  # oldest on the left, as time reads
    values = dict(
        header,
        tab="grid",
        live=any(not run_finished(r) for r in runs),
        **grid_values(session, header["sdag"], runs, utcnow()),
    )
    return render(request, "_grid_table.html" if fragment else "dag_grid.html", **values)


@router.get("/dags/{dag_id}/runs")
def runs_page(
    dag_id: str,
    request: Request,
    session: DbSession,
    ctx: Ctx,
    _: Viewer,
    page: Page = 1,
    state: str = "",
) -> Response:
    header = dag_header(session, ctx, dag_id)
    states = [DagRunState(state)] if state in {s.value for s in DagRunState} else None
    rows, total = dag_runs.list_dag_runs(
        session=session, dag_id=dag_id, states=states, limit=RUNS_PAGE, offset=(page - 1) * RUNS_PAGE
    )
    return render(
        request,
        "dag_runs.html",
        tab="runs",
        run_rows=rows,
        consumed=asset_queue.consumed_events(session=session, dag_run_ids=[r.id for r in rows]),
        total=total,
        page=page,
        pages=max(1, math.ceil(total / RUNS_PAGE)),
        state_filter=state,
        **header,
    )


@router.get("/dags/{dag_id}/code")
def code_page(dag_id: str, request: Request, session: DbSession, ctx: Ctx, _: Viewer) -> Response:
    header = dag_header(session, ctx, dag_id)
    try:
        source = dag_files.get_dag_file(session=session, fileloc=header["dag"].fileloc).source
    except NotFoundError:
        source = None
    code = None
    style = ""
    if source is not None:
        # Imported at the first code page shown: the highlighter is a webserver's largest page-only import.
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        formatter = HtmlFormatter(linenos="table", cssclass="highlight")
        code = Markup(highlight(source, PythonLexer(), formatter))
        style = formatter.get_style_defs(".highlight")
    return render(request, "dag_code.html", tab="code", code=code, code_style=style, **header)


@router.get("/dags/{dag_id}/details")
def details_page(dag_id: str, request: Request, session: DbSession, ctx: Ctx, _: Viewer) -> Response:
    header = dag_header(session, ctx, dag_id)
    return render(request, "dag_details.html", tab="details", **header)
