"""A small HTTP service on 127.0.0.1 (Starlette under uvicorn, on a thread) that the HTTP hook tests call:
it echoes what it received, fails on request, counts attempts, pages through items and checks basic auth."""

from __future__ import annotations

import base64
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.waiting import wait_for

USER = "bot"
PASSWORD = "pw-Ö-s3cret:with@odd/chars"
#: Items the /items route pages through, three per page.
ITEMS = list(range(1, 8))
PAGE_SIZE = 3


def _user(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user if password == PASSWORD else f"{user} (wrong password)"


def build_app(attempts: Counter[str]) -> Starlette:
    async def echo(request: Request) -> Response:
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "headers": dict(request.headers),
                "user": _user(request),
                "body": (await request.body()).decode(),
            }
        )

    async def status(request: Request) -> Response:
        code = int(request.path_params["code"])
        return PlainTextResponse(f"answered {code}", status_code=code)

    async def flaky(request: Request) -> Response:
        """Fails with 503 the first ``fail`` calls of one name, then succeeds."""
        name = request.path_params["name"]
        attempts[name] += 1
        if attempts[name] <= int(request.query_params.get("fail", "2")):
            return PlainTextResponse("try again", status_code=503)
        return JSONResponse({"attempt": attempts[name]})

    async def items(request: Request) -> Response:
        page = int(request.query_params.get("page", "1"))
        chunk = ITEMS[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        more = page * PAGE_SIZE < len(ITEMS)
        return JSONResponse({"items": chunk, "next": page + 1 if more else None})

    async def secure(request: Request) -> Response:
        if _user(request) != USER:
            return PlainTextResponse("who are you?", status_code=401)
        return PlainTextResponse("welcome")

    async def redirect(request: Request) -> Response:
        return Response(status_code=302, headers={"location": "/echo"})

    return Starlette(
        routes=[
            Route("/echo", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]),
            Route("/status/{code:int}", status, methods=["GET", "POST"]),
            Route("/flaky/{name}", flaky, methods=["GET", "POST"]),
            Route("/items", items),
            Route("/secure", secure, methods=["GET", "POST"]),
            Route("/redirect", redirect),
        ]
    )


@contextmanager
def serving() -> Iterator[tuple[str, Counter[str]]]:
    """Serve the app on a free port of 127.0.0.1; yields its base URL and the per-name attempt counter."""
    attempts: Counter[str] = Counter()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(attempts), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    def started() -> bool:
        assert thread.is_alive(), "the test HTTP service stopped before it started"
        return server.started

    wait_for(started, what="the test HTTP service to start", timeout=10, interval=0.01)
    try:
        yield f"http://127.0.0.1:{port}", attempts
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
