"""REST API: a task instance's extra links (Airflow's ``.../taskInstances/{task_id}/links``), in Airflow 2's
shape under /api/v1 (``router``) and Airflow 3's under /api/v2 (``router_v2``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tradewind.api.context import AppContext
from tradewind.api.dependencies import Ctx, DbSession, Viewer
from tradewind.api.extra_links import task_links
from tradewind.api.rest.schemas.bounds import Int64
from tradewind.api.rest.schemas.common import ERROR_RESPONSES
from tradewind.core.keys import TaskInstanceKey
from tradewind.sdk.errors import NotFoundError
from tradewind.store import dag_runs

router = APIRouter(tags=["TaskInstance"], responses=ERROR_RESPONSES)
router_v2 = APIRouter(tags=["Extra Links"], responses=ERROR_RESPONSES)
LINKS_PATH = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/links"


def _links(
    session: Session, ctx: AppContext, dag_id: str, run_id: str, task_id: str, map_index: Int64
) -> dict[str, str | None]:
    dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=run_id)
    task = ctx.dag_cache.get(session=session, dag_id=dag_id).task_dict.get(task_id)
    if task is None:
        raise NotFoundError(f"DAG {dag_id!r} has no task {task_id!r}", kind="task", ident=task_id)
    return task_links(session, task, TaskInstanceKey(dag_id, run_id, task_id, map_index))


@router.get(
    LINKS_PATH,
    summary="A task instance's extra links: link name -> URL (null when there is none yet)",
    description="As Airflow 2's stable API answers it: a JSON object of link name to URL.",
)
def get_extra_links(
    dag_id: str, dag_run_id: str, task_id: str, session: DbSession, ctx: Ctx, _: Viewer, map_index: Int64 = -1
) -> dict[str, Any]:
    return dict(_links(session, ctx, dag_id, dag_run_id, task_id, map_index))


@router_v2.get(LINKS_PATH, summary="A task instance's extra links (Airflow 3's shape)")
def get_extra_links_v2(
    dag_id: str, dag_run_id: str, task_id: str, session: DbSession, ctx: Ctx, _: Viewer, map_index: Int64 = -1
) -> dict[str, Any]:
    links = _links(session, ctx, dag_id, dag_run_id, task_id, map_index)
    return {"extra_links": links, "total_entries": len(links)}
