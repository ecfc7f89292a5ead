"""DAG files: what each parsed file of the DAG folder held, when it was parsed, and its source."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tradewind.sdk.errors import NotFoundError
from tradewind.store.tables import DagFile


def get_dag_file(*, session: Session, fileloc: str) -> DagFile:
    row = session.get(DagFile, fileloc)
    if row is None:
        raise NotFoundError(f"DAG file {fileloc!r} has not been parsed", kind="dag_file", ident=fileloc)
    return row


def upsert_dag_file(
    *,
    session: Session,
    fileloc: str,
    content_hash: str,
    mtime: float,
    dag_ids: Collection[str],
    source: str,
    parse_duration: float,
    now: datetime,
) -> DagFile:
    """Record the outcome of parsing one file."""
    row = session.get(DagFile, fileloc)
    if row is None:
        row = DagFile(fileloc=fileloc)
        session.add(row)
    row.content_hash = content_hash
    row.mtime = mtime
    row.dag_ids = sorted(dag_ids)
    row.source = source
    row.parse_duration = parse_duration
    row.last_parsed_at = now
    session.flush()
    return row


def list_dag_files(*, session: Session) -> Sequence[DagFile]:
    """Every recorded file, by path."""
    return session.scalars(select(DagFile).order_by(DagFile.fileloc)).all()


def delete_dag_files(*, session: Session, filelocs: Collection[str]) -> list[str]:
    """Forget files (deleted from the DAG folder); returns the dag ids they held, for deactivation."""
    if not filelocs:
        return []
    rows = session.scalars(select(DagFile).where(DagFile.fileloc.in_(list(filelocs)))).all()
    dag_ids = sorted({dag_id for row in rows for dag_id in row.dag_ids})
    session.execute(
        delete(DagFile)
        .where(DagFile.fileloc.in_(list(filelocs)))
        .execution_options(synchronize_session="fetch")
    )
    return dag_ids
