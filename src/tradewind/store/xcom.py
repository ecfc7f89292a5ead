"""XCom: small JSON values tasks push and pull, keyed by run, task, map index and key."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from tradewind.core.clock import utcnow
from tradewind.core.json_values import encode_xcom_value
from tradewind.store.tables import XComModel
from tradewind.store.upsert import insert_or_update

RETURN_VALUE = "return_value"
_KEY_COLUMNS = ("dag_id", "run_id", "task_id", "map_index", "key")


def xcom_value(row: XComModel) -> Any:
    """The stored value of an XCom row, decoded."""
    return json.loads(row.value)


def set_xcom(
    *,
    session: Session,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int = -1,
    key: str = RETURN_VALUE,
    value: Any,
    now: datetime | None = None,
) -> None:
    """Store (or replace) one XCom value; TradewindError naming task and key if it is not JSON."""
    encoded = encode_xcom_value(value, task_id=task_id, key=key)
    values = {
        "dag_id": dag_id,
        "run_id": run_id,
        "task_id": task_id,
        "map_index": map_index,
        "key": key,
        "value": encoded,
        "timestamp": now or utcnow(),
    }
    insert_or_update(session, XComModel, values, _KEY_COLUMNS, ("value", "timestamp"))


def get_xcom(
    *,
    session: Session,
    dag_id: str,
    run_id: str,
    task_id: str,
    key: str = RETURN_VALUE,
    map_index: int | None = -1,
    default: Any = None,
) -> Any:
    """One value, or ``default`` if absent.

    ``map_index=None`` pulls from the task whatever its mapping: the values of every map index in order for
    a mapped task, or the single value of an unmapped one.
    """
    stmt = select(XComModel).where(
        XComModel.dag_id == dag_id,
        XComModel.run_id == run_id,
        XComModel.task_id == task_id,
        XComModel.key == key,
    )
    if map_index is not None:
        row = session.scalars(stmt.where(XComModel.map_index == map_index)).one_or_none()
        return default if row is None else xcom_value(row)
    rows = session.scalars(stmt.order_by(XComModel.map_index)).all()
    mapped = [row for row in rows if row.map_index >= 0]
    if mapped:
        return [xcom_value(row) for row in mapped]
    return xcom_value(rows[0]) if rows else default


def list_xcoms(
    *,
    session: Session,
    dag_id: str,
    run_id: str,
    task_id: str | None = None,
    map_index: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[Sequence[XComModel], int]:
    """XCom rows of a run (optionally one task / map index), by task, map index and key; and their count."""
    conditions: list[ColumnElement[bool]] = [XComModel.dag_id == dag_id, XComModel.run_id == run_id]
    if task_id is not None:
        conditions.append(XComModel.task_id == task_id)
    if map_index is not None:
        conditions.append(XComModel.map_index == map_index)
    total = session.scalar(select(func.count()).select_from(XComModel).where(*conditions)) or 0
    stmt = (
        select(XComModel)
        .where(*conditions)
        .order_by(XComModel.task_id, XComModel.map_index, XComModel.key)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all(), total


def search_xcoms(
    *,
    session: Session,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    key: str | None = None,
    limit: int,
    offset: int = 0,
) -> tuple[Sequence[XComModel], int]:
    """XCom rows of every DAG matching the given exact fields, newest first; and their count."""
    conditions: list[ColumnElement[bool]] = []
    for column, wanted in (
        (XComModel.dag_id, dag_id),
        (XComModel.run_id, run_id),
        (XComModel.task_id, task_id),
        (XComModel.key, key),
    ):
        if wanted:
            conditions.append(column == wanted)
    total = session.scalar(select(func.count()).select_from(XComModel).where(*conditions)) or 0
    stmt = (
        select(XComModel)
        .where(*conditions)
        .order_by(XComModel.timestamp.desc(), XComModel.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return session.scalars(stmt).all(), int(total)


def delete_xcoms(
    *,
    session: Session,
    dag_id: str,
    run_id: str,
    task_ids: Collection[str] | None = None,
    map_index: int | None = None,
) -> int:
    """Delete the XComs of a run (or of some of its tasks / one map index); returns how many went."""
    stmt = delete(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == run_id)
    if task_ids is not None:
        stmt = stmt.where(XComModel.task_id.in_(list(task_ids)))
    if map_index is not None:
        stmt = stmt.where(XComModel.map_index == map_index)
    result = session.execute(stmt.execution_options(synchronize_session="fetch"))
    return int(result.rowcount)  # type: ignore[attr-defined]
