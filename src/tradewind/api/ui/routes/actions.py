"""Actions from the UI: each form posts once to see what would change, then again with ``confirmed=1``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from tradewind.actions import dag_actions
from tradewind.api.dependencies import Admin, Ctx, DbSession, Op
from tradewind.api.rest.schemas.bounds import Int64
from tradewind.api.ui.rendering import redirect, render
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import DagRunState, TaskInstanceState
from tradewind.sdk.errors import ParamValidationError
from tradewind.store import dag_runs, dags

router = APIRouter(include_in_schema=False)
Flag = Annotated[str, Form()]
MARKABLE = ("success", "failed", "skipped")


def _yes(value: str) -> bool:
    return value.lower() in ("1", "true", "on", "yes")


def _dag_url(dag_id: str, run_id: str | None = None) -> str:
    url = f"/dags/{quote(dag_id, safe='')}"
    return url + (f"?run_id={quote(run_id, safe='')}" if run_id else "")


def _confirm(
    request: Request,
    *,
    title: str,
    message: str,
    items: list[str],
    fields: dict[str, Any],
    back: str,
    danger: bool = False,
) -> Response:
    hidden = {k: ("1" if v is True else "0" if v is False else str(v)) for k, v in fields.items()}
    return render(
        request,
        "confirm.html",
        title=title,
        message=message,
        items=items,
        fields=hidden,
        action=request.url.path,
        back=back,
        danger=danger,
    )


@router.post("/dags/{dag_id}/delete")
def delete_dag(
    dag_id: str, request: Request, session: DbSession, ctx: Ctx, principal: Admin, confirmed: Flag = ""
) -> Response:
    dag = dags.get_dag(session=session, dag_id=dag_id)
    if not _yes(confirmed):
        _runs, total = dag_runs.list_dag_runs(session=session, dag_id=dag_id, limit=1)
        return _confirm(
            request,
            title=f"Delete DAG {dag_id}?",
            message=(
                f"This deletes the metadata of {dag_id}: {total} run(s), their task instances and XComs. "
                f"The file {dag.relative_fileloc or dag.fileloc} stays; if it still defines the DAG, "
                "it comes back at the next parse, without history. The audit log is kept."
            ),
            items=[],
            fields={},
            back=_dag_url(dag_id),
            danger=True,
        )
    runs = dag_actions.delete_dag(ctx.write_factory, principal, dag_id=dag_id)
    return redirect("/dags", f"Deleted DAG {dag_id} and {runs} run(s).")


@router.post("/dags/{dag_id}/runs/{run_id}/clear")
def clear_run(
    dag_id: str,
    run_id: str,
    request: Request,
    session: DbSession,
    ctx: Ctx,
    principal: Op,
    only_failed: Flag = "",
    confirmed: Flag = "",
) -> Response:
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    dry_run = not _yes(confirmed)
    keys = dag_actions.clear(
        ctx.write_factory,
        principal,
        sdag,
        run_id=run_id,
        task_ids=None,
        only_failed=_yes(only_failed),
        dry_run=dry_run,
    )
    if dry_run:
        return _confirm(
            request,
            title=f"Clear run {run_id}?",
            message=f"These {len(keys)} task instance(s) of {dag_id} will run again:",
            items=[_describe(k) for k in keys],
            fields={"only_failed": _yes(only_failed), "confirmed": True},
            back=_dag_url(dag_id, run_id),
        )
    return redirect(_dag_url(dag_id, run_id), f"Cleared {len(keys)} task instance(s) of run {run_id}.")


@router.post("/dags/{dag_id}/runs/{run_id}/state")
def set_run_state(
    dag_id: str,
    run_id: str,
    request: Request,
    session: DbSession,
    ctx: Ctx,
    principal: Op,
    state: Annotated[str, Form()],
    confirmed: Flag = "",
) -> Response:
    if state not in ("success", "failed", "queued"):
        raise ParamValidationError(
            f"a run can be marked success, failed or queued, not {state!r}", param="state"
        )
    run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=run_id)
    if not _yes(confirmed):
        what = {
            "success": "Its unfinished tasks are marked success.",
            "failed": "Its running tasks are marked failed and the waiting ones skipped.",
            "queued": "The scheduler takes it up again (tasks keep their states; clear them to re-run).",
        }[state]
        return _confirm(
            request,
            title=f"Mark run {run_id} {state}?",
            message=f"The run is {run.state} now. {what}",
            items=[],
            fields={"state": state, "confirmed": True},
            back=_dag_url(dag_id, run_id),
        )
    dag_actions.set_run_state(
        ctx.write_factory, principal, dag_id=dag_id, run_id=run_id, state=DagRunState(state)
    )
    return redirect(_dag_url(dag_id, run_id), f"Run {run_id} marked {state}.")


def _task_url(key: TaskInstanceKey) -> str:
    run = f"/dags/{quote(key.dag_id, safe='')}/runs/{quote(key.run_id, safe='')}"
    url = f"{run}/tasks/{quote(key.task_id, safe='')}"
    return url + (f"?map_index={key.map_index}" if key.map_index >= 0 else "")


def _describe(key: TaskInstanceKey) -> str:
    return key.task_id + (f" [{key.map_index}]" if key.map_index >= 0 else "")


@router.post("/dags/{dag_id}/runs/{run_id}/tasks/{task_id}/clear")
def clear_task(
    dag_id: str,
    run_id: str,
    task_id: str,
    request: Request,
    session: DbSession,
    ctx: Ctx,
    principal: Op,
    downstream: Flag = "",
    only_failed: Flag = "",
    confirmed: Flag = "",
) -> Response:
    sdag = ctx.dag_cache.get(session=session, dag_id=dag_id)
    dry_run = not _yes(confirmed)
    keys = dag_actions.clear(
        ctx.write_factory,
        principal,
        sdag,
        run_id=run_id,
        task_ids=[task_id],
        include_downstream=_yes(downstream),
        only_failed=_yes(only_failed),
        dry_run=dry_run,
    )
    back = _task_url(TaskInstanceKey(dag_id, run_id, task_id))
    if dry_run:
        return _confirm(
            request,
            title=f"Clear {task_id}{' and downstream' if _yes(downstream) else ''}?",
            message=f"These {len(keys)} task instance(s) of run {run_id} will run again:",
            items=[_describe(k) for k in keys],
            fields={"downstream": _yes(downstream), "only_failed": _yes(only_failed), "confirmed": True},
            back=back,
        )
    return redirect(back, f"Cleared {len(keys)} task instance(s).")


@router.post("/dags/{dag_id}/runs/{run_id}/tasks/{task_id}/mark")
def mark_task(
    dag_id: str,
    run_id: str,
    task_id: str,
    request: Request,
    ctx: Ctx,
    principal: Op,
    state: Annotated[str, Form()],
    map_index: Annotated[Int64, Form()] = -1,
    confirmed: Flag = "",
) -> Response:
    if state not in MARKABLE:
        raise ParamValidationError(
            f"a task can be marked {', '.join(MARKABLE)}, not {state!r}", param="state"
        )
    key = TaskInstanceKey(dag_id, run_id, task_id, map_index)
    target = TaskInstanceState(state)
    if not _yes(confirmed):
        changes = dag_actions.mark(ctx.write_factory, principal, key=key, state=target, dry_run=True)
        return _confirm(
            request,
            title=f"Mark {_describe(key)} {state}?",
            message=(
                f"Task {_describe(key)} of run {run_id} will be marked {state}."
                if changes
                else f"Task {_describe(key)} is {state} already; nothing will change."
            ),
            items=[],
            fields={"state": state, "map_index": map_index, "confirmed": True},
            back=_task_url(key),
        )
    dag_actions.mark(ctx.write_factory, principal, key=key, state=target)
    return redirect(_task_url(key), f"Marked {_describe(key)} {state}.")
