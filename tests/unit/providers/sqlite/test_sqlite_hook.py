"""SqliteHook on real SQLite files: Airflow's DbApiHook surface (run, get_records, get_first, insert_rows,
SQLAlchemy engine, test_connection), found by conn_type from a TRADEWIND_CONN_ variable."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from tradewind.providers.common.sql.hooks.handlers import fetch_all_handler, fetch_one_handler
from tradewind.providers.common.sql.hooks.sql import DbApiHook
from tradewind.providers.sqlite.hooks.sqlite import SqliteHook
from tradewind.sdk.errors import ExternalSystemError, MissingDependencyError
from tradewind.sdk.hooks import BaseHook


@pytest.fixture(autouse=True)
def no_connection_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith(("TRADEWIND_CONN_", "AIRFLOW_CONN_"))]:
        monkeypatch.delenv(name)


@pytest.fixture
def db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data.db"
    monkeypatch.setenv("TRADEWIND_CONN_LITE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return path


@pytest.fixture
def hook(db_file: Path) -> Iterator[SqliteHook]:
    hook = SqliteHook(sqlite_conn_id="lite")
    hook.run("create table fruit (id integer primary key, name text not null, price real)")
    yield hook


def rows_in(
    path: Path, sql: str = "select id, name, price from fruit order by id"
) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_found_by_conn_type_with_airflow_names(db_file: Path) -> None:
    hook = BaseHook.get_hook("lite")
    assert isinstance(hook, SqliteHook) and isinstance(hook, DbApiHook)
    assert hook.sqlite_conn_id == "lite" and hook.get_conn_id() == "lite"
    assert SqliteHook().get_conn_id() == "sqlite_default" and SqliteHook("x").get_conn_id() == "x"
    assert hook.placeholder == "?"
    assert hook.get_uri() == f"sqlite:///{db_file}"


def test_run_get_records_and_get_first_bind_parameters(hook: SqliteHook, db_file: Path) -> None:
    hook.run("insert into fruit (id, name, price) values (?, ?, ?)", parameters=[1, "apple; pie", 1.5])
    hook.run("insert into fruit (id, name, price) values (:id, :name, :price)", parameters={
        "id": 2, "name": "o'range", "price": 2.0,
    })  # fmt: skip
    assert rows_in(db_file) == [(1, "apple; pie", 1.5), (2, "o'range", 2.0)]
    assert hook.get_records("select name from fruit where price > ? order by id", [1.0]) == [
        ("apple; pie",), ("o'range",),
    ]  # fmt: skip
    assert hook.get_first("select name from fruit where id = ?", (2,)) == ("o'range",)
    assert hook.get_first("select name from fruit where id = 99") is None
    assert [d[0] for d in hook.last_description or []] == ["name"]


def test_run_returns_what_airflow_returns(hook: SqliteHook) -> None:
    hook.run(
        "insert into fruit values (1, 'a', 1); insert into fruit values (2, 'b', 2);", split_statements=True
    )
    script = "select count(*) from fruit; select max(id) from fruit;"
    assert hook.run(script, split_statements=True, handler=fetch_all_handler) == [(2,)]
    assert hook.run(script, split_statements=True, return_last=False, handler=fetch_all_handler) == [
        [(2,)], [(2,)],
    ]  # fmt: skip
    assert hook.run(["select 1", "select 2"], handler=fetch_one_handler) == [(1,), (2,)]
    assert hook.run("select 7", handler=fetch_all_handler) == [(7,)]
    assert hook.run("select 7") is None
    assert hook.run("update fruit set price = 0", handler=fetch_all_handler) is None
    assert len(hook.descriptions) == 1
    with pytest.raises(ValueError, match="connection 'lite': there is no SQL statement to run"):
        hook.run("   ")


def test_a_failing_statement_rolls_back_the_whole_run_unless_autocommit(
    hook: SqliteHook, db_file: Path
) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        hook.run(["insert into fruit values (1, 'a', 1)", "insert into fruit values (1, 'dup', 1)"])
    assert rows_in(db_file) == []
    with pytest.raises(sqlite3.IntegrityError):
        hook.run(
            ["insert into fruit values (1, 'a', 1)", "insert into fruit values (1, 'dup', 1)"],
            autocommit=True,
        )
    assert rows_in(db_file) == [(1, "a", 1.0)]


def test_insert_rows_commits_every_chunk(hook: SqliteHook, db_file: Path) -> None:
    rows = [(i, f"f{i}", i / 2) for i in range(1, 6)] + [(3, "duplicate id", 0.0)]
    with pytest.raises(sqlite3.IntegrityError):
        hook.insert_rows("fruit", rows, target_fields=["id", "name", "price"], commit_every=2)
    # the chunks [1, 2] and [3, 4] were committed; the chunk [5, dup] failed as a whole
    assert [r[0] for r in rows_in(db_file)] == [1, 2, 3, 4]

    with pytest.raises(sqlite3.IntegrityError):
        hook.insert_rows("fruit", [(10, "x", 1.0), (1, "dup", 1.0)], commit_every=0)
    assert [r[0] for r in rows_in(db_file)] == [1, 2, 3, 4]


def test_insert_rows_replace_and_cell_types(hook: SqliteHook, db_file: Path) -> None:
    hook.insert_rows("fruit", [(1, "apple", 1.0), (2, "pear", None)], target_fields=["id", "name", "price"])
    hook.insert_rows("fruit", [(2, "pear", 3.25)], target_fields=["id", "name", "price"], replace=True)
    hook.insert_rows("fruit", [(3, datetime(2024, 5, 6, 7, 8), 0), (4, date(2024, 1, 2), 0)])
    assert rows_in(db_file) == [
        (1, "apple", 1.0), (2, "pear", 3.25), (3, "2024-05-06T07:08:00", 0.0), (4, "2024-01-02", 0.0),
    ]  # fmt: skip
    assert rows_in(db_file, "select typeof(id), typeof(price) from fruit where id = 1") == [
        ("integer", "real")
    ]


def test_sqlalchemy_engine_opens_the_same_file(hook: SqliteHook) -> None:
    from sqlalchemy import text

    hook.insert_rows("fruit", [(1, "apple", 1.0)])
    engine = hook.get_sqlalchemy_engine()
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select name from fruit")).scalar_one() == "apple"
    finally:
        engine.dispose()
    assert str(hook.sqlalchemy_url) == hook.get_uri()


def test_test_connection(hook: SqliteHook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert hook.test_connection() == (True, "Connection successfully tested")
    missing = tmp_path / "no-such-folder" / "x.db"
    monkeypatch.setenv("TRADEWIND_CONN_GONE", json.dumps({"conn_type": "sqlite", "host": str(missing)}))
    ok, reason = SqliteHook("gone").test_connection()
    assert not ok
    assert reason.startswith(f"connection 'gone': cannot connect to SQLite at host {str(missing)!r}: ")
    with pytest.raises(ExternalSystemError) as raised:
        SqliteHook("gone").get_records("select 1")
    assert raised.value.conn_id == "gone"


def test_uri_forms_of_the_path_and_read_only_extra(db_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    SqliteHook("lite").run("create table t (x int)")
    monkeypatch.setenv("TRADEWIND_CONN_AS_URI", f"sqlite:///{db_file}")  # the path lands in `schema`
    assert SqliteHook("as_uri").get_records("select count(*) from t") == [(0,)]
    monkeypatch.setenv("TRADEWIND_CONN_RO", f"sqlite:///{db_file}?mode=ro")
    read_only = SqliteHook("ro")
    assert read_only.get_first("select count(*) from t") == (0,)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        read_only.run("insert into t values (1)")


def test_get_pandas_df(hook: SqliteHook) -> None:
    hook.insert_rows("fruit", [(1, "apple", 1.0)])
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match="get_pandas_df needs pandas") as raised:
            hook.get_pandas_df("select * from fruit")
        assert raised.value.package == "pandas" and isinstance(raised.value, ImportError)
        return
    frame = hook.get_pandas_df("select name from fruit where id = ?", [1])
    assert list(frame["name"]) == ["apple"]
