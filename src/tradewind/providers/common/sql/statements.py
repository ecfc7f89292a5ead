"""Splitting a SQL script into its statements, as ``run(..., split_statements=True)`` does.

A ``;`` ends a statement only outside quotes ('...', "..."), dollar quoting ($$...$$, $tag$...$tag$) and
comments; comments are dropped, as Airflow drops them before splitting.
"""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*\$|\$\$")


def split_sql_string(sql: str, strip_semicolon: bool = False) -> list[str]:
    """The statements of ``sql``, stripped, each with its ``;`` unless ``strip_semicolon``; none empty."""
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"":
            end = _closing_quote(sql, i, char)
            current.append(sql[i:end])
            i = end
        elif char == "$" and (tag := _DOLLAR_TAG.match(sql, i)) and not _inside_word(sql, i):
            close = sql.find(tag.group(), tag.end())
            end = n if close < 0 else close + len(tag.group())
            current.append(sql[i:end])
            i = end
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            current.append(" ")
            i = n if close < 0 else close + 2
        elif char == ";":
            if not strip_semicolon:
                current.append(";")
            _finish(current, statements)
            i += 1
        else:
            current.append(char)
            i += 1
    _finish(current, statements)
    return statements


def strip_sql_string(sql: str) -> str:
    """``sql`` without surrounding blanks and trailing semicolons."""
    return sql.strip().rstrip(";")


def _closing_quote(sql: str, start: int, quote: str) -> int:
    """The index just past the quote that closes the one at ``start`` (a doubled quote stays inside)."""
    i = start + 1
    while i < len(sql):
        if sql[i] == quote:
            if sql.startswith(quote * 2, i):
                i += 2
                continue
            return i + 1
        i += 1
    return len(sql)


def _inside_word(sql: str, i: int) -> bool:
    # "$1" parameters and identifiers such as a$b$ are not dollar quotes.
    return i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")


def _finish(current: list[str], statements: list[str]) -> None:
    statement = "".join(current).strip()
    current.clear()
    if statement and statement != ";":
        statements.append(statement)
