"""Sort orders for list queries: a column name, ``-`` in front for descending, checked against a whitelist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import UnaryExpression
from sqlalchemy.orm import DeclarativeBase

from tradewind.sdk.errors import ParamValidationError


def order_clauses(
    model: type[DeclarativeBase], order_by: str, allowed: Sequence[str], *, tiebreak: str
) -> list[UnaryExpression[Any]]:
    """``"-logical_date"`` -> ``[logical_date DESC, <tiebreak> DESC]``: a stable order for paging."""
    descending = order_by.startswith("-")
    name = order_by.removeprefix("-")
    if name not in allowed:
        raise ParamValidationError(
            f"cannot order by {order_by!r}; use one of {', '.join(allowed)} (prefix '-' for descending)",
            param="order_by",
        )
    clauses = []
    for column_name in dict.fromkeys([name, tiebreak]):
        column = getattr(model, column_name)
        # NULLS LAST on both backends: they disagree on where NULL sorts by default.
        clauses.append((column.desc() if descending else column.asc()).nulls_last())
    return clauses
