"""The OpenAPI document: FastAPI's, plus the ways the API really authenticates (HTTP basic, bearer tokens
from /auth/token or ``tradewind users create-token``, the session cookie), required everywhere except the
operations that take no credentials (logging in, health, version)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from tradewind.api.auth.authentication import require_admin, require_op, require_viewer
from tradewind.api.auth.sessions import SESSION_COOKIE

_ROLE_CHECKS: frozenset[Callable[..., Any]] = frozenset({require_viewer, require_op, require_admin})

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "Basic": {"type": "http", "scheme": "basic", "description": "username and password"},
    "Bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "a token from POST /auth/token or `tradewind users create-token`",
    },
    "SessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "the web UI's login session; state-changing requests also need the X-CSRF-Token header",
    },
}
#: Any one of the schemes is enough.
SECURITY: list[dict[str, list[str]]] = [{name: []} for name in SECURITY_SCHEMES]


def _needs_credentials(dependant: Dependant) -> bool:
    return any(dep.call in _ROLE_CHECKS or _needs_credentials(dep) for dep in dependant.dependencies)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        openapi_version=app.openapi_version,
    )
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    schema["security"] = SECURITY
    paths = schema.get("paths", {})
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        if _needs_credentials(route.dependant):
            continue
        for method in context.methods or ():
            operation = paths.get(context.path_format, {}).get(method.lower())
            if operation is not None:
                operation["security"] = []  # open: no credentials asked or checked
    app.openapi_schema = schema
    return schema


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` answers with ``build_openapi``; call after the routers are included."""
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
