"""Opening the metadata database from a command: settings, engine, and a session factory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings, load_settings
from tradewind.sdk.errors import ConfigError
from tradewind.store.database_wait import wait_for_database
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.migrate import schema_status


@dataclass
class StoreAccess:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def open_store(settings: Settings | None = None) -> StoreAccess:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    return StoreAccess(settings, engine, make_session_factory(engine))


def migrated_engine(settings: Settings, *, what: str) -> Engine:
    """An engine on the metadata database, for a service that must not start on an older schema (the
    scheduler, the DAG processor, the triggerer). A database that does not answer yet is waited for within
    ``database.outage_timeout`` (``store.database_wait``); a schema not at head is a ConfigError saying to
    run `tradewind db migrate`."""
    engine = make_engine(settings.database_url)
    try:
        status = wait_for_database(
            engine, lambda: schema_status(engine), window=settings.database.outage_timeout, what=what
        )
    except BaseException:
        engine.dispose()
        raise
    if not status.up_to_date:
        engine.dispose()
        prefix = "the metadata database is not at the newest schema: " if status.connected else ""
        raise ConfigError(prefix + status.describe(), key="database.url")
    return engine
