"""REST API: DAG runs (list, get, trigger, change state, clear)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tradewind.actions import dag_actions
from tradewind.api.dependencies import Ctx, DbSession, Op, Viewer
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.rest.schemas.dag_runs import (
    ClearDAGRun,
    DAGRun,
    DAGRunCollection,
    DAGRunStatePatch,
    TriggerDAGRun,
    dag_run_body,
)
from tradewind.api.rest.schemas.task_instances import reference_body
from tradewind.core.states import DagRunState
from tradewind.store import asset_queue, dag_runs, dags

router = APIRouter(tags=["DAGRun"], responses=ERROR_RESPONSES)
ALL_DAGS = "~"


@router.get(
    "/dags/{dag_id}/dagRuns", response_model=DAGRunCollection, summary="List DAG runs ('~' for all DAGs)"
)
def list_dag_runs(
    dag_id: str,
    session: DbSession,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    state: Annotated[list[DagRunState] | None, Query()] = None,
    order_by: str = "-logical_date",
) -> dict[str, Any]:
    if dag_id != ALL_DAGS:
        dags.get_dag(session=session, dag_id=dag_id)
    runs, total = dag_runs.list_dag_runs(
        session=session,
        dag_id=None if dag_id == ALL_DAGS else dag_id,
        states=state,
        limit=limit,
        offset=offset,
        order_by=order_by,
    )
    consumed = asset_queue.consumed_events(session=session, dag_run_ids=[r.id for r in runs])
    return {"dag_runs": [dag_run_body(r, consumed[r.id]) for r in runs], "total_entries": total}


@router.post("/dags/{dag_id}/dagRuns", response_model=DAGRun, summary="Trigger a DAG run")
def trigger_dag_run(dag_id: str, body: TriggerDAGRun, ctx: Ctx, principal: Op) -> dict[str, Any]:
    """Create a queued run; ``conf`` is validated against the DAG's params (422 when it fails, 409 when
    the run id exists)."""
    run = dag_actions.trigger(
        ctx.write_factory,
        principal,
        dag_id=dag_id,
        conf=body.conf,
        run_id=body.dag_run_id,
        logical_date=body.logical_date,
        note=body.note,
        allowed_run_id_pattern=ctx.settings.scheduler.allowed_run_id_pattern,
    )
    return dag_run_body(run)


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}", response_model=DAGRun, summary="Get a DAG run")
def get_dag_run(dag_id: str, dag_run_id: str, session: DbSession, _: Viewer) -> dict[str, Any]:
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    return dag_run_body(run, asset_queue.consumed_events(session=session, dag_run_ids=[run.id])[run.id])


@router.patch("/dags/{dag_id}/dagRuns/{dag_run_id}", response_model=DAGRun, summary="Set a DAG run's state")
def patch_dag_run(
    dag_id: str, dag_run_id: str, body: DAGRunStatePatch, ctx: Ctx, principal: Op
) -> dict[str, Any]:
    run = dag_actions.set_run_state(
        ctx.write_factory, principal, dag_id=dag_id, run_id=dag_run_id, state=DagRunState(body.state)
    )
    return dag_run_body(run)


@router.post(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/clear",
    summary="Clear a DAG run",
    response_model=None,
    responses={200: {"description": "with dry_run: {task_instances: [...]}; otherwise the DAG run"}},
)
def clear_dag_run(
    dag_id: str, dag_run_id: str, body: ClearDAGRun, session: DbSession, ctx: Ctx, principal: Op
) -> dict[str, Any]:
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    keys = dag_actions.clear(
        ctx.write_factory,
        principal,
        sdag,
        run_id=dag_run_id,
        task_ids=None,
        only_failed=body.only_failed,
        dry_run=body.dry_run,
    )
    if body.dry_run:
        run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
        return {"task_instances": [reference_body(k, run.logical_date) for k in keys]}
    session.rollback()  # end the read snapshot taken before the clear, to see its result
    return DAGRun.model_validate(
        dag_run_body(dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id))
    ).model_dump(mode="json")
