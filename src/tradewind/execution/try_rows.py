"""The statements of a runner's claim and finish, built once as Core statements on the tables: every try
runs them, and building an ORM statement per call (its construction, cache key, the ORM's bulk-update steps
and session synchronisation) cost the execution API more than running it. Read with ``TryState`` and
``try_ending.end_reported_try``; what they write is what ``task_instances.transition`` and
``task_history.archive_try`` would write. They run on the session's connection (its transaction), past the
ORM's per-statement steps, which nothing here needs: no ORM object is read or changed."""

from __future__ import annotations

import functools
import importlib
from typing import Any

from sqlalchemy import Delete, Insert, Row, Select, Table, Update, bindparam, delete, select, update
from sqlalchemy.orm import Session

from tradewind.core.keys import TaskInstanceKey
from tradewind.store.tables import TaskInstanceHistoryModel, TaskInstanceModel, XComModel
from tradewind.store.ti_key_binding import key_clauses, key_params

#: The columns a finish sets besides the state (``values`` of ``end_try``), the deferral's cleared with them.
FINISH_COLUMNS = (
    "end_date", "duration", "state_reason", "next_retry_at", "rendered_fields",
    "trigger_id", "trigger_timeout", "next_method", "next_kwargs",
)  # fmt: skip
#: What the history copies of a try, besides its key, try number and the columns the finish set.
_KEPT = ("start_date", "hostname", "executor", "external_executor_id")
_HISTORY_COLUMNS = (
    "dag_id", "run_id", "task_id", "map_index", "try_number", "state", "start_date", "end_date", "duration",
    "hostname", "executor", "external_executor_id", "state_reason",
)  # fmt: skip


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def read_try_row(session: Session, key: TaskInstanceKey) -> Row[Any] | None:
    """The task instance's state, try number, max tries and start (None: no such task instance)."""
    return session.connection().execute(_read_statement(), key_params(key)).one_or_none()


def end_try_row(
    session: Session, key: TaskInstanceKey, *, try_number: int, expected: str, target: str,
    values: dict[str, Any],
) -> Row[Any] | None:  # fmt: skip
    """Compare-and-set ``expected`` -> ``target`` at ``try_number`` with the ``FINISH_COLUMNS`` in
    ``values``; the row's kept columns (for its history) when it moved, None when someone moved it first."""
    params = {**values, **key_params(key), "k_try_number": try_number, "k_expected": expected,
              "k_target": target}  # fmt: skip
    return session.connection().execute(_end_statement(), params).one_or_none()


def archive_row(session: Session, values: dict[str, Any]) -> None:
    """Insert the try's history row (``_HISTORY_COLUMNS``) unless that try is archived already."""
    connection = session.connection()
    connection.execute(_archive_statement(connection.dialect.name), values)


def delete_try_xcoms(session: Session, key: TaskInstanceKey) -> None:
    """The XComs of the task instance (earlier tries' output), before a new try runs."""
    session.connection().execute(_delete_xcoms_statement(), key_params(key))


@functools.cache
def _read_statement() -> Select[Any]:
    table = _table(TaskInstanceModel)
    c = table.c
    return select(c.state, c.try_number, c.max_tries, c.start_date).where(*key_clauses(table))


@functools.cache
def _end_statement() -> Update:
    table = _table(TaskInstanceModel)
    c = table.c
    return (
        update(table)
        .where(
            *key_clauses(table),
            c.state == bindparam("k_expected"),
            c.try_number == bindparam("k_try_number"),
        )
        .values(state=bindparam("k_target"), **{n: bindparam(n, type_=c[n].type) for n in FINISH_COLUMNS})
        .returning(*(c[n] for n in _KEPT))
    )


@functools.cache
def _archive_statement(dialect: str) -> Insert:
    # The dialect's module is imported at first use, as ``store.upsert`` does (PostgreSQL's drags in asyncio).
    table = _table(TaskInstanceHistoryModel)
    insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
    stmt: Insert = insert(table).values({n: bindparam(n, type_=table.c[n].type) for n in _HISTORY_COLUMNS})
    return stmt.on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=["dag_id", "run_id", "task_id", "map_index", "try_number"]
    )


@functools.cache
def _delete_xcoms_statement() -> Delete:
    return delete(_table(XComModel)).where(*key_clauses(_table(XComModel)))
