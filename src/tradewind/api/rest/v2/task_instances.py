"""/api/v2 task instances: list, get, clear and logs (Airflow 3's public API shapes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from tradewind.actions import dag_actions
from tradewind.api.dependencies import Ctx, DbSession, Op, Viewer
from tradewind.api.rest.log_events import log_events
from tradewind.api.rest.schemas.bounds import Int64
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.rest.schemas.v2_task_instances import (
    ClearTaskInstancesBody,
    TaskInstanceCollectionResponse,
    TaskInstanceResponse,
    TaskInstancesLogResponse,
    task_instance_response,
)
from tradewind.api.rest.v1.task_instances import parse_states
from tradewind.core.keys import TaskInstanceKey
from tradewind.logs.reading import try_is_running
from tradewind.sdk.errors import NotFoundError
from tradewind.store import dag_runs, task_instances
from tradewind.store.tables import DagRunModel, TaskInstanceModel

router = APIRouter(tags=["TaskInstance"], responses=ERROR_RESPONSES)
RUN_PATH = "/dags/{dag_id}/dagRuns/{dag_run_id}"
TI_PATH = RUN_PATH + "/taskInstances/{task_id}"
ALL = "~"


def _bodies(session: Session, tis: list[TaskInstanceModel]) -> list[dict[str, Any]]:
    runs: dict[tuple[str, str], DagRunModel] = {}
    bodies = []
    for ti in tis:
        ident = (ti.dag_id, ti.run_id)
        if ident not in runs:
            runs[ident] = dag_runs.get_dag_run(session=session, dag_id=ti.dag_id, run_id=ti.run_id)
        bodies.append(task_instance_response(ti, runs[ident]))
    return bodies


@router.get(
    RUN_PATH + "/taskInstances",
    response_model=TaskInstanceCollectionResponse,
    summary="List task instances ('~' for every DAG or run)",
)
def list_task_instances(
    dag_id: str,
    dag_run_id: str,
    session: DbSession,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    state: Annotated[list[str] | None, Query(description="states; 'none' for no state yet")] = None,
    task_id: str | None = None,
) -> dict[str, Any]:
    if dag_id != ALL and dag_run_id != ALL:
        dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    tis, total = task_instances.list_task_instances(
        session=session,
        dag_id=None if dag_id == ALL else dag_id,
        run_id=None if dag_run_id == ALL else dag_run_id,
        task_ids=None if task_id is None else [task_id],
        states=parse_states(state),
        limit=limit,
        offset=offset,
    )
    return {"task_instances": _bodies(session, list(tis)), "total_entries": total}


def _one(session: Session, key: TaskInstanceKey) -> dict[str, Any]:
    run = dag_runs.get_dag_run(session=session, dag_id=key.dag_id, run_id=key.run_id)
    return task_instance_response(task_instances.get_task_instance(session=session, key=key), run)


@router.get(TI_PATH, response_model=TaskInstanceResponse, summary="Get a task instance")
def get_task_instance(
    dag_id: str, dag_run_id: str, task_id: str, session: DbSession, _: Viewer
) -> dict[str, Any]:
    return _one(session, TaskInstanceKey(dag_id, dag_run_id, task_id, -1))


@router.get(TI_PATH + "/{map_index:int}", response_model=TaskInstanceResponse, summary="Get a mapped one")
def get_mapped_task_instance(
    dag_id: str, dag_run_id: str, task_id: str, map_index: Int64, session: DbSession, _: Viewer
) -> dict[str, Any]:
    return _one(session, TaskInstanceKey(dag_id, dag_run_id, task_id, map_index))


@router.post(
    "/dags/{dag_id}/clearTaskInstances",
    response_model=TaskInstanceCollectionResponse,
    summary="Clear task instances of one run (dry_run, the default, lists them without clearing)",
)
def clear_task_instances(
    dag_id: str, body: ClearTaskInstancesBody, session: DbSession, ctx: Ctx, principal: Op
) -> dict[str, Any]:
    assert body.dag_run_id is not None  # the body's validator requires it
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    keys = dag_actions.clear(
        ctx.write_factory,
        principal,
        sdag,
        run_id=body.dag_run_id,
        task_ids=body.task_id_set(),
        include_downstream=body.include_downstream,
        only_failed=body.only_failed,
        dry_run=body.dry_run,
    )
    session.rollback()  # a fresh snapshot, to show the task instances as the clear left them
    wanted = set(keys)
    tis, _total = task_instances.list_task_instances(session=session, dag_id=dag_id, run_id=body.dag_run_id)
    chosen = [ti for ti in tis if TaskInstanceKey.of(ti) in wanted]
    return {"task_instances": _bodies(session, chosen), "total_entries": len(chosen)}


@router.get(
    TI_PATH + "/logs/{try_number}",
    response_model=TaskInstancesLogResponse,
    summary="Read a try's log as structured messages; follow it with the continuation token",
)
def get_log(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    try_number: Int64,
    session: DbSession,
    ctx: Ctx,
    _: Viewer,
    map_index: Int64 = -1,
    token: str | None = None,
    full_content: bool = False,
) -> dict[str, Any]:
    key = TaskInstanceKey(dag_id, dag_run_id, task_id, map_index)
    ti = task_instances.get_task_instance(session=session, key=key)
    if try_number < 1 or try_number > max(ti.try_number, 1):
        raise NotFoundError(
            f"task instance {key} has no try {try_number} (tries so far: {ti.try_number})",
            kind="log",
            ident=str(try_number),
        )
    running = try_is_running(ti.state, ti.try_number, try_number)
    part = ctx.log_reader.read(key, try_number, token=None if full_content else token, running=running, limit=-1)
    content = part.content if part.found or running else f"*** {part.note}\n"
    return {"content": log_events(content), "continuation_token": part.token}
