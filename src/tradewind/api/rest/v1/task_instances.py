"""REST API: task instances (list, get, mark, clear), their logs and XComs."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse

from tradewind.actions import dag_actions
from tradewind.api.dependencies import Ctx, DbSession, Op, Viewer
from tradewind.api.rest.schemas.bounds import Int64
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.rest.schemas.resources import LogChunk, XComCollection, XComEntry
from tradewind.api.rest.schemas.task_instances import (
    ClearTaskInstances,
    TaskInstance,
    TaskInstanceCollection,
    TaskInstanceReference,
    TaskInstanceReferenceCollection,
    TaskInstanceStatePatch,
    reference_body,
    task_instance_body,
)
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.redaction import redact
from tradewind.core.states import FINISHED_TI_STATES, TaskInstanceState
from tradewind.logs.reading import CHUNK_BYTES, try_is_running
from tradewind.sdk.errors import NotFoundError, ParamValidationError
from tradewind.store import dag_runs, task_instances, xcom
from tradewind.store.tables import XComModel

router = APIRouter(tags=["TaskInstance"], responses=ERROR_RESPONSES)
RUN_PATH = "/dags/{dag_id}/dagRuns/{dag_run_id}"
TI_PATH = RUN_PATH + "/taskInstances/{task_id}"
StateName = TaskInstanceState | None


def _states(values: list[str] | None) -> list[StateName] | None:
    if values is None:
        return None
    return [None if v == "none" else TaskInstanceState(v) for v in values]


@router.get(
    RUN_PATH + "/taskInstances", response_model=TaskInstanceCollection, summary="List a run's task instances"
)
def list_task_instances(
    dag_id: str,
    dag_run_id: str,
    session: DbSession,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    state: Annotated[list[str] | None, Query(description="states; 'none' for no state yet")] = None,
) -> dict[str, Any]:
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    tis, total = task_instances.list_task_instances(
        session=session,
        dag_id=dag_id,
        run_id=dag_run_id,
        states=parse_states(state),
        limit=limit,
        offset=offset,
    )
    bodies = [task_instance_body(ti, run.logical_date) for ti in tis]
    return {"task_instances": bodies, "total_entries": total}


def parse_states(values: list[str] | None) -> list[StateName] | None:
    try:
        return _states(values)
    except ValueError:
        allowed = ", ".join(["none", *(s.value for s in TaskInstanceState)])
        raise ParamValidationError(f"state must be one of {allowed}; got {values}", param="state") from None


@router.get(TI_PATH, response_model=TaskInstance, summary="Get a task instance")
def get_task_instance(
    dag_id: str, dag_run_id: str, task_id: str, session: DbSession, _: Viewer
) -> dict[str, Any]:
    key = TaskInstanceKey(dag_id, dag_run_id, task_id, -1)
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    return task_instance_body(task_instances.get_task_instance(session=session, key=key), run.logical_date)


@router.get(TI_PATH + "/{map_index:int}", response_model=TaskInstance, summary="Get a mapped task instance")
def get_mapped_task_instance(
    dag_id: str, dag_run_id: str, task_id: str, map_index: Int64, session: DbSession, _: Viewer
) -> dict[str, Any]:
    key = TaskInstanceKey(dag_id, dag_run_id, task_id, map_index)
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    return task_instance_body(task_instances.get_task_instance(session=session, key=key), run.logical_date)


@router.patch(
    TI_PATH, response_model=TaskInstanceReference, summary="Mark a task instance success, failed or skipped"
)
def patch_task_instance(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    body: TaskInstanceStatePatch,
    session: DbSession,
    ctx: Ctx,
    principal: Op,
) -> dict[str, Any]:
    key = TaskInstanceKey(dag_id, dag_run_id, task_id, body.map_index)
    dag_actions.mark(
        ctx.write_factory, principal, key=key, state=TaskInstanceState(body.new_state), dry_run=body.dry_run
    )
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    return reference_body(key, run.logical_date)


@router.post(
    "/dags/{dag_id}/clearTaskInstances",
    response_model=TaskInstanceReferenceCollection,
    summary="Clear task instances of a run (dry_run lists them without clearing)",
)
def clear_task_instances(
    dag_id: str, body: ClearTaskInstances, session: DbSession, ctx: Ctx, principal: Op
) -> dict[str, Any]:
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    keys = dag_actions.clear(
        ctx.write_factory,
        principal,
        sdag,
        run_id=body.dag_run_id,
        task_ids=body.task_ids,
        include_downstream=body.include_downstream,
        only_failed=body.only_failed,
        dry_run=body.dry_run,
    )
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=body.dag_run_id)
    return {"task_instances": [reference_body(k, run.logical_date) for k in keys]}


@router.get(
    TI_PATH + "/logs/{task_try_number}",
    response_model=LogChunk,
    summary="Read a try's log; follow it with the continuation token",
    responses={200: {"content": {"text/plain": {}}}},
)
def get_log(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    task_try_number: Int64,
    request: Request,
    session: DbSession,
    ctx: Ctx,
    _: Viewer,
    map_index: Int64 = -1,
    token: str | None = None,
    full_content: bool = False,
) -> Any:
    key = TaskInstanceKey(dag_id, dag_run_id, task_id, map_index)
    ti = task_instances.get_task_instance(session=session, key=key)
    if task_try_number < 1 or task_try_number > max(ti.try_number, 1):
        raise NotFoundError(
            f"task instance {key} has no try {task_try_number} (tries so far: {ti.try_number})",
            kind="log",
            ident=str(task_try_number),
        )
    finished = task_try_number < ti.try_number or (
        ti.state is not None and TaskInstanceState(ti.state) in FINISHED_TI_STATES
    )
    part = ctx.log_reader.read(
        key, task_try_number, token=None if full_content else token, running=try_is_running(ti.state, ti.try_number, task_try_number),
        limit=-1 if full_content else CHUNK_BYTES,
    )  # fmt: skip
    # Nothing anywhere for a finished try: say where it was looked for, as the log's text (Airflow's way).
    content = part.content if part.found or not finished else f"*** {part.note}\n"
    if "text/plain" in request.headers.get("accept", ""):
        return PlainTextResponse(content)
    return {"content": content, "continuation_token": part.token, "end_of_log": finished and not part.more}


def _xcom_body(row: XComModel, with_value: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": row.key,
        "dag_id": row.dag_id,
        "dag_run_id": row.run_id,
        "task_id": row.task_id,
        "map_index": row.map_index,
        "timestamp": row.timestamp,
    }
    if with_value:
        body["value"] = redact(json.loads(row.value), row.key)
    return body


@router.get(TI_PATH + "/xcomEntries", response_model=XComCollection, summary="List a task instance's XComs")
def list_xcom_entries(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    session: DbSession,
    _: Viewer,
    map_index: Int64 | None = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=dag_run_id)
    rows, total = xcom.list_xcoms(
        session=session,
        dag_id=dag_id,
        run_id=dag_run_id,
        task_id=task_id,
        map_index=map_index,
        limit=limit,
        offset=offset,
    )
    return {"xcom_entries": [_xcom_body(r, with_value=True) for r in rows], "total_entries": total}


@router.get(
    TI_PATH + "/xcomEntries/{xcom_key}", response_model=XComEntry, summary="Get one XCom with its value"
)
def get_xcom_entry(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    xcom_key: str,
    session: DbSession,
    _: Viewer,
    map_index: Int64 = -1,
) -> dict[str, Any]:
    rows, _total = xcom.list_xcoms(
        session=session, dag_id=dag_id, run_id=dag_run_id, task_id=task_id, map_index=map_index
    )
    for row in rows:
        if row.key == xcom_key:
            return _xcom_body(row, with_value=True)
    raise NotFoundError(
        f"task {task_id!r} of run {dag_run_id!r} (DAG {dag_id!r}) has no XCom {xcom_key!r}",
        kind="xcom",
        ident=xcom_key,
    )
