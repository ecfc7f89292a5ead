"""What the app holds for every request (settings, engines, templates, auth) and the dependencies for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.templating import Jinja2Templates

from tradewind.api.auth.authentication import Authenticator
from tradewind.config.settings import Settings
from tradewind.core.timezones import resolve_zone_name, shown_zone
from tradewind.logs.reading import TryLogReader
from tradewind.store.serialized_dag_cache import SerializedDagCache


@dataclass(slots=True)
class AppContext:
    settings: Settings
    read_engine: Engine
    write_engine: Engine
    read_factory: sessionmaker[Session]
    write_factory: sessionmaker[Session]
    templates: Jinja2Templates
    authenticator: Authenticator
    dag_cache: SerializedDagCache
    secret_key: str
    version: str
    started_at: datetime
    #: The one read path of task logs (local folder, running pods, remote store).
    log_reader: TryLogReader

    def dispose(self) -> None:
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def read_session(request: Request) -> Iterator[Session]:
    """A session for reading; it never commits (on SQLite it takes no write lock)."""
    with get_ctx(request).read_factory() as session:
        yield session


def page_context(request: Request, **values: Any) -> dict[str, Any]:
    principal = getattr(request.state, "principal", None)
    default_zone = get_ctx(request).settings.webserver.default_ui_timezone
    base: dict[str, Any] = {
        "principal": principal,
        # Every time on the page is shown in this zone (the `when` filter, tradewind.formatTime in JS).
        "ui_tz": shown_zone(getattr(principal, "timezone", None), default_zone),
        "ui_tz_default": resolve_zone_name(default_zone),
        "csrf_token": principal.csrf if principal is not None else None,
        "version": get_ctx(request).version,
        "path": request.url.path,
    }
    base.update(values)
    return base
