"""Writing the audit log: every action taken through the UI or the API, and every failed login."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tradewind.store.tables import AuditLogModel


def record(
    *,
    session: Session,
    event: str,
    owner: str | None,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLogModel(event=event, owner=owner, dag_id=dag_id, run_id=run_id, task_id=task_id, extra=extra or None)
    )
