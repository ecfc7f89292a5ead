"""Retrying transactions that the database rolled back: a real PostgreSQL deadlock, and what is not
worth retrying."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.store.engine import make_session_factory, transaction
from tradewind.store.transient_errors import db_retries, describe, is_transient


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
        try:
            for attempt in db_retries():
                with attempt, transaction(factory) as session:
                    attempts[name] += 1
                    session.execute(text("UPDATE ledger SET v = v + 1 WHERE id = :id"), {"id": first})
                    if attempts[name] == 1:
                        both_hold_one.wait()  # each holds one row and now wants the other's: a deadlock
                    session.execute(text("UPDATE ledger SET v = v + 1 WHERE id = :id"), {"id": second})
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


def test_only_errors_a_retry_can_cure_are_retried() -> None:
    lost = OperationalError("SELECT 1", None, Exception("server closed the connection unexpectedly\nmore"))
    assert is_transient(lost)
    assert describe(lost) == "server closed the connection unexpectedly"
    duplicate = IntegrityError("INSERT", None, Exception("duplicate key value violates unique constraint"))
    assert not is_transient(duplicate)
    calls = 0
    with pytest.raises(IntegrityError):
        for attempt in db_retries():
            with attempt:
                calls += 1
                raise duplicate
    assert calls == 1


def test_a_transaction_failing_every_time_gives_up_with_the_last_error() -> None:
    calls = 0
    with pytest.raises(OperationalError, match="could not connect"):
        for attempt in db_retries(attempts=3):
            with attempt:
                calls += 1
                raise OperationalError("SELECT 1", None, Exception("could not connect to server"))
    assert calls == 3
