"""`tradewind db migrate|reset|check`: manage the metadata database schema; and how every command names
the database (password masked) and explains database errors.

Alembic is imported only by the handlers that need it: other command groups use the helpers here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tradewind.cli.arguments import Subparsers
from tradewind.config.settings import Settings, load_settings
from tradewind.core.redaction import mask_url
from tradewind.sdk.errors import TradewindError
from tradewind.store.database_wait import wait_for_database
from tradewind.store.engine import make_engine


@contextmanager
def explain_database_errors(settings: Settings) -> Iterator[None]:
    """Turn driver errors (unreachable server, missing tables) into one line that says what to do."""
    try:
        yield
    except SQLAlchemyError as exc:
        original = getattr(exc, "orig", None) or exc
        first_line = (str(original).strip().splitlines() or [type(original).__name__])[0]
        raise TradewindError(
            f"database {mask_url(settings.database_url)}: {first_line} "
            "(run `tradewind db check`; `tradewind db migrate` creates the schema)"
        ) from None


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("db", help="Manage the metadata database (migrate, reset, check)")
    commands = parser.add_subparsers(dest="db_command", metavar="COMMAND", required=True)

    migrate = commands.add_parser("migrate", help="Create or upgrade the schema to the newest revision")
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    migrate.set_defaults(handler=_migrate)

    reset_parser = commands.add_parser("reset", help="Drop every table and data, then create the schema")
    reset_parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    reset_parser.set_defaults(handler=_reset)

    check_parser = commands.add_parser(
        "check", help="Exit 0 when the database is reachable and its schema is at head, 1 otherwise"
    )
    check_parser.set_defaults(handler=_check)


def _engine(settings: Settings) -> Engine:
    return make_engine(settings.database_url, echo=settings.database.echo)


def _ensure_sqlite_folder(settings: Settings) -> None:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _migrate(args: argparse.Namespace) -> int:
    from tradewind.store.migrate import current_revision, upgrade  # Alembic costs ~0.1 s at import

    settings = load_settings()
    _ensure_sqlite_folder(settings)
    engine = _engine(settings)

    def migrate() -> tuple[str | None, str | None]:
        before = current_revision(engine)
        upgrade(engine, args.revision, default_pool_slots=settings.core.default_pool_slots)
        return before, current_revision(engine)

    try:
        with explain_database_errors(settings):
            # A chart may run this while its PostgreSQL starts: a database not answering yet is waited for.
            before, after = wait_for_database(
                engine, migrate, window=settings.database.outage_timeout, what="`tradewind db migrate`"
            )
    finally:
        engine.dispose()
    where = mask_url(settings.database_url)
    if before == after:
        print(f"database {where} already at revision {after}")
    else:
        print(f"database {where} upgraded from {before or 'empty'} to revision {after}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    from tradewind.store.migrate import head_revision, reset  # Alembic costs ~0.1 s at import

    settings = load_settings()
    where = mask_url(settings.database_url)
    if not args.yes and not _confirm(f"Drop every table and all data in {where}? Type 'yes' to go on: "):
        print("aborted: nothing changed", file=sys.stderr)
        return 1
    _ensure_sqlite_folder(settings)
    engine = _engine(settings)
    try:
        with explain_database_errors(settings):
            reset(engine, default_pool_slots=settings.core.default_pool_slots)
    finally:
        engine.dispose()
    print(f"database {where} reset to revision {head_revision()}")
    return 0


def _confirm(prompt: str) -> bool:
    try:
        return input(prompt).strip().lower() in ("y", "yes")
    except EOFError:  # no terminal to answer: never drop data unasked
        return False


def _check(_args: argparse.Namespace) -> int:
    from tradewind.store.migrate import check  # Alembic costs ~0.1 s at import

    settings = load_settings()
    engine = _engine(settings)
    try:
        status = check(engine)
    finally:
        engine.dispose()
    message = f"{status.describe()} [{mask_url(settings.database_url)}]"
    if status.up_to_date:
        print(message)
        return 0
    print(f"error: {message}", file=sys.stderr)
    return 1
