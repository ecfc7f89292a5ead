"""REST API: variables, pools, import errors, the event (audit) log, health and version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from tradewind.actions import variables_and_pools
from tradewind.api.component_health import check_health
from tradewind.api.dependencies import Admin, Ctx, DbSession, Viewer
from tradewind.api.errors import NO_CONTENT
from tradewind.api.rest.schemas.bounds import Int64
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.rest.schemas.resources import (
    EventLogCollection,
    Health,
    ImportError_,
    ImportErrorCollection,
    Pool,
    PoolBody,
    PoolCollection,
    PoolPatch,
    Variable,
    VariableBody,
    VariableCollection,
    VariablePatch,
    Version,
)
from tradewind.core.redaction import redact, redact_json_text
from tradewind.sdk.errors import ParamValidationError
from tradewind.store import audit, import_errors, pools, variables
from tradewind.store.pools import PoolUsage
from tradewind.store.tables import ImportErrorModel, VariableModel

router = APIRouter(responses=ERROR_RESPONSES)


def _variable_body(row: VariableModel) -> dict[str, Any]:
    value, _masked = redact_json_text(row.val, row.key)
    return {"key": row.key, "value": value, "description": row.description}


@router.get("/variables", response_model=VariableCollection, tags=["Variable"], summary="List variables")
def list_variables(
    session: DbSession, _: Viewer, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    rows, total = variables.list_variables(session=session, limit=limit, offset=offset)
    return {"variables": [_variable_body(r) for r in rows], "total_entries": total}


@router.get("/variables/{variable_key}", response_model=Variable, tags=["Variable"], summary="Get a variable")
def get_variable(variable_key: str, session: DbSession, _: Viewer) -> dict[str, Any]:
    return _variable_body(variables.get_variable(session=session, key=variable_key))


@router.post("/variables", response_model=Variable, tags=["Variable"], summary="Create a variable")
def create_variable(body: VariableBody, ctx: Ctx, principal: Admin) -> dict[str, Any]:
    row = variables_and_pools.create_variable(
        ctx.write_factory, principal, key=body.key, value=body.value, description=body.description
    )
    return _variable_body(row)


@router.patch(
    "/variables/{variable_key}", response_model=Variable, tags=["Variable"], summary="Update a variable"
)
def patch_variable(variable_key: str, body: VariablePatch, ctx: Ctx, principal: Admin) -> dict[str, Any]:
    if body.key is not None and body.key != variable_key:
        raise ParamValidationError(
            f"key {body.key!r} in the body differs from {variable_key!r} in the URL", param="key"
        )
    row = variables_and_pools.update_variable(
        ctx.write_factory, principal, key=variable_key, value=body.value, description=body.description
    )
    return _variable_body(row)


@router.delete(
    "/variables/{variable_key}", status_code=NO_CONTENT, tags=["Variable"], summary="Delete a variable"
)
def delete_variable(variable_key: str, ctx: Ctx, principal: Admin) -> Response:
    variables_and_pools.delete_variable(ctx.write_factory, principal, key=variable_key)
    return Response(status_code=NO_CONTENT)


def _pool_body(pool: PoolUsage) -> dict[str, Any]:
    return {
        "name": pool.name,
        "slots": pool.slots,
        "occupied_slots": pool.occupied,
        "running_slots": pool.running,
        "queued_slots": pool.queued,
        "scheduled_slots": 0,
        "deferred_slots": 0,
        "open_slots": pool.open,
        "include_deferred": False,
        "description": pool.description,
    }


@router.get("/pools", response_model=PoolCollection, tags=["Pool"], summary="List pools")
def list_pools(
    session: DbSession, _: Viewer, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    rows = pools.list_pools(session=session)
    return {"pools": [_pool_body(p) for p in rows[offset : offset + limit]], "total_entries": len(rows)}


@router.get("/pools/{pool_name}", response_model=Pool, tags=["Pool"], summary="Get a pool")
def get_pool(pool_name: str, session: DbSession, _: Viewer) -> dict[str, Any]:
    return _pool_body(pools.pool_usage(session=session, name=pool_name))


@router.post("/pools", response_model=Pool, tags=["Pool"], summary="Create a pool")
def create_pool(body: PoolBody, session: DbSession, ctx: Ctx, principal: Admin) -> dict[str, Any]:
    variables_and_pools.create_pool(
        ctx.write_factory, principal, name=body.name, slots=body.slots, description=body.description
    )
    return _pool_body(pools.pool_usage(session=session, name=body.name.strip()))


@router.patch("/pools/{pool_name}", response_model=Pool, tags=["Pool"], summary="Update a pool")
def patch_pool(
    pool_name: str, body: PoolPatch, session: DbSession, ctx: Ctx, principal: Admin
) -> dict[str, Any]:
    if body.name is not None and body.name != pool_name:
        raise ParamValidationError(
            f"name {body.name!r} in the body differs from {pool_name!r} in the URL", param="name"
        )
    variables_and_pools.update_pool(
        ctx.write_factory, principal, name=pool_name, slots=body.slots, description=body.description
    )
    return _pool_body(pools.pool_usage(session=session, name=pool_name))


@router.delete("/pools/{pool_name}", status_code=NO_CONTENT, tags=["Pool"], summary="Delete a pool")
def delete_pool(pool_name: str, ctx: Ctx, principal: Admin) -> Response:
    variables_and_pools.delete_pool(ctx.write_factory, principal, name=pool_name)
    return Response(status_code=NO_CONTENT)


def _import_error_body(row: ImportErrorModel) -> dict[str, Any]:
    return {
        "import_error_id": row.id,
        "filename": row.filename,
        "lineno": row.lineno,
        "message": row.message,
        "stack_trace": row.stacktrace,
        "timestamp": row.timestamp,
    }


@router.get(
    "/importErrors", response_model=ImportErrorCollection, tags=["ImportError"], summary="List import errors"
)
def list_import_errors(
    session: DbSession, _: Viewer, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    rows, total = import_errors.list_import_errors(session=session, limit=limit, offset=offset)
    return {"import_errors": [_import_error_body(r) for r in rows], "total_entries": total}


@router.get(
    "/importErrors/{import_error_id}",
    response_model=ImportError_,
    tags=["ImportError"],
    summary="Get an import error",
)
def get_import_error(import_error_id: Int64, session: DbSession, _: Viewer) -> dict[str, Any]:
    return _import_error_body(
        import_errors.get_import_error(session=session, import_error_id=import_error_id)
    )


@router.get(
    "/eventLogs", response_model=EventLogCollection, tags=["EventLog"], summary="List audit log entries"
)
def list_event_logs(
    session: DbSession,
    _: Viewer,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    dag_id: str | None = None,
    event: str | None = None,
) -> dict[str, Any]:
    rows, total = audit.list_audit(session=session, limit=limit, offset=offset, dag_id=dag_id, event=event)
    entries = [
        {
            "event_log_id": r.id,
            "when": r.dttm,
            "event": r.event,
            "owner": r.owner,
            "dag_id": r.dag_id,
            "task_id": r.task_id,
            "run_id": r.run_id,
            "extra": redact(r.extra),  # entries written before a name was known to be sensitive
        }
        for r in rows
    ]
    return {"event_logs": entries, "total_entries": total}


@router.get("/health", response_model=Health, tags=["Monitoring"], summary="Database and scheduler health")
def get_health(ctx: Ctx, _: Viewer) -> dict[str, object]:
    body = check_health(ctx.read_factory, ctx.settings).as_json()
    body.update(
        triggerer={"status": None, "latest_triggerer_heartbeat": None},
        dag_processor={"status": None, "latest_dag_processor_heartbeat": None},
    )
    return body


@router.get("/version", response_model=Version, tags=["Monitoring"], summary="Tradewind version")
def get_version(ctx: Ctx, _: Viewer) -> dict[str, Any]:
    return {"version": ctx.version, "git_version": None}
