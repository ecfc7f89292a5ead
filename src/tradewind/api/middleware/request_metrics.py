"""ASGI middleware timing every HTTP request by method, route template (never the raw path) and status."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradewind.observability.metrics import Metrics

#: The route label of a request no route matched: scanners' paths must not become label values.
UNMATCHED = "unmatched"


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.metrics.enabled:
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500  # what the client sees when the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.timing(
                "http.request_duration",
                time.monotonic() - started,
                method=scope["method"],
                route=route_template(scope),
                status=status,
            )


def route_template(scope: Scope) -> str:
    """The matched route's template with its router's prefix: ``/api/v1/dags/{dag_id}``.

    The router records the matched route in the scope (this dict), but a route included under a prefix
    knows only its own part (``/dags/{dag_id}``). The prefix is what precedes the first tail of the path,
    from the left, that the route's own pattern matches (prefixes here are literal).
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    pattern = getattr(route, "path_regex", None)
    if not isinstance(template, str):
        return UNMATCHED
    path: str = scope.get("path", "")
    if pattern is None or path == template:
        return template
    for index, char in enumerate(path):
        if char == "/" and pattern.match(path[index:]):
            return path[:index] + template
    return template
