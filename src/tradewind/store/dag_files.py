"""DAG files: what each parsed file of the DAG folder held, when it was parsed, and its source."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, load_only

from tradewind.sdk.errors import NotFoundError
from tradewind.store.tables import DagFile

#: Most file paths in one ``IN (...)``: each is a bound parameter, and SQLite builds before 3.32 allow 999.
IN_LIST_SIZE = 500


def get_dag_file(*, session: Session, fileloc: str) -> DagFile:
    row = session.get(DagFile, fileloc)
    if row is None:
        raise NotFoundError(f"DAG file {fileloc!r} has not been parsed", kind="dag_file", ident=fileloc)
    return row


@dataclass(frozen=True, slots=True)
class DagFileRecord:
    """The outcome of parsing one file, as ``upsert_dag_files`` stores it."""

    fileloc: str
    content_hash: str
    mtime: float
    dag_ids: Collection[str]
    source: str
    parse_duration: float


def upsert_dag_files(
    *, session: Session, records: Sequence[DagFileRecord], now: datetime
) -> dict[str, DagFile]:
    """Record the outcome of parsing files (parsed at ``now``), in a fixed number of statements for up to
    ``IN_LIST_SIZE`` files; of two records of the same file, the later one is kept. Returns fileloc -> row."""
    by_fileloc = {record.fileloc: record for record in records}
    rows: dict[str, DagFile] = {}
    filelocs = list(by_fileloc)
    for start in range(0, len(filelocs), IN_LIST_SIZE):
        # The source is replaced, not compared: leave it unread.
        stmt = (
            select(DagFile)
            .where(DagFile.fileloc.in_(filelocs[start : start + IN_LIST_SIZE]))
            .options(load_only(DagFile.content_hash))
        )
        rows.update((row.fileloc, row) for row in session.scalars(stmt))
    for fileloc, record in by_fileloc.items():
        row = rows.get(fileloc)
        if row is None:
            row = rows[fileloc] = DagFile(fileloc=fileloc)
            session.add(row)
        row.content_hash = record.content_hash
        row.mtime = record.mtime
        row.dag_ids = sorted(record.dag_ids)
        row.source = record.source
        row.parse_duration = record.parse_duration
        row.last_parsed_at = now
    session.flush()
    return rows


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
