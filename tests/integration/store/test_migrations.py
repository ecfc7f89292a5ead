"""Schema migrations on SQLite and PostgreSQL: upgrade, populated upgrade, reset, check, metadata at head."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.store import dags, task_instances, variables, xcom
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.migrate import check, current_revision, head_revision, reset, upgrade
from tradewind.store.pools import DEFAULT_POOL, get_pool
from tradewind.store.tables import (
    ApiTokenModel,
    Base,
    DagModel,
    DagRunModel,
    SerializedDagModel,
    TaskInstanceModel,
    UserModel,
    VariableModel,
    XComModel,
)

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
CORE_TABLES = {"dag", "serialized_dag", "dag_run", "task_instance", "xcom", "variable", "slot_pool", "job"}


def test_schema_at_head_equals_the_table_definitions(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent_and_creates_the_default_pool(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, default_pool_slots=7)
        upgrade(engine, default_pool_slots=99)  # an existing default pool keeps its slots
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= CORE_TABLES
        with transaction(make_session_factory(engine)) as session:
            assert get_pool(session=session, name=DEFAULT_POOL).slots == 7
    finally:
        engine.dispose()


def test_upgrade_of_a_populated_database_keeps_every_row(db_url: str) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    try:
        upgrade(engine, "0001")
        assert current_revision(engine) == "0001"
        assert "task_instance_history" not in inspect(engine).get_table_names()
        with transaction(factory) as session:
            _populate_at_0001(session)

        upgrade(engine)

        assert current_revision(engine) == head_revision()
        with transaction(factory) as session:
            dag = session.get(DagModel, "etl")
            assert dag is not None
            assert (dag.tags, dag.is_paused, dag.next_dagrun) == (["nightly", "finance"], False, NOW)
            run = session.scalars(select(DagRunModel)).one()
            assert (run.run_id, run.state, run.conf, run.logical_date) == (
                "manual__1",
                "running",
                {"x": 1},
                NOW,
            )
            tis = session.scalars(select(TaskInstanceModel).order_by(TaskInstanceModel.task_id)).all()
            assert [(ti.task_id, ti.state, ti.try_number) for ti in tis] == [
                ("a", "success", 1),
                ("b", None, 0),
            ]
            assert xcom.get_xcom(session=session, dag_id="etl", run_id="manual__1", task_id="a") == {
                "rows": [1, 2]
            }
            assert variables.get_variable(session=session, key="api_url").val == "https://example.com"
            assert session.get(SerializedDagModel, "etl") is not None
            # 0002 filled dag_tag from the JSON column, so filtering by tag finds the old DAG.
            rows, total = dags.list_dags(session=session, tags=["finance"])
            assert ([d.dag_id for d in rows], total) == (["etl"], 1)
            # The tables 0002 added are usable.
            ti_a = task_instances.get_task_instance(
                session=session, key=TaskInstanceKey("etl", "manual__1", "a")
            )
            assert task_instances.archive_try(session=session, ti=ti_a)
            user = UserModel(username="ada", password_hash="x", role="admin")
            session.add(user)
            session.flush()
            session.add(ApiTokenModel(user_id=user.id, token_hash="h" * 64))
        with transaction(factory) as session:
            tries = task_instances.list_tries(session=session, key=TaskInstanceKey("etl", "manual__1", "a"))
            assert [(t.try_number, t.state) for t in tries] == [(1, "success")]
            assert session.scalars(select(ApiTokenModel.token_hash)).one() == "h" * 64
    finally:
        engine.dispose()


def _populate_at_0001(session: Session) -> None:
    # A Core insert names only the columns given (and defaulted ones), so columns added by later revisions
    # to the dag table are left out, as they must be at 0001.
    session.execute(
        insert(DagModel).values(
            dag_id="etl",
            fileloc="/dags/etl.py",
            is_paused=False,
            tags=["nightly", "finance"],
            next_dagrun=NOW,
        )
    )
    session.flush()
    session.add(SerializedDagModel(dag_id="etl", data='{"dag_id": "etl"}', dag_hash="0" * 64))
    session.add(
        DagRunModel(
            dag_id="etl",
            run_id="manual__1",
            run_type="manual",
            state="running",
            logical_date=NOW,
            conf={"x": 1},
        )
    )
    # Core inserts too: later revisions add columns to task_instance (0006: next_poke_at).
    session.execute(
        insert(TaskInstanceModel).values(
            dag_id="etl", run_id="manual__1", task_id="a", map_index=-1, state="success", try_number=1
        )
    )
    session.execute(insert(TaskInstanceModel).values(dag_id="etl", run_id="manual__1", task_id="b", map_index=-1))
    session.add(
        XComModel(dag_id="etl", run_id="manual__1", task_id="a", key="return_value", value='{"rows": [1, 2]}')
    )
    session.add(VariableModel(key="api_url", val="https://example.com"))


def test_reset_drops_data_and_rebuilds_the_schema(db_url: str) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    try:
        upgrade(engine)
        with transaction(factory) as session:
            variables.set_variable(session=session, key="k", value="v")
        reset(engine)
        assert check(engine).up_to_date
        with transaction(factory) as session:
            assert variables.list_variables(session=session) == ([], 0)
            assert get_pool(session=session, name=DEFAULT_POOL).slots == 128
    finally:
        engine.dispose()


def test_check_reports_where_the_schema_stands(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        status = check(engine)
        assert (status.connected, status.current, status.up_to_date) == (True, None, False)
        assert "tradewind db migrate" in status.describe()
        upgrade(engine, "0001")
        status = check(engine)
        assert (status.current, status.head, status.up_to_date) == ("0001", head_revision(), False)
        upgrade(engine)
        assert check(engine).up_to_date
    finally:
        engine.dispose()


def test_check_reports_an_unreachable_database() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/nothing")
    status = check(engine)
    assert not status.connected and not status.up_to_date
    assert status.error and "unreachable" in status.describe()
    missing = make_engine("sqlite:////nonexistent-dir/sub/tradewind.db")
    assert not check(missing).connected


def test_concurrent_upgrades_do_not_collide(db_url: str) -> None:
    engines = [make_engine(db_url), make_engine(db_url)]
    errors: list[BaseException] = []

    def migrate(engine: Engine) -> None:
        try:
            upgrade(engine)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        assert current_revision(engines[0]) == head_revision()
        with transaction(make_session_factory(engines[0])) as session:
            assert get_pool(session=session, name=DEFAULT_POOL).slots == 128
    finally:
        for engine in engines:
            engine.dispose()
