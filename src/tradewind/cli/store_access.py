"""Opening the metadata database from a command: settings, engine, and a session factory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings, load_settings
from tradewind.sdk.errors import ConfigError
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.migrate import check


@dataclass
class StoreAccess:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def open_store(settings: Settings | None = None) -> StoreAccess:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    return StoreAccess(settings, engine, make_session_factory(engine))


def migrated_engine(settings: Settings) -> Engine:
    """An engine on the metadata database, for a service that must not start on an older schema (the
    scheduler, the triggerer): ConfigError saying to run `tradewind db migrate` otherwise."""
    engine = make_engine(settings.database_url)
    status = check(engine)
    if not status.up_to_date:
        engine.dispose()
        raise ConfigError(
            f"the metadata database is not at the newest schema ({status.current} != {status.head}): "
            "run `tradewind db migrate`",
            key="database.url",
        )
    return engine
