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
