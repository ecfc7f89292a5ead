"""A SQL script splits into its statements at the semicolons that end them, and nowhere else."""

from __future__ import annotations

import pytest

from tradewind.providers.common.sql.hooks.sql import DbApiHook, split_sql_string


@pytest.mark.parametrize(
    ("script", "statements"),
    [
        ("select 1; select 2;", ["select 1;", "select 2;"]),
        ("select 1\n;\n\n select 2", ["select 1\n;", "select 2"]),
        ("select 'a;b'; select \"c;d\" from t;", ["select 'a;b';", 'select "c;d" from t;']),
        ("select 'it''s; fine';", ["select 'it''s; fine';"]),
        (
            "create function f() returns int as $$ begin return 1; end $$ language plpgsql; select f();",
            ["create function f() returns int as $$ begin return 1; end $$ language plpgsql;", "select f();"],
        ),
        (
            "do $body$ begin perform 1; end $body$; select $1",
            ["do $body$ begin perform 1; end $body$;", "select $1"],
        ),
        ("-- a comment; still a comment\nselect 1; /* one; two */ select 2;", ["select 1;", "select 2;"]),
        (" ;; ;\n", []),
    ],
)
def test_split(script: str, statements: list[str]) -> None:
    assert split_sql_string(script) == statements


def test_strip_semicolon_and_the_hook_names() -> None:
    assert split_sql_string("select 1; select 2;", strip_semicolon=True) == ["select 1", "select 2"]
    assert DbApiHook.split_sql_string("a; b") == ["a;", "b"]
    assert DbApiHook.strip_sql_string("  select 1;;  ") == "select 1"
