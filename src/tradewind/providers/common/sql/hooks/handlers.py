"""Result handlers for ``DbApiHook.run`` (called with the cursor after each statement) and the rule that
decides whether ``run`` returns one statement's result or a list of them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def return_single_query_results(
    sql: str | Iterable[str], return_last: bool, split_statements: bool | None
) -> bool:
    """True when ``run`` returns the last statement's result alone: ``sql`` is one string and either only the
    last result is wanted or the string is not split. A list of statements always gives a list of results."""
    if split_statements is None:
        return isinstance(sql, str) and return_last
    return isinstance(sql, str) and (return_last or not split_statements)


def fetch_all_handler(cursor: Any) -> list[Any] | None:
    """Every row of the statement's result; None for a statement that returns no rows (an INSERT ...)."""
    _require_description(cursor)
    return cursor.fetchall() if cursor.description is not None else None


def fetch_one_handler(cursor: Any) -> Any:
    """The first row of the statement's result (None when there is none or the statement returns no rows)."""
    _require_description(cursor)
    return cursor.fetchone() if cursor.description is not None else None


def get_row_count(cursor: Any) -> int | None:
    """The rows a statement changed or returned, when the driver knows (PEP 249 says -1 or None otherwise)."""
    count = getattr(cursor, "rowcount", None)
    return count if isinstance(count, int) and count >= 0 else None


def _require_description(cursor: Any) -> None:
    if not hasattr(cursor, "description"):
        raise TypeError(
            f"{type(cursor).__name__} is not a DB-API 2 cursor (it has no 'description'); "
            "use a handler written for this database"
        )
