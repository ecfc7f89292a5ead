"""REST API: DAGs (list, get, details, pause, delete, tasks) and DAG sources."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from tradewind.actions import dag_actions
from tradewind.api.dependencies import Admin, Ctx, DbSession, Op, Viewer, file_token, fileloc_of
from tradewind.api.errors import NO_CONTENT
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.rest.schemas.dags import (
    DAG,
    DAGCollection,
    DAGDetail,
    DAGPatch,
    DAGSource,
    TaskCollection,
    dag_body,
)
from tradewind.api.ui.schedule_shapes import time_delta
from tradewind.store import dag_files, dags, import_errors

router = APIRouter(tags=["DAG"], responses=ERROR_RESPONSES)


@router.get("/dags", response_model=DAGCollection, summary="List DAGs")
def list_dags(
    session: DbSession,
    ctx: Ctx,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    tags: Annotated[list[str] | None, Query(description="DAGs with any of these tags")] = None,
    dag_id_pattern: Annotated[str | None, Query(description="part of the dag id, any case")] = None,
    paused: bool | None = None,
    only_active: bool = True,
    order_by: str = "dag_id",
) -> dict[str, Any]:
    rows, total = dags.list_dags(
        session=session,
        only_active=only_active,
        paused=paused,
        tags=tags,
        search=dag_id_pattern,
        limit=limit,
        offset=offset,
        order_by=order_by,
    )
    failing = import_errors.failing_filenames(session=session)
    bodies = [dag_body(d, file_token(ctx, d.fileloc), has_import_errors=d.fileloc in failing) for d in rows]
    return {"dags": bodies, "total_entries": total}


@router.get("/dags/{dag_id}", response_model=DAG, summary="Get a DAG")
def get_dag(dag_id: str, session: DbSession, ctx: Ctx, _: Viewer) -> dict[str, Any]:
    dag = dags.get_dag(session=session, dag_id=dag_id)
    failing = import_errors.failing_filenames(session=session)
    return dag_body(dag, file_token(ctx, dag.fileloc), has_import_errors=dag.fileloc in failing)


@router.get("/dags/{dag_id}/details", response_model=DAGDetail, summary="Get a DAG with its params and doc")
def get_dag_details(dag_id: str, session: DbSession, ctx: Ctx, _: Viewer) -> dict[str, Any]:
    dag = dags.get_dag(session=session, dag_id=dag_id)
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    failing = import_errors.failing_filenames(session=session)
    body = dag_body(dag, file_token(ctx, dag.fileloc), has_import_errors=dag.fileloc in failing)
    body.update(
        doc_md=sdag.doc_md,
        params={name: p.model_dump(by_alias=True, mode="json") for name, p in sdag.params.items()},
        start_date=sdag.start_date,
        end_date=sdag.end_date,
        catchup=sdag.catchup,
        timezone=sdag.timezone,
        dagrun_timeout=sdag.dagrun_timeout,
        dag_run_timeout=time_delta(sdag.dagrun_timeout) if sdag.dagrun_timeout else None,
        concurrency=dag.max_active_tasks,
        last_parsed=dag.last_parsed_time,
        task_count=len(sdag.tasks),
    )
    return body


@router.patch("/dags/{dag_id}", response_model=DAG, summary="Pause or unpause a DAG")
def patch_dag(dag_id: str, body: DAGPatch, ctx: Ctx, principal: Op) -> dict[str, Any]:
    dag = dag_actions.set_paused(ctx.write_factory, principal, dag_id=dag_id, is_paused=body.is_paused)
    return dag_body(dag, file_token(ctx, dag.fileloc))


@router.delete("/dags/{dag_id}", status_code=NO_CONTENT, summary="Delete a DAG's metadata")
def delete_dag(dag_id: str, ctx: Ctx, principal: Admin) -> Response:
    dag_actions.delete_dag(ctx.write_factory, principal, dag_id=dag_id)
    return Response(status_code=NO_CONTENT)


@router.get("/dags/{dag_id}/tasks", response_model=TaskCollection, summary="List a DAG's tasks")
def list_tasks(dag_id: str, session: DbSession, ctx: Ctx, _: Viewer) -> dict[str, Any]:
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    tasks = [
        {
            "task_id": t.task_id,
            "task_display_name": t.display_name,
            "operator": t.operator,
            "downstream_task_ids": t.downstream,
            "upstream_task_ids": t.upstream,
            "trigger_rule": t.trigger_rule,
            "retries": t.retries or 0,
            "pool": t.pool,
            "queue": t.queue,
            "owner": t.owner,
            "task_group": t.task_group,
            "is_mapped": t.is_mapped,
            "template_fields": t.template_fields,
            "doc_md": t.doc_md,
        }
        for t in sdag.tasks
    ]
    return {"tasks": tasks, "total_entries": len(tasks)}


@router.get("/dags/{dag_id}/source", response_model=DAGSource, summary="Get the source of a DAG's file")
def get_dag_source(dag_id: str, session: DbSession, _: Viewer) -> dict[str, Any]:
    dag = dags.get_dag(session=session, dag_id=dag_id)
    return {
        "content": dag_files.get_dag_file(session=session, fileloc=dag.fileloc).source,
        "fileloc": dag.fileloc,
    }


@router.get("/dagSources/{file_token}", response_model=DAGSource, summary="Get a DAG file's source by token")
def get_source_by_token(file_token: str, session: DbSession, ctx: Ctx, _: Viewer) -> dict[str, Any]:
    fileloc = fileloc_of(ctx, file_token)
    return {"content": dag_files.get_dag_file(session=session, fileloc=fileloc).source, "fileloc": fileloc}
