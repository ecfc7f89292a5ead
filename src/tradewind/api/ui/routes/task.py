"""The task try page: state, tries, times, host or pod, executor, rendered fields, XComs and the live log."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from tradewind.api.dependencies import Ctx, DbSession, Viewer
from tradewind.api.extra_links import task_links
from tradewind.api.rest.schemas.bounds import Int64
from tradewind.api.ui.rendering import render
from tradewind.api.ui.routes.dag import dag_header
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.redaction import redact, redact_json_text
from tradewind.core.states import FINISHED_DAG_RUN_STATES, FINISHED_TI_STATES
from tradewind.sdk.errors import NotFoundError
from tradewind.store import task_instances, task_reschedules, xcom
from tradewind.store.task_history import TryInfo

router = APIRouter(include_in_schema=False)
XCOM_PREVIEW_CHARS = 2000
FINISHED_TI = {s.value for s in FINISHED_TI_STATES}
FINISHED_RUN = {s.value for s in FINISHED_DAG_RUN_STATES}


@router.get("/dags/{dag_id}/runs/{run_id}/tasks/{task_id}")
def task_page(
    dag_id: str,
    run_id: str,
    task_id: str,
    request: Request,
    session: DbSession,
    ctx: Ctx,
    _: Viewer,
    map_index: Int64 = -1,
    try_number: Int64 | None = None,
) -> Response:
    header = dag_header(session, ctx, dag_id, run_id)
    task = header["sdag"].task_dict.get(task_id)
    if task is None:
        raise NotFoundError(f"DAG {dag_id!r} has no task {task_id!r}", kind="task", ident=task_id)
    instances, _total = task_instances.list_task_instances(
        session=session, dag_id=dag_id, run_id=run_id, task_ids=[task_id]
    )
    by_index = {ti.map_index: ti for ti in instances}
    if map_index not in by_index and instances:
        map_index = min(by_index)  # a mapped task: show its first instance, with links to the others
    ti = by_index.get(map_index)
    if ti is None:
        raise NotFoundError(
            f"run {run_id!r} of DAG {dag_id!r} has no task instance {task_id!r}", kind="task_instance"
        )
    key = TaskInstanceKey(dag_id, run_id, task_id, map_index)
    tries = task_instances.list_tries(session=session, key=key)
    selected = _selected_try(tries, try_number)
    xcoms, _count = xcom.list_xcoms(
        session=session, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index
    )
    xcom_rows = [
        {"key": x.key, "value": _preview(redact_json_text(x.value, x.key)[0]), "timestamp": x.timestamp}
        for x in xcoms
    ]
    log_url = (
        f"/api/v1/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{selected.try_number}"
        if selected is not None
        else None
    )
    return render(
        request,
        "task.html",
        tab="task",
        task=task,
        ti=ti,
        key=key,
        map_indexes=sorted(i for i in by_index if i >= 0),
        tries=tries,
        selected_try=selected,
        xcoms=xcom_rows,
        rendered=redact(ti.rendered_fields or {}),
        templates_unrendered={k: _pretty(v) for k, v in task.templates.items()},
        log_url=log_url,
        extra_links=task_links(session, task, key),
        runs_on=runs_on(selected, ti),
        live_key=json.dumps(["ti", dag_id, run_id, task_id, map_index]) if _followed(ti, header) else "",
        reschedules=task_reschedules.list_reschedules(session=session, key=key),
        **header,
    )


def _followed(ti: Any, header: dict[str, Any]) -> bool:
    """Whether the page follows this task instance: while it or its run may still change."""
    run = header["selected_run"]
    return (ti.state not in FINISHED_TI) or (run is not None and run.state not in FINISHED_RUN)


def runs_on(info: TryInfo | None, ti: Any) -> list[tuple[str, str, str]]:
    """What ran the try, as its executor recorded it: (label, value, test id) rows for the page."""
    executor = (info.executor if info else ti.executor) or ""
    handle = (info.external_executor_id if info else ti.external_executor_id) or ""
    hostname = (info.hostname if info else ti.hostname) or ""
    rows: list[tuple[str, str, str]] = []
    if executor == "kubernetes" and handle:
        namespace, _, pod = handle.rpartition("/")
        rows.append(("Pod", pod, "pod-name"))
        if namespace:
            rows.append(("Namespace", namespace, "pod-namespace"))
    elif executor == "celery" and handle:
        rows.append(("Celery task id", handle, "celery-task-id"))
    elif handle:
        rows.append(("Process id" if executor == "local" else "Executor id", handle, "executor-id"))
    if hostname:
        rows.append(("Hostname", hostname, "hostname"))
    return rows


def _selected_try(tries: list[TryInfo], wanted: int | None) -> TryInfo | None:
    if not tries:
        return None
    for info in tries:
        if info.try_number == wanted:
            return info
    return tries[-1]


def _pretty(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, default=str)


def _preview(text: str) -> str:
    try:
        shown = json.dumps(json.loads(text), indent=2)
    except ValueError:
        shown = text
    return shown if len(shown) <= XCOM_PREVIEW_CHARS else shown[:XCOM_PREVIEW_CHARS] + " …"
