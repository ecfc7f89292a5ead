"""Audit log: who did what to which DAG, run or task; secret-looking values masked on the way in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tradewind.core.redaction import redact
from tradewind.store.tables import AuditLogModel


def record_audit(
    *,
    session: Session,
    event: str,
    owner: str | None,
    dag_id: str | None = None,
    task_id: str | None = None,
    run_id: str | None = None,
    extra: Mapping[str, Any] | None = None,
    now: datetime,
) -> AuditLogModel:
    """Append one entry. ``extra`` is masked again here as a safety net; callers mask what they pass."""
    row = AuditLogModel(
        dttm=now,
        event=event,
        owner=owner,
        dag_id=dag_id,
        task_id=task_id,
        run_id=run_id,
        extra=redact(extra) if extra is not None else None,
    )
    session.add(row)
    session.flush()
    return row


def list_audit(
    *,
    session: Session,
    limit: int | None = None,
    offset: int = 0,
    dag_id: str | None = None,
    event: str | None = None,
) -> tuple[Sequence[AuditLogModel], int]:
    """Entries, newest first, and their total count."""
    conditions: list[ColumnElement[bool]] = []
    if dag_id is not None:
        conditions.append(AuditLogModel.dag_id == dag_id)
    if event is not None:
        conditions.append(AuditLogModel.event == event)
    total = session.scalar(select(func.count()).select_from(AuditLogModel).where(*conditions)) or 0
    stmt = (
        select(AuditLogModel)
        .where(*conditions)
        .order_by(AuditLogModel.dttm.desc(), AuditLogModel.id.desc())
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all(), total
