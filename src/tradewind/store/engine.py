"""Engines and sessions for SQLite (embedded, WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import setting_source
from tradewind.sdk.errors import ConfigError


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs. An unparsable URL is a ConfigError naming the setting
    and where it was set (never the URL itself: it may hold a password)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"database.url ({setting_source(('database', 'url'))}): not a database URL; expected e.g. "
            "postgresql://user:password@host:5432/name or sqlite:////absolute/path.db",
            key="database.url",
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, echo: bool = False, pool_size: int = 5, immediate: bool = True) -> Engine:
    """An engine. On SQLite, ``immediate`` makes every transaction take the write lock at BEGIN (writers);
    readers such as the webserver pass False so they never wait for the scheduler."""
    url = normalise_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        _create_private_sqlite_file(url)
        kwargs["connect_args"] = {
            "timeout": 30,
            "check_same_thread": False,
            "factory": _WriteLockedConnection,
        }
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin if immediate else _sqlite_on_begin_deferred)
        return engine
    kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)
    try:
        return create_engine(url, **kwargs)
    except NoSuchModuleError:
        driver = make_url(url).drivername
        raise ConfigError(
            f"database.url ({setting_source(('database', 'url'))}): unknown database driver {driver!r}; "
            "Tradewind supports sqlite:// and postgresql://",
            key="database.url",
        ) from None


def database_missing(url: str) -> bool:
    """True for a SQLite URL whose file does not exist: opening it would create an empty database."""
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return False
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return False
    return not os.path.exists(database)


def _create_private_sqlite_file(url: str) -> None:
    """Create a missing database file readable by its owner only, before SQLite creates it with the umask's
    mode (0644, typically) and data goes in. SQLite gives its -wal and -shm files the database file's mode."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return  # an existing database keeps its mode; a missing or read-only folder is SQLite's to report
    os.close(fd)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control from the pysqlite driver so BEGIN IMMEDIATE can serialise writers.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # The busy timeout first: switching a new database to WAL needs a lock another process may hold.
    cur.execute(f"PRAGMA busy_timeout={int(WRITE_LOCK_TIMEOUT * 1000)}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


#: How long a writer waits for SQLite's write lock before giving up, and its polling bounds.
WRITE_LOCK_TIMEOUT = 30.0
_LOCK_POLL_MIN, _LOCK_POLL_MAX = 0.0005, 0.004

#: One lock per database file for the writers of this process (see ``_WriteLockedConnection``).
_process_write_locks: dict[str, threading.Lock] = {}
_process_write_locks_guard = threading.Lock()


def _process_write_lock(database: str) -> threading.Lock:
    key = os.path.realpath(database)
    with _process_write_locks_guard:
        return _process_write_locks.setdefault(key, threading.Lock())


def _forget_process_write_locks() -> None:
    # A forked child starts with no writer: a lock a parent's thread held at the fork would never be freed.
    global _process_write_locks_guard
    _process_write_locks_guard = threading.Lock()
    _process_write_locks.clear()


os.register_at_fork(after_in_child=_forget_process_write_locks)


class _WriteLockedConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions also hold its process's lock for the database file.

    Threads of one process (the execution API's workers, `standalone`'s parts) queue on that lock instead of
    polling BEGIN IMMEDIATE against each other; only writers of other processes are polled for. SQLite's
    own lock still decides who writes: the process lock only saves the polling. It is released when the
    transaction ends by any path (commit, rollback, the pool's reset, close).
    """

    _write_lock: threading.Lock | None = None
    _file_lock: tuple[int, threading.Lock] | None = None  # (pid, lock): a forked child looks its lock up anew

    def take_write_lock(self, timeout: float) -> bool:
        pid = os.getpid()
        if self._file_lock is None or self._file_lock[0] != pid:
            self._file_lock = (pid, self._lock_for_file())
        lock = self._file_lock[1]
        if not lock.acquire(timeout=max(timeout, 0.0)):
            return False
        self._write_lock = lock
        return True

    def release_write_lock(self) -> None:
        lock, self._write_lock = self._write_lock, None
        if lock is not None and self._file_lock is not None and self._file_lock[0] == os.getpid():
            lock.release()  # (in a forked child the parent's lock is not ours to release)

    def _lock_for_file(self) -> threading.Lock:
        row = self.execute("PRAGMA database_list").fetchone()
        if row is None or not row[2]:
            return threading.Lock()  # an in-memory database is this connection's alone
        return _process_write_lock(str(row[2]))

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_write_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_write_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_write_lock()


def _sqlite_on_begin(conn: Any) -> None:
    """Take the write lock up front (BEGIN IMMEDIATE: no deadlocking upgrade from a read lock).

    First the process's lock for the file (``_WriteLockedConnection``): a thread waits there, without
    polling, while another thread of this process writes. Then SQLite's: its own busy handler backs off to
    100 ms sleeps under contention, which is what made each of a handful of concurrent task processes wait
    hundreds of milliseconds for a lock held for one. Here the wait is a short poll instead; reads keep the
    busy timeout for the rare checkpoint wait.
    """
    raw = conn.connection.dbapi_connection
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
    if isinstance(raw, _WriteLockedConnection) and not raw.take_write_lock(deadline - time.monotonic()):
        raise OperationalError(
            "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked (by this process)")
        )
    try:
        _begin_immediate(raw, deadline)
    except BaseException:
        if isinstance(raw, _WriteLockedConnection):
            raw.release_write_lock()
        raise


def _begin_immediate(raw: Any, deadline: float) -> None:
    raw.execute("PRAGMA busy_timeout=0")
    try:
        pause = _LOCK_POLL_MIN
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    # As SQLAlchemy would have wrapped it, so callers see one kind of database error.
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 1.5, _LOCK_POLL_MAX)
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(WRITE_LOCK_TIMEOUT * 1000)}")


def _sqlite_on_begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session
