"""Dialect-aware ``INSERT ... ON CONFLICT`` for the two backends (SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase, Session


def _table(model: type[DeclarativeBase]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _insert(session: Session, model: type[DeclarativeBase]) -> Any:
    # On the Table, not the mapped class: a Core statement whose result is the database's own answer.
    # The dialect's module is imported on first use: the PostgreSQL one drags in asyncio and its async
    # drivers' modules, which every task process on SQLite would otherwise pay for.
    dialect = importlib.import_module(f"sqlalchemy.dialects.{session.get_bind().dialect.name}")
    return dialect.insert(_table(model))


def insert_or_ignore(
    session: Session, model: type[DeclarativeBase], values: dict[str, Any], conflict: Sequence[str]
) -> bool:
    """Insert a row unless one with the same ``conflict`` columns exists; True if a row was inserted."""
    stmt = _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
    # RETURNING yields a row only for an inserted row; rowcount is not reliable across drivers here.
    stmt = stmt.returning(*_table(model).primary_key.columns)
    return session.execute(stmt).first() is not None


def insert_or_update(
    session: Session,
    model: type[DeclarativeBase],
    values: dict[str, Any],
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert a row, or update the ``update`` columns of the row with the same ``conflict`` columns."""
    stmt = _insert(session, model).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(conflict), set_={name: stmt.excluded[name] for name in update}
    )
    session.execute(stmt)
