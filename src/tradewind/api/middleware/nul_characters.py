"""Refusing NUL characters in request paths, query strings and form bodies with 400, naming where: PostgreSQL
can neither store nor compare them, so such a request could only fail deeper down (JSON bodies are checked
by their ``RequestBody`` models)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradewind.api.errors import BAD_REQUEST, error_response

FORM_TYPE = b"application/x-www-form-urlencoded"


def _nul_in_path(scope: Scope) -> str | None:
    return "the path" if "\x00" in scope.get("path", "") else None


def _nul_in_pairs(text: str, what: str) -> str | None:
    for name, value in parse_qsl(text, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"{what} {name.replace(chr(0), '')!r}"
    return None


def _nul_in_query(scope: Scope) -> str | None:
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and "\x00" not in query:
        return None
    return _nul_in_pairs(query, "query parameter") or "the query string"


def _nul_in_form(body: bytes) -> str | None:
    text = body.decode("latin-1")
    if "%00" not in text and "\x00" not in text:
        return None
    return _nul_in_pairs(text, "form field") or "the form body"


class NulCharacterMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _nul_in_path(scope) or _nul_in_query(scope)
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        if where is None and content_type.startswith(FORM_TYPE):
            try:
                body = await _read_body(receive)
            except HTTPException as exc:  # the body limit, counted by the middleware outside this one
                response = error_response(Request(scope), exc.status_code, str(exc.detail))
                await response(scope, receive, send)
                return
            where = _nul_in_form(body)
            receive = _replay(body, receive)
        if where is not None:
            response = error_response(Request(scope), BAD_REQUEST, f"{where} must not contain NUL characters")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
