"""PostgreSQL databases for tests, made and removed off the tests' critical path.

Every test on PostgreSQL gets its own database. Two costs dominated making them on a busy machine: ``DROP
DATABASE`` asks the server for a checkpoint (half a second to a second under load) and each of a test's many
small commits waited for a WAL flush. So:

- a database a test is done with is dropped by one background thread per test process (``retire``), while the
  next test runs; what is left is dropped when the process exits;
- every test database is created with ``synchronous_commit = off`` (a per-database default, so each of the
  test's own processes gets it too): a commit returns before its WAL record is flushed. That gives up only
  durability across a crash of the PostgreSQL server itself, which no test here relies on (the tests that
  restart a server run their own, and a clean stop flushes everything);
- a database that is replaced by a migrated copy is renamed away and dropped in the background.
"""

from __future__ import annotations

import atexit
import contextlib
import queue
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

#: The defaults every test database gets (a database-level setting is not copied from a template).
_DATABASE_DEFAULTS = ("synchronous_commit = off",)


def _connect(admin_url: str) -> psycopg.Connection[Any]:
    import psycopg

    return psycopg.connect(admin_url.replace("postgresql+psycopg", "postgresql"), autocommit=True, connect_timeout=10)


def create_database(admin_url: str, name: str, *, template: str | None = None) -> None:
    """Create ``name`` (empty, or a copy of ``template``) with the test defaults."""
    source = f' TEMPLATE "{template}"' if template else ""
    with _connect(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{source}')
        for default in _DATABASE_DEFAULTS:
            conn.execute(f'ALTER DATABASE "{name}" SET {default}')


def replace_database(admin_url: str, name: str, *, template: str) -> None:
    """Make ``name`` a fresh copy of ``template``; an existing ``name`` is renamed away and dropped later (or
    dropped now when a session still holds it, since a database in use cannot be renamed)."""
    import psycopg

    with _connect(admin_url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            old = f"{name[:40]}_old_{uuid.uuid4().hex[:8]}"
            try:
                conn.execute(f'ALTER DATABASE "{name}" RENAME TO "{old}"')
            except psycopg.errors.ObjectInUse:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                _dropper(admin_url).put(old)
    create_database(admin_url, name, template=template)


def retire(admin_url: str, name: str) -> None:
    """Drop ``name`` soon, on this process's background thread (sessions still on it are ended)."""
    _dropper(admin_url).put(name)


def drop_now(admin_url: str, name: str) -> None:
    import psycopg

    with contextlib.suppress(psycopg.OperationalError):  # a test's private server, gone with the test
        _drop_or_raise(admin_url, name)


def _drop_or_raise(admin_url: str, name: str) -> None:
    with _connect(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _Dropper:
    """One daemon thread per server that drops the databases queued to it, in order. A drop that fails (a
    process a test left behind reconnected between the FORCE's terminations and the drop, say) is tried again
    later, then reported on stderr by name: a leftover database must not fail a later test, nor go unseen."""

    ATTEMPTS = 3

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.names: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="tw-test-db-dropper", daemon=True)
        self.thread.start()
        atexit.register(self.finish)

    def put(self, name: str) -> None:
        self.names.put((name, 1))

    def _run(self) -> None:
        while (item := self.names.get()) is not None:
            name, attempt = item
            try:
                _drop_or_raise(self.admin_url, name)
            except Exception as exc:  # any failure: retried, then reported
                if attempt < self.ATTEMPTS:
                    self.names.put((name, attempt + 1))  # behind the others: its holder has time to go
                else:
                    print(f"tests: could not drop test database {name}: {exc}", file=sys.stderr, flush=True)

    def finish(self) -> None:
        """At exit: stop after the drop in progress and hand what is still queued to a detached process, so
        a test run does not wait for its last databases to go (each drop waits for a checkpoint)."""
        left: list[str] = []
        while True:
            try:
                item = self.names.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                left.append(item[0])
        self.names.put(None)
        self.thread.join(timeout=60)
        if left:
            drop_later(self.admin_url, left)


def drop_later(admin_url: str, names: list[str]) -> None:
    """Drop ``names`` from a detached process (its own session, output to test-artifacts/: it outlives this
    one, and whoever reads this one's output to its end must not wait for it)."""
    root = Path(__file__).resolve().parents[1]
    (root / "test-artifacts").mkdir(exist_ok=True)
    with (root / "test-artifacts" / "late-database-drops.log").open("ab") as log:
        dropper = subprocess.Popen(
            [sys.executable, "-m", "tests.postgres_databases", admin_url],
            stdin=subprocess.PIPE, stdout=log, stderr=log, start_new_session=True, cwd=root,
        )  # fmt: skip
    assert dropper.stdin is not None
    dropper.stdin.write("\n".join(names).encode())
    dropper.stdin.close()


def _drop_all_from_stdin(admin_url: str) -> int:
    for name in sys.stdin.read().split():
        for attempt in range(_Dropper.ATTEMPTS):
            try:
                _drop_or_raise(admin_url, name)
                break
            except Exception as exc:
                if attempt == _Dropper.ATTEMPTS - 1:
                    print(f"tests: could not drop test database {name}: {exc}", file=sys.stderr, flush=True)
    return 0


_droppers: dict[str, _Dropper] = {}
_lock = threading.Lock()


def _dropper(admin_url: str) -> _Dropper:
    with _lock:
        dropper = _droppers.get(admin_url)
        if dropper is None:
            dropper = _droppers[admin_url] = _Dropper(admin_url)
        return dropper


if __name__ == "__main__":
    sys.exit(_drop_all_from_stdin(sys.argv[1]))
