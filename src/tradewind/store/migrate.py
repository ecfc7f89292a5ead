"""Schema migrations: upgrade, reset and check the metadata database with the packaged Alembic revisions."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, MetaData, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tradewind.store.pools import ensure_default_pool

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
#: Key of the PostgreSQL advisory lock held while migrating, so concurrent upgrades run one after another.
ADVISORY_LOCK_KEY = zlib.crc32(b"tradewind.store.migrate")
#: The newest packaged revision. A test checks it against Alembic's own view of the scripts; with it, a
#: database already at head is recognised with one query and without importing Alembic (~60 ms at start-up).
HEAD_REVISION = "0012"


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """Where a database stands against the packaged revisions."""

    connected: bool
    current: str | None
    head: str
    error: str | None = None

    @property
    def up_to_date(self) -> bool:
        return self.connected and self.current == self.head

    def describe(self) -> str:
        if not self.connected:
            return f"database unreachable: {self.error}"
        if self.current is None:
            return f"database has no schema (head is {self.head}); run `tradewind db migrate`"
        if self.current != self.head:
            return f"database schema is at {self.current}, head is {self.head}; run `tradewind db migrate`"
        return f"database schema is up to date at {self.head}"


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_table", VERSION_TABLE)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the packaged migrations have no head"
    return head


def upgrade(engine: Engine, revision: str = "head", *, default_pool_slots: int = 128) -> None:
    """Bring the schema to ``revision`` (idempotent) and make sure the default pool exists.

    On PostgreSQL a transaction-scoped advisory lock serialises concurrent callers; on SQLite the writer
    engine's ``BEGIN IMMEDIATE`` does the same.
    """
    if revision == "head" and _at_head(engine):
        return
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        command.upgrade(_config(conn), revision)
        if inspect(conn).has_table("slot_pool"):
            with Session(bind=conn) as session:
                ensure_default_pool(session=session, slots=default_pool_slots)
                session.flush()


def reset(engine: Engine, *, default_pool_slots: int = 128) -> None:
    """Drop every table in the database (ours and the version table), then upgrade to head."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        existing = MetaData()
        existing.reflect(bind=conn)
        existing.drop_all(bind=conn)
    upgrade(engine, default_pool_slots=default_pool_slots)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database without our schema."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        version = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        return None if version is None else str(version)


def _at_head(engine: Engine) -> bool:
    """True when the schema is at HEAD_REVISION and the default pool exists (nothing for upgrade to do)."""
    try:
        with engine.connect() as conn:
            version = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
            if version != HEAD_REVISION:
                return False
            return conn.execute(text("SELECT 1 FROM slot_pool WHERE name = 'default_pool'")).scalar() == 1
    except SQLAlchemyError:
        return False


def check(engine: Engine) -> MigrationStatus:
    """Connect and compare the database's revision with the packaged head; never raises on a bad database."""
    try:
        return schema_status(engine)
    except SQLAlchemyError as exc:
        return MigrationStatus(connected=False, current=None, head=HEAD_REVISION, error=_first_line(exc))


def schema_status(engine: Engine) -> MigrationStatus:
    """As ``check``, but raises the driver's error when the database does not answer (for a caller that
    waits for it through an outage, ``store.database_wait``)."""
    head = HEAD_REVISION
    sqlite_path = engine.url.database if engine.dialect.name == "sqlite" else None
    if sqlite_path and sqlite_path != ":memory:" and not Path(sqlite_path).exists():
        # Connecting would create an empty file; report the missing schema without side effects.
        if not Path(sqlite_path).parent.is_dir():
            error = f"directory {Path(sqlite_path).parent} of the SQLite database does not exist"
            return MigrationStatus(connected=False, current=None, head=head, error=error)
        return MigrationStatus(connected=True, current=None, head=head)
    return MigrationStatus(connected=True, current=current_revision(engine), head=head)


def _first_line(exc: SQLAlchemyError) -> str:
    # The driver's own message, without SQLAlchemy's trailing help link or the SQL text.
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
