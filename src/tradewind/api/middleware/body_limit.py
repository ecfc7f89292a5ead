"""Refusing request bodies over webserver.max_request_bytes with 413, before a route reads them.

A declared Content-Length over the limit is answered at once; a body streamed without one is counted as
it arrives and refused at the first byte past the limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradewind.api.errors import REQUEST_TOO_LARGE, error_response, too_large_detail


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                request = Request(scope, receive)
                response = error_response(request, REQUEST_TOO_LARGE, too_large_detail(self.max_bytes))
                response.headers["connection"] = "close"
                await response(scope, receive, send)
                return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI passes HTTPExceptions raised while reading the body on to the error handlers.
                    raise HTTPException(REQUEST_TOO_LARGE, too_large_detail(self.max_bytes))
            return message

        await self.app(scope, counting_receive, send)
