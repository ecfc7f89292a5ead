"""Import errors: the latest failure to import each DAG file, shown to users until the file is fixed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tradewind.sdk.errors import NotFoundError
from tradewind.store.tables import ImportErrorModel


def record_import_error(
    *,
    session: Session,
    filename: str,
    lineno: int | None,
    message: str,
    stacktrace: str = "",
    now: datetime,
) -> ImportErrorModel:
    """Store the file's error, replacing any earlier one (one row per file)."""
    row = session.scalars(select(ImportErrorModel).where(ImportErrorModel.filename == filename)).one_or_none()
    if row is None:
        row = ImportErrorModel(filename=filename)
        session.add(row)
    row.lineno = lineno
    row.message = message
    row.stacktrace = stacktrace
    row.timestamp = now
    session.flush()
    return row


def clear_import_error(*, session: Session, filename: str) -> bool:
    """Forget the file's error (it imported cleanly, or is gone); True if there was one."""
    stmt = delete(ImportErrorModel).where(ImportErrorModel.filename == filename)
    return bool(session.execute(stmt.execution_options(synchronize_session="fetch")).rowcount)  # type: ignore[attr-defined]


def get_import_error(*, session: Session, import_error_id: int) -> ImportErrorModel:
    row = session.get(ImportErrorModel, import_error_id)
    if row is None:
        raise NotFoundError(
            f"import error {import_error_id} does not exist", kind="import_error", ident=str(import_error_id)
        )
    return row


def list_import_errors(
    *, session: Session, limit: int | None = None, offset: int = 0
) -> tuple[Sequence[ImportErrorModel], int]:
    """Errors by file name, and their total count."""
    total = session.scalar(select(func.count()).select_from(ImportErrorModel)) or 0
    stmt = select(ImportErrorModel).order_by(ImportErrorModel.filename).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all(), total


def failing_filenames(*, session: Session) -> set[str]:
    """The files that failed at their latest parse (a DAG's ``has_import_errors``)."""
    return set(session.scalars(select(ImportErrorModel.filename)))
