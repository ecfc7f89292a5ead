"""The one place HTTP status codes are decided: errors of the Tradewind tree become JSON or HTML responses.

API clients (paths under /api/, or requests that do not ask for HTML) get
``{"title": ..., "status": ..., "detail": ...}``; browsers get an error page, or the login page when they
are not logged in.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match

from tradewind.api.auth.rate_limit import TooManyLoginAttempts
from tradewind.api.context import page_context
from tradewind.api.rest.schemas.bounds import OUT_OF_RANGE
from tradewind.api.rest.schemas.strict import NUL_CHARACTER
from tradewind.sdk.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ParamValidationError,
    PermissionDeniedError,
    TradewindError,
)
from tradewind.store.transient_errors import describe, is_transient

log = logging.getLogger(__name__)

#: Most specific first: the first class an error is an instance of decides its status.
STATUS_BY_ERROR: tuple[tuple[type[TradewindError], int], ...] = (
    (TooManyLoginAttempts, 429),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ParamValidationError, 422),
    (TradewindError, 400),
)

#: Validation error types answered with 400 rather than 422.
REFUSED_INPUT = frozenset({OUT_OF_RANGE, NUL_CHARACTER})
BAD_REQUEST = 400
UNAUTHORIZED = 401
METHOD_NOT_ALLOWED = 405
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
REQUEST_TOO_LARGE = 413
UNPROCESSABLE = 422
SEE_OTHER = 303
NOT_MODIFIED = 304
CREATED = 201
NO_CONTENT = 204
SERVICE_UNAVAILABLE = 503
#: What a 503 for an unusable database tells clients to wait before trying again (seconds).
RETRY_AFTER_SECONDS = 2


def status_for(exc: TradewindError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return BAD_REQUEST  # pragma: no cover - TradewindError closes the table


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/execution/")):
        return True
    return "text/html" not in request.headers.get("accept", "")


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    title = HTTPStatus(status).phrase
    return JSONResponse(
        {"title": title, "status": status, "detail": detail}, status_code=status, headers=headers
    )


def error_response(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None
) -> Response:
    if status == UNAUTHORIZED:
        headers = {**(headers or {}), "WWW-Authenticate": 'Basic realm="tradewind"'}
    if wants_json(request):
        return problem(status, detail, headers)
    if status == UNAUTHORIZED and request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=SEE_OTHER)
    templates = request.app.state.ctx.templates
    context = page_context(request, flash=None, status=status, title=HTTPStatus(status).phrase, detail=detail)
    return templates.TemplateResponse(request, "error.html", context, status_code=status, headers=headers)


def too_large_detail(limit: int) -> str:
    return f"request body is larger than the limit of {limit} bytes (webserver.max_request_bytes)"


async def _tradewind_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TradewindError)
    return error_response(request, status_for(exc), str(exc))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        return error_response(request, BAD_REQUEST, "request body is not valid JSON: " + _describe(errors))
    # A number past 64 bits or text with a NUL character is not a value any request could have used: a bad
    # request, not a failed rule.
    refused = [err for err in errors if err.get("type") in REFUSED_INPUT]
    if refused:
        return error_response(request, BAD_REQUEST, _describe(refused))
    return error_response(request, UNPROCESSABLE, _describe(errors))


def _describe(errors: list[Any]) -> str:
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == METHOD_NOT_ALLOWED:
        # Starlette names only the first route that matched the path; list every method the path takes.
        headers["Allow"] = ", ".join(allowed_methods(request))
    return error_response(request, exc.status_code, detail, headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods some route takes at the request's path (routes may sit in included routers)."""
    routes = request.app.router.routes
    return [
        method
        for method in HTTP_METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]


async def _unexpected(request: Request, exc: Exception) -> Response:
    if is_transient(exc):  # raised by a middleware (a session lookup), past the specific handlers
        return database_unavailable(request, exc)
    log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return error_response(request, 500, "internal server error; see the webserver log")


async def _database_error(request: Request, exc: Exception) -> Response:
    if is_transient(exc):
        return database_unavailable(request, exc)
    return await _unexpected(request, exc)


def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 with Retry-After while the metadata database is unusable (a restart, a failover): the caller, a
    browser or a task's runner, tries again; nothing is logged as a server bug."""
    log.warning(
        "%s %s: the metadata database is unusable (%s)", request.method, request.url.path, describe(exc)
    )
    detail = f"the metadata database is unavailable ({describe(exc)}); try again shortly"
    return error_response(request, SERVICE_UNAVAILABLE, detail, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TradewindError, _tradewind_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
