"""/api/v2 variables, pools, import errors, health and version (Airflow 3's public API shapes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from tradewind.actions import variables_and_pools
from tradewind.api.component_health import check_health
from tradewind.api.dependencies import Admin, Ctx, DbSession, Viewer
from tradewind.api.errors import CREATED, NO_CONTENT
from tradewind.api.rest.schemas.bounds import Int64
from tradewind.api.rest.schemas.common import DEFAULT_PAGE_LIMIT, ERROR_RESPONSES, Limit, Offset
from tradewind.api.rest.schemas.v2_dags import BUNDLE_NAME
from tradewind.api.rest.schemas.v2_resources import (
    HealthInfoResponse,
    ImportErrorCollectionResponse,
    ImportErrorResponse,
    PoolBody,
    PoolCollectionResponse,
    PoolPatchBody,
    PoolResponse,
    VariableBody,
    VariableCollectionResponse,
    VariableResponse,
    VersionInfo,
    import_error_response,
    pool_response,
    variable_response,
)
from tradewind.sdk.errors import ParamValidationError
from tradewind.store import import_errors, pools, variables

router = APIRouter(responses=ERROR_RESPONSES)
UpdateMask = Annotated[list[str] | None, Query(description="the fields to change (default: all sent)")]


def _check_mask(update_mask: list[str] | None, allowed: set[str]) -> None:
    unknown = sorted(set(update_mask or ()) - allowed)
    if unknown:
        raise ParamValidationError(
            f"update_mask names fields that cannot change: {unknown}", param="update_mask"
        )


@router.get(
    "/variables", response_model=VariableCollectionResponse, tags=["Variable"], summary="List variables"
)
def list_variables(
    session: DbSession, _: Viewer, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    rows, total = variables.list_variables(session=session, limit=limit, offset=offset)
    return {"variables": [variable_response(r) for r in rows], "total_entries": total}


@router.get("/variables/{variable_key}", response_model=VariableResponse, tags=["Variable"])
def get_variable(variable_key: str, session: DbSession, _: Viewer) -> dict[str, Any]:
    return variable_response(variables.get_variable(session=session, key=variable_key))


@router.post("/variables", response_model=VariableResponse, status_code=CREATED, tags=["Variable"])
def create_variable(body: VariableBody, ctx: Ctx, principal: Admin) -> dict[str, Any]:
    row = variables_and_pools.create_variable(
        ctx.write_factory, principal, key=body.key, value=body.stored_value(), description=body.description
    )
    return variable_response(row)


@router.patch("/variables/{variable_key}", response_model=VariableResponse, tags=["Variable"])
def patch_variable(
    variable_key: str,
    body: VariableBody,
    session: DbSession,
    ctx: Ctx,
    principal: Admin,
    update_mask: UpdateMask = None,
) -> dict[str, Any]:
    if body.key != variable_key:
        raise ParamValidationError(
            f"key {body.key!r} in the body differs from {variable_key!r} in the URL", param="key"
        )
    _check_mask(update_mask, {"value", "description"})
    current = variables.get_variable(session=session, key=variable_key)
    change = set(update_mask) if update_mask else {"value", "description"}
    row = variables_and_pools.update_variable(
        ctx.write_factory,
        principal,
        key=variable_key,
        value=body.stored_value() if "value" in change else None,
        description=body.description if "description" in change else current.description,
    )
    return variable_response(row)


@router.delete("/variables/{variable_key}", status_code=NO_CONTENT, tags=["Variable"])
def delete_variable(variable_key: str, ctx: Ctx, principal: Admin) -> Response:
    variables_and_pools.delete_variable(ctx.write_factory, principal, key=variable_key)
    return Response(status_code=NO_CONTENT)


@router.get("/pools", response_model=PoolCollectionResponse, tags=["Pool"], summary="List pools")
def list_pools(
    session: DbSession, _: Viewer, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    rows = pools.list_pools(session=session)
    return {"pools": [pool_response(p) for p in rows[offset : offset + limit]], "total_entries": len(rows)}


@router.get("/pools/{pool_name}", response_model=PoolResponse, tags=["Pool"])
def get_pool(pool_name: str, session: DbSession, _: Viewer) -> dict[str, Any]:
    return pool_response(pools.pool_usage(session=session, name=pool_name))


@router.post("/pools", response_model=PoolResponse, status_code=CREATED, tags=["Pool"])
def create_pool(body: PoolBody, session: DbSession, ctx: Ctx, principal: Admin) -> dict[str, Any]:
    variables_and_pools.create_pool(
        ctx.write_factory, principal, name=body.name, slots=body.slots, description=body.description
    )
    return pool_response(pools.pool_usage(session=session, name=body.name.strip()))


@router.patch("/pools/{pool_name}", response_model=PoolResponse, tags=["Pool"])
def patch_pool(
    pool_name: str,
    body: PoolPatchBody,
    session: DbSession,
    ctx: Ctx,
    principal: Admin,
    update_mask: UpdateMask = None,
) -> dict[str, Any]:
    if body.pool is not None and body.pool != pool_name:
        raise ParamValidationError(
            f"pool {body.pool!r} in the body differs from {pool_name!r} in the URL (renaming is not supported)",
            param="pool",
        )
    _check_mask(update_mask, {"slots", "description", "include_deferred", "pool", "name"})
    change = set(update_mask) if update_mask else body.model_fields_set
    current = pools.pool_usage(session=session, name=pool_name)
    variables_and_pools.update_pool(
        ctx.write_factory,
        principal,
        name=pool_name,
        slots=body.slots if "slots" in change else None,
        description=body.description if "description" in change else current.description,
    )
    session.rollback()  # a fresh snapshot, to show the pool as changed
    return pool_response(pools.pool_usage(session=session, name=pool_name))


@router.delete("/pools/{pool_name}", status_code=NO_CONTENT, tags=["Pool"])
def delete_pool(pool_name: str, ctx: Ctx, principal: Admin) -> Response:
    variables_and_pools.delete_pool(ctx.write_factory, principal, name=pool_name)
    return Response(status_code=NO_CONTENT)


@router.get("/importErrors", response_model=ImportErrorCollectionResponse, tags=["ImportError"])
def list_import_errors(
    session: DbSession, _: Viewer, limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    rows, total = import_errors.list_import_errors(session=session, limit=limit, offset=offset)
    return {"import_errors": [import_error_response(r, BUNDLE_NAME) for r in rows], "total_entries": total}


@router.get("/importErrors/{import_error_id}", response_model=ImportErrorResponse, tags=["ImportError"])
def get_import_error(import_error_id: Int64, session: DbSession, _: Viewer) -> dict[str, Any]:
    row = import_errors.get_import_error(session=session, import_error_id=import_error_id)
    return import_error_response(row, BUNDLE_NAME)


@router.get("/monitor/health", response_model=HealthInfoResponse, tags=["Monitor"], summary="Health")
def get_health(ctx: Ctx) -> dict[str, Any]:
    """Open without login, as Airflow's."""
    report = check_health(ctx.read_factory, ctx.settings)
    heartbeat = report.latest_scheduler_heartbeat
    return {
        "metadatabase": {"status": report.database},
        "scheduler": {
            "status": report.scheduler,
            "latest_scheduler_heartbeat": heartbeat.isoformat() if heartbeat else None,
        },
        "triggerer": {
            "status": report.triggerer,
            "latest_triggerer_heartbeat": (
                report.latest_triggerer_heartbeat.isoformat() if report.latest_triggerer_heartbeat else None
            ),
        },
        "dag_processor": None,
    }


@router.get("/version", response_model=VersionInfo, tags=["Version"], summary="Tradewind version")
def get_version(ctx: Ctx) -> dict[str, Any]:
    """Open without login, as Airflow's; ``version`` is Tradewind's own."""
    return {"version": ctx.version, "git_version": None}
