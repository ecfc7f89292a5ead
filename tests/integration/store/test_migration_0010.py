"""Revision 0010 (deferrable operators) on SQLite and PostgreSQL: a populated database gains the trigger
table and the deferral columns, existing rows keep their values, and the downgrade takes them away again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, inspect, select

from tradewind.store import triggers
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.migrate import _config, current_revision, upgrade
from tradewind.store.tables import TaskInstanceModel

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
DEFERRAL_COLUMNS = {"trigger_id", "trigger_timeout", "next_method", "next_kwargs"}


def test_0010_adds_triggers_to_a_populated_database_and_downgrades(db_url: str) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    try:
        upgrade(engine, "0009")
        assert "trigger" not in inspect(engine).get_table_names()
        with engine.begin() as conn:
            conn.execute(
                insert(TaskInstanceModel.__table__).values(
                    dag_id="etl", run_id="r1", task_id="a", map_index=-1, state="success", try_number=1
                )
            )
        upgrade(engine, "0010")
        assert current_revision(engine) == "0010"
        columns = {c["name"] for c in inspect(engine).get_columns("task_instance")}
        assert columns >= DEFERRAL_COLUMNS
        with transaction(factory) as session:
            ti = session.scalars(select(TaskInstanceModel)).one()
            assert (ti.state, ti.try_number, ti.trigger_id, ti.next_method, ti.next_kwargs) == (
                "success", 1, None, None, None,
            )  # fmt: skip
            trigger_id = triggers.create_trigger(
                session=session, classpath="m.T", kwargs={"moment": {"x": [1, 2]}}, now=NOW
            )
        with transaction(factory) as session:
            assert triggers.held_trigger_ids(session=session, triggerer_id=5) == set()  # unclaimed
            assert triggers.claim_triggers(
                session=session, triggerer_id=5, alive_triggerer_ids=[5], limit=1
            ) == [trigger_id]
            [stored] = triggers.triggers_by_id(session=session, ids=[trigger_id])
            assert (stored.classpath, stored.kwargs) == ("m.T", {"moment": {"x": [1, 2]}})

        with engine.begin() as conn:
            command.downgrade(_config(conn), "0009")
        assert "trigger" not in inspect(engine).get_table_names()
        assert not DEFERRAL_COLUMNS & {c["name"] for c in inspect(engine).get_columns("task_instance")}
        upgrade(engine, "0010")
        assert current_revision(engine) == "0010"
    finally:
        engine.dispose()
