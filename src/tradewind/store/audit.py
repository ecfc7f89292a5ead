"""Audit log: who did what to which DAG, run or task; with masking of secret-looking values."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tradewind.store.tables import AuditLogModel

MASK = "***"
#: Words in a key name that mark its value as secret ("db_password", "apiKey", "X-Auth-Token", "key").
SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "key",
        "apikey",
        "credential",
        "credentials",
        "private",
        "authorization",
        "auth",
    }
)
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def looks_secret(name: str) -> bool:
    """Whether a key name denotes a secret, judged word by word (``api_key`` yes, ``keyboard`` no)."""
    words = {word.lower() for word in _WORD_SPLIT.split(name) if word}
    return bool(words & SECRET_WORDS) or "apikey" in name.lower().replace("_", "").replace("-", "")


def mask_secrets(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with the value of every secret-looking key replaced by ``***``, in nested dicts and lists."""
    return {key: MASK if looks_secret(str(key)) else _mask_value(value) for key, value in mapping.items()}


def _mask_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return mask_secrets(value)
    if isinstance(value, list | tuple):
        return [_mask_value(item) for item in value]
    return value


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
        extra=mask_secrets(extra) if extra is not None else None,
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
