"""Log in and out of the web UI: a login form protected by its own CSRF cookie, and signed session cookies."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tradewind.actions.passwords import hash_token, password_fingerprint
from tradewind.api.auth.authentication import Principal, authenticate, client_address
from tradewind.api.auth.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SessionData,
    new_csrf_token,
    new_session_key,
    tokens_match,
)
from tradewind.api.dependencies import Ctx
from tradewind.api.errors import status_for
from tradewind.api.ui.rendering import redirect, render
from tradewind.core.clock import utcnow
from tradewind.sdk.errors import AuthenticationError
from tradewind.store import users, web_sessions
from tradewind.store.audit import record_audit
from tradewind.store.engine import transaction

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only same-site paths: ``next=//evil.example`` or ``https://...`` would make login an open redirect."""
    if not target:
        return "/dags"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/dags"
    return target


def _login_page(
    request: Request, ctx: Ctx, *, next_url: str, error: str | None, status: int, username: str = ""
) -> Response:
    token = new_csrf_token()
    response = render(
        request,
        "login.html",
        status_code=status,
        login_csrf=token,
        next_url=next_url,
        error=error,
        username=username,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        ctx.authenticator.codec.encode_login_token(token),
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


@router.get("/login")
def login_form(request: Request, ctx: Ctx, next: str | None = None) -> Response:
    return _login_page(request, ctx, next_url=safe_next(next), error=None, status=200)


@router.post("/login")
async def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/dags",
) -> Response:
    next_url = safe_next(next)
    expected = ctx.authenticator.codec.decode_login_token(request.cookies.get(LOGIN_CSRF_COOKIE))
    if not tokens_match(expected, csrf_token):
        return _login_page(
            request,
            ctx,
            next_url=next_url,
            error="The login form expired; please try again.",
            status=403,
            username=username,
        )
    address = client_address(request)
    try:
        user = await run_in_threadpool(ctx.authenticator.login, username, password, address)
    except AuthenticationError as exc:
        return _login_page(
            request, ctx, next_url=next_url, error=str(exc), status=status_for(exc), username=username
        )
    key = new_session_key()
    await run_in_threadpool(_record_login, ctx, user.id, user.username, address, key)
    cookie = ctx.authenticator.codec.encode(
        SessionData(
            user_id=user.id,
            fingerprint=password_fingerprint(user.password_hash),
            csrf=new_csrf_token(),
            key=key,
        )
    )
    response = redirect(next_url)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=ctx.authenticator.codec.max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _record_login(ctx: Ctx, user_id: int, username: str, address: str, key: str) -> None:
    now = utcnow()
    with transaction(ctx.write_factory) as session:
        users.record_login(session=session, user_id=user_id, at=now)
        web_sessions.create_session(
            session=session,
            user_id=user_id,
            session_hash=hash_token(key),
            now=now,
            expires_at=now + timedelta(seconds=ctx.authenticator.codec.max_age),
            address=address,
        )
        record_audit(session=session, event="login", owner=username, extra={"address": address}, now=now)


@router.post("/logout")
async def logout(request: Request, ctx: Ctx) -> Response:
    principal: Principal = await authenticate(request)  # a cross-site form must not log people out either
    data = ctx.authenticator.codec.decode(request.cookies.get(SESSION_COOKIE))
    await run_in_threadpool(_record_logout, ctx, principal.username, data.key if data else None)
    response = redirect("/login", "You are logged out.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _record_logout(ctx: Ctx, username: str, key: str | None) -> None:
    with transaction(ctx.write_factory) as session:
        if key is not None:
            web_sessions.end_session(session=session, session_hash=hash_token(key))
        record_audit(session=session, event="logout", owner=username, now=utcnow())
