"""/api/v2 DAGs: list, get and pause (Airflow 3's public API shapes), over the same store and dag_actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tradewind.actions import dag_actions
from tradewind.api.dependencies import Ctx, DbSession, Op, Viewer, file_token
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.rest.schemas.v2_dags import DAGCollectionResponse, DAGPatchBody, DAGResponse, dag_response
from tradewind.sdk.errors import ParamValidationError
from tradewind.store import dags, import_errors

router = APIRouter(tags=["DAG"], responses=ERROR_RESPONSES)


@router.get("/dags", response_model=DAGCollectionResponse, summary="List DAGs")
def list_dags(
    session: DbSession,
    ctx: Ctx,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    tags: Annotated[list[str] | None, Query(description="DAGs with any of these tags")] = None,
    dag_id_pattern: Annotated[str | None, Query(description="part of the dag id, any case")] = None,
    paused: bool | None = None,
    exclude_stale: bool = True,
    order_by: str = "dag_id",
) -> dict[str, Any]:
    rows, total = dags.list_dags(
        session=session,
        only_active=exclude_stale,
        paused=paused,
        tags=tags,
        search=dag_id_pattern.strip("%") if dag_id_pattern else None,
        limit=limit,
        offset=offset,
        order_by=order_by,
    )
    failing = import_errors.failing_filenames(session=session)
    bodies = [
        dag_response(d, file_token(ctx, d.fileloc), has_import_errors=d.fileloc in failing) for d in rows
    ]
    return {"dags": bodies, "total_entries": total}


@router.get("/dags/{dag_id}", response_model=DAGResponse, summary="Get a DAG")
def get_dag(dag_id: str, session: DbSession, ctx: Ctx, _: Viewer) -> dict[str, Any]:
    dag = dags.get_dag(session=session, dag_id=dag_id)
    failing = import_errors.failing_filenames(session=session)
    return dag_response(dag, file_token(ctx, dag.fileloc), has_import_errors=dag.fileloc in failing)


@router.patch("/dags/{dag_id}", response_model=DAGResponse, summary="Pause or unpause a DAG")
def patch_dag(
    dag_id: str,
    body: DAGPatchBody,
    session: DbSession,
    ctx: Ctx,
    principal: Op,
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    if update_mask is not None and update_mask != ["is_paused"]:
        raise ParamValidationError(
            f"update_mask {update_mask}: only is_paused can be changed through the API", param="update_mask"
        )
    dag = dag_actions.set_paused(ctx.write_factory, principal, dag_id=dag_id, is_paused=body.is_paused)
    failing = import_errors.failing_filenames(session=session)
    return dag_response(dag, file_token(ctx, dag.fileloc), has_import_errors=dag.fileloc in failing)
