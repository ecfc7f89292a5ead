"""PostgresHook against the real PostgreSQL server (a fresh database for this module): Airflow's DbApiHook
surface, psycopg parameter binding, upserts, COPY, extras, and errors that name the connection and the host
but never the password."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import create_postgres_database, drop_postgres_database
from tradewind.providers.common.sql.hooks.handlers import fetch_all_handler
from tradewind.providers.postgres.hooks.postgres import PostgresHook
from tradewind.sdk.errors import ConnectionFieldError, ExternalSystemError
from tradewind.sdk.hooks import BaseHook

pytestmark = pytest.mark.postgres
PASSWORD = "never-in-a-message-9c1e"


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    url = create_postgres_database("tw_pg_hook")
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def pg(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[PostgresHook]:
    """A hook on the module's database (TRADEWIND_CONN_PG, URI form), with an empty ``item`` table."""
    for name in [n for n in os.environ if n.startswith(("TRADEWIND_CONN_", "AIRFLOW_CONN_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_CONN_PG", database_url.replace("postgresql+psycopg://", "postgresql://"))
    hook = PostgresHook(postgres_conn_id="pg")
    hook.run(
        "drop table if exists item; create table item (id int primary key, name text, price numeric(6, 2), "
        "added date, tags jsonb)",
        split_statements=True,
    )
    yield hook


def direct(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(sql).fetchall()


def test_found_by_conn_type_and_database_from_the_schema_field(pg: PostgresHook, database_url: str) -> None:
    hook = BaseHook.get_hook("pg")
    assert isinstance(hook, PostgresHook) and hook.postgres_conn_id == "pg"
    assert PostgresHook().get_conn_id() == "postgres_default"
    name = database_url.rsplit("/", 1)[1]
    assert hook.get_first("select current_database()") == (name,)
    assert PostgresHook("pg", database="postgres").get_first("select current_database()") == ("postgres",)


def test_parameters_bind_positionally_and_by_name(pg: PostgresHook, database_url: str) -> None:
    pg.run("insert into item (id, name) values (%s, %s)", parameters=[1, "o'brien; drop table item"])
    pg.run("insert into item (id, name) values (%(id)s, %(name)s)", parameters={"id": 2, "name": "b"})
    assert direct(database_url, "select id, name from item order by id") == [
        (1, "o'brien; drop table item"),
        (2, "b"),
    ]
    assert pg.get_records("select name from item where id = any(%s) order by id", ([1, 2],)) == [
        ("o'brien; drop table item",),
        ("b",),
    ]
    assert pg.get_first("select count(*) from item where id > %s", (0,)) == (2,)
    assert pg.get_first("select name from item where id = 99") is None


def test_run_results_and_transactions(pg: PostgresHook, database_url: str) -> None:
    script = "insert into item (id) values (1); insert into item (id) values (2); select count(*) from item;"
    assert pg.run(script, split_statements=True, handler=fetch_all_handler) == [(2,)]
    assert pg.run(script.replace("1)", "3)").replace("2)", "4)"), split_statements=True, return_last=False,
                  handler=fetch_all_handler) == [None, None, [(4,)]]  # fmt: skip
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg.run(["insert into item (id) values (5)", "insert into item (id) values (1)"])
    assert direct(database_url, "select count(*) from item where id = 5") == [(0,)]
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg.run(["insert into item (id) values (5)", "insert into item (id) values (1)"], autocommit=True)
    assert direct(database_url, "select count(*) from item where id = 5") == [(1,)]
    # statements that need autocommit (no transaction block) run with it
    pg.run("create index concurrently item_name on item (name)", autocommit=True)


def test_insert_rows_commit_every_and_types(pg: PostgresHook, database_url: str) -> None:
    rows = [(i, f"n{i}", Decimal("1.25") * i, date(2024, 1, i), {"i": i}) for i in range(1, 6)]
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg.insert_rows(
            "item", [*rows, (1, "dup", None, None, None)], ["id", "name", "price", "added", "tags"], 2
        )
    assert direct(database_url, "select id from item order by id") == [(1,), (2,), (3,), (4,)]
    assert direct(database_url, "select price, added, tags from item where id = 2") == [
        (Decimal("2.50"), date(2024, 1, 2), {"i": 2})
    ]


def test_insert_rows_replace_upserts(pg: PostgresHook, database_url: str) -> None:
    fields = ["id", "name", "price"]
    pg.insert_rows("item", [(1, "a", 1), (2, "b", 2)], fields)
    pg.insert_rows("item", [(2, "B", 20), (3, "c", 3)], fields, replace=True)  # key: the primary key
    pg.insert_rows("item", [(3, "C", 30)], fields, replace=True, replace_index="id", replace_target=["price"])
    pg.insert_rows(
        "item", [(1, "ignored")], ["id", "name"], replace=True, replace_index=["id"], replace_target=[]
    )
    assert direct(database_url, "select id, name, price from item order by id") == [
        (1, "a", Decimal("1.00")),
        (2, "B", Decimal("20.00")),
        (3, "c", Decimal("30.00")),
    ]
    with pytest.raises(
        ValueError, match=r"connection 'pg': insert_rows\(replace=True\) on PostgreSQL needs target"
    ):
        pg.insert_rows("item", [(1, "x", 1)], replace=True)
    pg.run("create table keyless (a int)")
    with pytest.raises(ValueError, match=r"needs replace_index .* table 'keyless' has no primary key"):
        pg.insert_rows("keyless", [(1,)], ["a"], replace=True)


def test_uri_and_sqlalchemy_engine(pg: PostgresHook, database_url: str) -> None:
    from sqlalchemy import text

    uri = pg.get_uri()
    parts, expected = urlsplit(uri), urlsplit(database_url)
    assert parts.scheme == "postgresql+psycopg"
    assert (parts.hostname, parts.port, parts.path) == (expected.hostname, expected.port, expected.path)
    engine = pg.get_sqlalchemy_engine()
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar_one() == expected.path[1:]
    finally:
        engine.dispose()


def test_extras_reach_libpq_and_choose_the_row_type(
    pg: PostgresHook, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = urlsplit(database_url)
    fields = {"conn_type": "postgres", "host": parts.hostname, "port": parts.port, "login": "postgres",
              "schema": parts.path[1:]}  # fmt: skip
    monkeypatch.setenv("TRADEWIND_CONN_NAMED", json.dumps({**fields, "extra": {
        "application_name": "tw-hook-test", "sslmode": "disable", "cursor": "dictcursor",
    }}))  # fmt: skip
    named = PostgresHook("named")
    assert named.get_first("select current_setting('application_name') as app") == {"app": "tw-hook-test"}
    assert "application_name=tw-hook-test" in named.get_uri()
    monkeypatch.setenv("TRADEWIND_CONN_TLS", json.dumps({**fields, "extra": {"sslmode": "require"}}))
    ok, reason = PostgresHook("tls").test_connection()  # the test server speaks no TLS
    assert not ok and "connection 'tls'" in reason and "SSL" in reason
    monkeypatch.setenv("TRADEWIND_CONN_ODD", json.dumps({**fields, "extra": {"no_such_option": "1"}}))
    with pytest.raises(ConnectionFieldError, match="connection 'odd', field 'extra'"):
        PostgresHook("odd").get_conn()


def test_copy_expert_both_ways(pg: PostgresHook, tmp_path: Path) -> None:
    source = tmp_path / "in.tsv"
    source.write_text("1\tone\n2\ttwo\n")
    pg.bulk_load("item (id, name)", str(source))
    out = tmp_path / "out.csv"
    pg.copy_expert("COPY (select id, name from item order by id) TO STDOUT WITH CSV", str(out))
    assert out.read_text() == "1,one\n2,two\n"


def test_unreachable_host_and_wrong_password_name_the_connection(
    pg: PostgresHook, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("TRADEWIND_CONN_DOWN", f"postgresql://app:{PASSWORD}@127.0.0.1:1/sales")
    with pytest.raises(ExternalSystemError) as raised:
        PostgresHook("down").get_records("select 1")
    message = str(raised.value)
    assert message.startswith("connection 'down': cannot connect to PostgreSQL at host '127.0.0.1' port 1: ")
    assert "Connection refused" in message and PASSWORD not in message
    assert raised.value.conn_id == "down"
    ok, reason = PostgresHook("down").test_connection()
    assert not ok and reason == message

    monkeypatch.setenv(
        "TRADEWIND_CONN_NODB", database_url.replace("postgresql+psycopg://", "postgresql://") + "_x"
    )
    ok, reason = PostgresHook("nodb").test_connection()
    assert not ok and "connection 'nodb'" in reason and "does not exist" in reason
    assert pg.test_connection() == (True, "Connection successfully tested")


def test_get_pandas_df_or_a_clear_error(pg: PostgresHook) -> None:
    pg.insert_rows("item", [(1, "a")], ["id", "name"])
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="needs pandas"):
            pg.get_pandas_df("select * from item")
        return
    assert list(pg.get_pandas_df("select name from item where id = %s", [1])["name"]) == ["a"]


def test_datetime_cells_keep_their_type(pg: PostgresHook) -> None:
    pg.run("create table event (at timestamptz)")
    moment = datetime.fromisoformat("2024-05-06T07:08:09+00:00")
    pg.insert_rows("event", [(moment,)])
    assert pg.get_first("select at from event") == (moment,)


def test_the_connections_test_command_uses_the_hook(tw_home: Path) -> None:
    """`tradewind connections test` finds PostgresHook by conn_type; its failure names the host, not the
    password (success is test_connection's, tested above)."""
    from tests.integration.runner.harness import TRADEWIND

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWIND_CONN_", "TRADEWIND__"))}
    env["TRADEWIND_HOME"] = str(tw_home)
    env["TRADEWIND_CONN_DOWN"] = f"postgresql://app:{PASSWORD}@127.0.0.1:1/sales"
    down = subprocess.run(
        [TRADEWIND, "connections", "test", "down"], env=env, capture_output=True, text=True, timeout=60
    )
    assert down.returncode == 1
    assert (
        "connection 'down': test failed: connection 'down': cannot connect to PostgreSQL at host '127.0.0.1' port 1"
        in down.stderr
    )
    assert PASSWORD not in down.stdout + down.stderr
