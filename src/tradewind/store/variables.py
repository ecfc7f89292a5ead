"""Variables: string values by key that DAG code reads at run time; import and export as JSON objects."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.sdk.errors import NotFoundError, ParamValidationError
from tradewind.store.tables import ID_LEN, VariableModel


def get_variable(*, session: Session, key: str) -> VariableModel:
    row = session.get(VariableModel, key)
    if row is None:
        raise NotFoundError(f"variable {key!r} does not exist", kind="variable", ident=key)
    return row


def set_variable(*, session: Session, key: str, value: str, description: str | None = None) -> VariableModel:
    """Create or replace a variable; an existing description is kept unless a new one is given."""
    if not key or len(key) > ID_LEN:
        raise ParamValidationError(
            f"variable key must be 1 to {ID_LEN} characters, got {len(key)}", param="key"
        )
    row = session.get(VariableModel, key)
    if row is None:
        row = VariableModel(key=key, val=value, description=description)
        session.add(row)
    else:
        row.val = value
        if description is not None:
            row.description = description
    session.flush()
    return row


def delete_variable(*, session: Session, key: str) -> None:
    session.delete(get_variable(session=session, key=key))
    session.flush()


def list_variables(
    *, session: Session, limit: int | None = None, offset: int = 0
) -> tuple[Sequence[VariableModel], int]:
    """Variables by key, and their total count."""
    total = session.scalar(select(func.count()).select_from(VariableModel)) or 0
    stmt = select(VariableModel).order_by(VariableModel.key).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all(), total


def import_variables(*, session: Session, mapping: Mapping[str, Any]) -> int:
    """Set every key of ``mapping``; values that are not strings are stored as their JSON text (as Airflow
    does, so ``Variable.get(key, deserialize_json=True)`` returns them). Returns how many were set."""
    for key, value in mapping.items():
        text = value if isinstance(value, str) else json.dumps(value)
        set_variable(session=session, key=str(key), value=text)
    return len(mapping)


def export_variables(*, session: Session) -> dict[str, Any]:
    """key -> value, with JSON values (objects, lists, numbers ...) decoded for readable files; a value is
    decoded only when ``import_variables`` writes back exactly the same text."""
    return {
        row.key: _decoded(row.val)
        for row in session.scalars(select(VariableModel).order_by(VariableModel.key))
    }


def _decoded(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if not isinstance(value, str) and json.dumps(value) == text else text
