"""Opening the metadata database from a command: settings, engine, and a session factory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings, load_settings
from tradewind.store.engine import make_engine, make_session_factory


@dataclass
class StoreAccess:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def open_store(settings: Settings | None = None) -> StoreAccess:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    return StoreAccess(settings, engine, make_session_factory(engine))
