"""/api/v2 DAG runs: list, get, trigger and clear (Airflow 3's public API shapes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tradewind.actions import dag_actions
from tradewind.api.dependencies import Ctx, DbSession, Op, Viewer
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.rest.schemas.v2_dag_runs import (
    DAGRunClearBody,
    DAGRunCollectionResponse,
    DAGRunResponse,
    TriggerDAGRunPostBody,
    dag_run_response,
)
from tradewind.api.rest.schemas.v2_task_instances import task_instance_response
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import DagRunState
from tradewind.sdk.errors import ParamValidationError
from tradewind.store import asset_queue, dag_runs, dags, task_instances

router = APIRouter(tags=["DagRun"], responses=ERROR_RESPONSES)
ALL = "~"


@router.get("/dags/{dag_id}/dagRuns", response_model=DAGRunCollectionResponse, summary="List DAG runs")
def list_dag_runs(
    dag_id: str,
    session: DbSession,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    state: Annotated[list[DagRunState] | None, Query()] = None,
    order_by: str = "-logical_date",
) -> dict[str, Any]:
    if dag_id != ALL:
        dags.get_dag(session=session, dag_id=dag_id)
    runs, total = dag_runs.list_dag_runs(
        session=session,
        dag_id=None if dag_id == ALL else dag_id,
        states=state,
        limit=limit,
        offset=offset,
        order_by=order_by,
    )
    consumed = asset_queue.consumed_events(session=session, dag_run_ids=[r.id for r in runs])
    return {"dag_runs": [dag_run_response(r, consumed[r.id]) for r in runs], "total_entries": total}


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}", response_model=DAGRunResponse, summary="Get a DAG run")
def get_dag_run(dag_id: str, dag_run_id: str, session: DbSession, _: Viewer) -> dict[str, Any]:
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    return dag_run_response(run, asset_queue.consumed_events(session=session, dag_run_ids=[run.id])[run.id])


@router.post("/dags/{dag_id}/dagRuns", response_model=DAGRunResponse, summary="Trigger a DAG run")
def trigger_dag_run(dag_id: str, body: TriggerDAGRunPostBody, ctx: Ctx, principal: Op) -> dict[str, Any]:
    """A queued manual run; a null ``logical_date`` means now. ``conf`` is checked against the params."""
    for name in ("data_interval_start", "data_interval_end", "partition_key"):
        if getattr(body, name) is not None:
            raise ParamValidationError(f"{name} is not supported by Tradewind's trigger", param=name)
    run = dag_actions.trigger(
        ctx.write_factory,
        principal,
        dag_id=dag_id,
        conf=body.conf,
        run_id=body.dag_run_id,
        logical_date=body.logical_date or body.run_after,
        note=body.note,
        allowed_run_id_pattern=ctx.settings.scheduler.allowed_run_id_pattern,
    )
    return dag_run_response(run)


@router.post(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/clear",
    response_model=None,
    summary="Clear a DAG run",
    responses={200: {"description": "dry_run: {task_instances, total_entries}; otherwise the DAG run"}},
)
def clear_dag_run(
    dag_id: str, dag_run_id: str, body: DAGRunClearBody, session: DbSession, ctx: Ctx, principal: Op
) -> dict[str, Any]:
    if body.only_new:
        raise ParamValidationError("only_new is not supported by Tradewind", param="only_new")
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
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
        wanted = set(keys)
        tis, _total = task_instances.list_task_instances(session=session, dag_id=dag_id, run_id=dag_run_id)
        chosen = [task_instance_response(ti, run) for ti in tis if TaskInstanceKey.of(ti) in wanted]
        return {"task_instances": chosen, "total_entries": len(chosen)}
    session.rollback()  # end the read snapshot taken before the clear, to see its result
    fresh = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    return DAGRunResponse.model_validate(dag_run_response(fresh)).model_dump(mode="json")
