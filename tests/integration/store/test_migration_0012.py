"""Revision 0012 (each user's UI time zone) on SQLite and PostgreSQL: existing users keep their rows and
follow the default zone (NULL); a downgrade drops only the column."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, inspect, select, update

from tradewind.store.engine import make_engine
from tradewind.store.migrate import HEAD_REVISION, _config, current_revision, upgrade
from tradewind.store.tables import UserModel

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_0012_adds_the_users_ui_timezone_and_downgrades(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0011")
        assert "ui_timezone" not in {c["name"] for c in inspect(engine).get_columns("tw_user")}
        with engine.begin() as conn:
            conn.execute(insert(UserModel).values(username="ann", password_hash="h", role="admin", active=True,
                                                created_at=NOW))  # fmt: skip
        upgrade(engine)
        assert current_revision(engine) == HEAD_REVISION  # this revision and any after it
        with engine.begin() as conn:
            assert conn.execute(select(UserModel.username, UserModel.ui_timezone)).all() == [("ann", None)]
            conn.execute(update(UserModel).values(ui_timezone="Europe/Paris"))
            assert conn.execute(select(UserModel.ui_timezone)).scalar_one() == "Europe/Paris"

        with engine.begin() as conn:
            command.downgrade(_config(conn), "0011")
        columns = {c["name"] for c in inspect(engine).get_columns("tw_user")}
        assert "ui_timezone" not in columns and "username" in columns
        with engine.connect() as conn:
            assert conn.execute(select(UserModel.username)).scalar_one() == "ann"
        upgrade(engine)
        assert current_revision(engine) == HEAD_REVISION  # this revision and any after it
    finally:
        engine.dispose()
