"""The SQLite database Tradewind creates (and its WAL files) is readable by its owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from tradewind.store.engine import make_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_database_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask, which would give 0644
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'tradewind.db'}")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as conn:  # a reader keeps the -wal and -shm files in place
            assert conn.execute(text("SELECT x FROM t")).scalar() == 1
            files = sorted(p.name for p in tmp_path.iterdir())
            assert files == ["tradewind.db", "tradewind.db-shm", "tradewind.db-wal"]
            assert {name: _mode(tmp_path / name) for name in files} == dict.fromkeys(files, 0o600)
        engine.dispose()
    finally:
        os.umask(old_umask)


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert _mode(path) == 0o640
