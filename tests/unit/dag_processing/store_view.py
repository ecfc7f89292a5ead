"""Reading back what the DAG processor stored, through the store's repositories."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.serialized_dag import SerializedDag
from tradewind.store import dag_files, dags, import_errors


@dataclass(frozen=True)
class StoredError:
    filename: str
    lineno: int | None
    message: str


@dataclass(frozen=True)
class StoredDag:
    dag_id: str
    fileloc: str
    is_active: bool
    is_paused: bool


def stored_dags(sessions: sessionmaker[Session]) -> dict[str, StoredDag]:
    with sessions() as session:
        rows, _ = dags.list_dags(session=session, only_active=False)
        return {r.dag_id: StoredDag(r.dag_id, r.fileloc, r.is_active, r.is_paused) for r in rows}


def active_dag_ids(sessions: sessionmaker[Session]) -> set[str]:
    return {d.dag_id for d in stored_dags(sessions).values() if d.is_active}


def stored_errors(sessions: sessionmaker[Session]) -> dict[str, StoredError]:
    """Import errors by file name (the file's base name, for short assertions)."""
    with sessions() as session:
        rows, _ = import_errors.list_import_errors(session=session)
        return {r.filename.rsplit("/", 1)[-1]: StoredError(r.filename, r.lineno, r.message) for r in rows}


def serialized(sessions: sessionmaker[Session], dag_id: str) -> SerializedDag:
    with sessions() as session:
        return dags.get_serialized_dag(session=session, dag_id=dag_id)


def file_records(sessions: sessionmaker[Session]) -> dict[str, tuple[str, list[str], str]]:
    """fileloc -> (content hash, dag ids, source)."""
    with sessions() as session:
        return {
            r.fileloc: (r.content_hash, list(r.dag_ids), r.source)
            for r in dag_files.list_dag_files(session=session)
        }
