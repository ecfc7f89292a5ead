"""Retrying transactions that the database rolled back: a real PostgreSQL deadlock, and what is not
worth retrying."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tests.waiting import wait_for

import tradewind.store.engine as engine_module
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.transient_errors import describe, in_retried_transaction, is_transient


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_both_sides_of_a_real_deadlock_commit_when_retried(migrated_engine: Engine) -> None:
    factory: sessionmaker[Session] = make_session_factory(migrated_engine)
    with transaction(factory) as session:
        session.execute(text("CREATE TABLE ledger (id int PRIMARY KEY, v int NOT NULL)"))
        session.execute(text("INSERT INTO ledger VALUES (1, 0), (2, 0)"))
    both_hold_one = threading.Barrier(2, timeout=30)
    attempts = {"forward": 0, "backward": 0}
    errors: list[BaseException] = []

    def update_in_order(name: str, first: int, second: int) -> None:
        def work(session: Session) -> None:
            attempts[name] += 1
            session.execute(text("UPDATE ledger SET v = v + 1 WHERE id = :id"), {"id": first})
            if attempts[name] == 1:
                both_hold_one.wait()  # each holds one row and now wants the other's: a deadlock
            session.execute(text("UPDATE ledger SET v = v + 1 WHERE id = :id"), {"id": second})

        try:
            in_retried_transaction(factory, work)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=update_in_order, args=("forward", 1, 2)),
        threading.Thread(target=update_in_order, args=("backward", 2, 1)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(attempts.values()) == [1, 2], "PostgreSQL rolled one side back, and it ran again"
    with factory() as session:
        assert session.execute(text("SELECT id, v FROM ledger ORDER BY id")).all() == [(1, 2), (2, 2)]


def test_only_errors_a_retry_can_cure_are_retried(tmp_path: Path) -> None:
    lost = OperationalError("SELECT 1", None, Exception("server closed the connection unexpectedly\nmore"))
    assert is_transient(lost)
    assert describe(lost) == "server closed the connection unexpectedly"
    duplicate = IntegrityError("INSERT", None, Exception("duplicate key value violates unique constraint"))
    assert not is_transient(duplicate)
    factory = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    calls = 0

    def work(_session: Session) -> None:
        nonlocal calls
        calls += 1
        raise duplicate

    with pytest.raises(IntegrityError):
        in_retried_transaction(factory, work)
    assert calls == 1


class _ReadOnly(Exception):
    sqlstate = "25006"


def test_a_write_refused_by_a_server_that_is_no_longer_the_primary_is_transient() -> None:
    assert is_transient(
        InternalError("UPDATE", None, _ReadOnly("cannot execute UPDATE in a read-only transaction"))
    )
    assert not is_transient(InternalError("UPDATE", None, Exception("something else")))


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_prepared_statement_the_server_lost_is_cured_by_the_retried_transaction(
    migrated_engine: Engine,
) -> None:
    """As behind PgBouncer in transaction mode after a server restart: the client still names a prepared
    statement the server no longer has (SQLSTATE 26000). The rollback makes psycopg forget its statements,
    so the transaction run again succeeds."""
    factory: sessionmaker[Session] = make_session_factory(migrated_engine)
    query = text("SELECT count(*) FROM slot_pool WHERE slots >= :n")
    with transaction(factory) as session:
        for _ in range(8):  # past psycopg's prepare threshold: the query is now a named prepared statement
            session.execute(query, {"n": 0})
        names = session.execute(text("SELECT name FROM pg_prepared_statements")).scalars().all()
        assert names, "psycopg prepared the query"
        for name in names:  # the server forgets them; the client's cache does not know
            session.connection().exec_driver_sql(f'DEALLOCATE "{name}"')
    seen: list[BaseException] = []

    def work(session: Session) -> int:
        try:
            return int(session.execute(query, {"n": 0}).scalar_one())
        except Exception as exc:
            seen.append(exc)
            raise

    assert in_retried_transaction(factory, work) >= 1
    assert [getattr(getattr(exc, "orig", None), "sqlstate", None) for exc in seen] == ["26000"]
    assert is_transient(seen[0])


def test_sqlite_locked_past_its_busy_timeout_is_waited_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock (BEGIN EXCLUSIVE) for longer than the lock wait; the transaction
    that could not begin is tried again and commits once the lock is free."""
    path = tmp_path / "locked.db"
    factory = make_session_factory(make_engine(f"sqlite:///{path}"))
    with transaction(factory) as session:
        session.execute(text("CREATE TABLE t (v int)"))
    held = tmp_path / "held"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path), str(held), "1.5"])
    try:
        wait_for(held.exists, what="the other process to hold the lock", timeout=30)
        monkeypatch.setattr(engine_module, "WRITE_LOCK_TIMEOUT", 0.3)  # "past the busy timeout" in a second
        in_retried_transaction(factory, lambda session: session.execute(text("INSERT INTO t VALUES (1)")))
    finally:
        holder.wait(timeout=30)
    with factory() as session:
        assert session.execute(text("SELECT v FROM t")).scalars().all() == [1]


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
conn.rollback()
"""


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("dsn", "named"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:5432/tw_no_such_database", 'database "tw_no_such_database"'),
        ("postgresql+psycopg://tw_no_such_role@127.0.0.1:5432/postgres", 'role "tw_no_such_role"'),
    ],
)
def test_a_connection_refused_for_its_names_is_not_waited_for(dsn: str, named: str) -> None:
    engine = make_engine(dsn)
    try:
        with pytest.raises(OperationalError) as refused:
            engine.connect().close()
    finally:
        engine.dispose()
    assert named in describe(refused.value)
    assert not is_transient(refused.value), "no retry makes an unknown role or database exist"


def test_a_refused_connection_to_a_server_that_is_down_is_waited_for() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/postgres")  # nothing listens on port 9
    try:
        with pytest.raises(OperationalError) as refused:
            engine.connect().close()
    finally:
        engine.dispose()
    assert is_transient(refused.value)
