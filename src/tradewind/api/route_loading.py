"""Serving while the routes load: ``RouteLoading`` is the ASGI app a server runs in front of an app
``create_core_app`` built, while a thread completes it (``complete_app``). Reads of the routes already there
(/health, the login page, static files) answer at once; every other request waits until the app is complete,
then goes through as it would have, or fails with the error that stopped the loading."""

from __future__ import annotations

import asyncio
import logging
import threading

from fastapi import FastAPI
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from tradewind.api.app import complete_app

log = logging.getLogger(__name__)

#: Requests that may be answered before the app is complete. A POST (a login) waits: it needs the dummy
#: password hash ``complete_app`` makes, or its timing would tell unknown usernames apart.
EARLY_METHODS = frozenset({"GET", "HEAD"})


class RouteLoading:
    """``start`` once the server listens. ``failure``: what completing the app raised (the server stops)."""

    def __init__(self, app: FastAPI, *, complete: threading.Event | None = None) -> None:
        self.app = app
        #: Set once the app is complete (not when completing it failed).
        self.complete = complete or threading.Event()
        self.loaded = threading.Event()
        self.failure: BaseException | None = None
        self._early_routes = list(app.router.routes)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._load, name="route-loading", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        try:
            complete_app(self.app)
            self.complete.set()
        except BaseException as exc:  # handed to the server, which stops and raises it
            log.error("the webserver's routes failed to load: %r", exc)
            self.failure = exc
        finally:
            self.loaded.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.loaded.is_set() and scope["type"] in ("http", "websocket") and not self._early(scope):
            await asyncio.get_running_loop().run_in_executor(None, self.loaded.wait)
            if self.failure is not None:
                raise RuntimeError("the webserver's routes failed to load") from self.failure
        await self.app(scope, receive, send)

    def _early(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] not in EARLY_METHODS:
            return False
        return any(route.matches(scope)[0] == Match.FULL for route in self._early_routes)
