"""Writers of one process on one SQLite file: each write transaction holds the process's lock for the file
as well as SQLite's, and gives both back however it ends, so no update is lost and no writer is stuck."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tradewind.store.engine import make_engine, make_session_factory, transaction


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'tradewind.db'}", pool_size=8)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    return engine


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT n FROM counter")).scalar_one())


def test_threads_writing_at_once_lose_no_update(engine: Engine) -> None:
    """Read-modify-write from many threads (two engines on the same file, as the API's write factories
    are): every increment lands, none times out."""
    factories = [
        make_session_factory(engine),
        make_session_factory(make_engine(str(engine.url), pool_size=8)),
    ]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(25):
                with transaction(factories[i % 2]) as session:
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # reported below, with the count
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert _count(engine) == 8 * 25


def test_a_failed_or_abandoned_transaction_frees_the_lock_for_the_next_writer(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError), transaction(factory) as session:
        session.execute(text("UPDATE counter SET n = 5"))
        raise RuntimeError("the unit of work fails")
    session = factory()  # begun, written, then closed without commit: the pool rolls it back
    session.execute(text("UPDATE counter SET n = 6"))
    session.close()
    with engine.connect() as conn:  # a connection that is invalidated mid-transaction is gone for good
        conn.begin()
        conn.execute(text("UPDATE counter SET n = 7"))
        conn.invalidate()
    done = threading.Event()

    def write_from_another_thread() -> None:
        with transaction(factory) as other:
            other.execute(text("UPDATE counter SET n = n + 1"))
        done.set()

    thread = threading.Thread(target=write_from_another_thread)
    thread.start()
    thread.join(timeout=60)
    assert done.is_set()
    assert _count(engine) == 1
