"""Revision 0011 (asset watchers) on SQLite and PostgreSQL: a populated database gains the asset_watcher
table, existing triggers and assets keep their values, and the downgrade takes the table away again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, inspect, select

from tradewind.store import assets, triggers
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.migrate import HEAD_REVISION, _config, current_revision, upgrade
from tradewind.store.tables import AssetModel, AssetWatcherModel, TriggerModel

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_0011_adds_asset_watchers_to_a_populated_database_and_downgrades(db_url: str) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    try:
        upgrade(engine, "0010")
        assert "asset_watcher" not in inspect(engine).get_table_names()
        with engine.begin() as conn:
            conn.execute(insert(AssetModel.__table__).values(name="a", uri="a", group="asset", extra={},
                                                              created_at=NOW, updated_at=NOW))  # fmt: skip
            conn.execute(insert(TriggerModel.__table__).values(classpath="m.T", kwargs={"x": 1},
                                                                created_date=NOW))  # fmt: skip
        upgrade(engine)
        assert current_revision(engine) == HEAD_REVISION  # this revision and any after it
        with transaction(factory) as session:
            asset_id = session.scalars(select(AssetModel.id)).one()
            [trigger_id] = session.scalars(select(TriggerModel.id)).all()
            assert triggers.triggers_by_id(session=session, ids=[trigger_id])[0].kwargs == {"x": 1}
            session.add(AssetWatcherModel(asset_id=asset_id, trigger_id=trigger_id, name="w"))
        with transaction(factory) as session:
            assert triggers.is_watcher(session=session, trigger_id=trigger_id)
            assert assets.watched_asset_ids(session=session, trigger_id=trigger_id) == [asset_id]
            assert triggers.delete_unreferenced(session=session) == 0  # a watcher's trigger is kept

        with engine.begin() as conn:
            command.downgrade(_config(conn), "0010")
        assert "asset_watcher" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert current_revision(engine) == HEAD_REVISION  # this revision and any after it
    finally:
        engine.dispose()
