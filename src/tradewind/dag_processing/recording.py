"""Write what parsing one file produced to the store: its DAGs (and who owns each dag id), the file record
and the file's import error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tradewind.dag_processing.isolated_import import FileError, ParsedFile
from tradewind.sdk.errors import NotFoundError
from tradewind.store import dag_files, dags, import_errors


@dataclass(frozen=True, slots=True)
class FileContent:
    """The file as the parent read it, to detect changes and show its source."""

    text: str
    content_hash: str
    mtime: float
    #: Wall-clock time of the read (for the mtime shortcut).
    read_at: float = 0.0


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What recording one parsed file changed."""

    #: The dag ids this file owns now (it defines them and no earlier file does).
    owned: frozenset[str]
    #: DAGs written (new or changed serialized form).
    stored: int
    #: Dag ids this file owned before and no longer defines.
    released: frozenset[str]
    #: Dag ids this file defines but another file owns.
    refused: frozenset[str]
    #: The import error now recorded for the file, or None when it imported cleanly.
    error: FileError | None


def record_parsed_file(
    *,
    session: Session,
    parsed: ParsedFile,
    content: FileContent,
    previously_owned: frozenset[str],
    owners: Mapping[str, str],
    had_error: bool,
    paused_default: bool,
    now: datetime,
) -> FileOutcome:
    """Store one parsed file in ``session`` (the caller commits).

    ``owners`` maps the dag ids owned by live files to those files: a dag id already owned by another live
    file stays with it, and this file gets an import error saying so. A file that failed to import keeps the
    DAGs it owned (a typo does not stop their schedules); a file that imported cleanly releases the DAGs it
    no longer defines. ``had_error`` says whether the file has an import error recorded now.
    """
    fileloc = parsed.ref.fileloc
    errors = list(parsed.errors)
    owned: set[str] = set()
    refused: set[str] = set()
    stored = 0
    for sdag in parsed.dags:
        if sdag.dag_id in owned:
            errors.append(FileError(f"DAG id '{sdag.dag_id}' is defined more than once in this file"))
            continue
        owner = _live_owner(session, sdag.dag_id, fileloc, owners)
        if owner is not None:
            refused.add(sdag.dag_id)
            errors.append(
                FileError(
                    f"DAG id '{sdag.dag_id}' is already defined in {owner}; the DAG in this file is ignored "
                    "(dag ids must be unique across the DAG folder)"
                )
            )
            continue
        owned.add(sdag.dag_id)
        stored += dags.upsert_dag(session=session, sdag=sdag, paused_default=paused_default, now=now)

    if parsed.errors:
        # The import failed, wholly or in part: keep what the file owned until it imports cleanly.
        kept = {dag_id for dag_id in previously_owned - owned if _still_owned_by(session, dag_id, fileloc)}
        owned |= kept
        released: set[str] = set()
    else:
        released = set(previously_owned - owned)
        dags.deactivate_dags(
            session=session, dag_ids=[d for d in released if _still_owned_by(session, d, fileloc)]
        )

    dag_files.upsert_dag_file(
        session=session,
        fileloc=fileloc,
        content_hash=content.content_hash,
        mtime=content.mtime,
        dag_ids=owned,
        source=content.text,
        parse_duration=parsed.duration,
        now=now,
    )
    error = combine_errors(errors)
    if error is None:
        if had_error:
            import_errors.clear_import_error(session=session, filename=fileloc)
    else:
        import_errors.record_import_error(
            session=session,
            filename=fileloc,
            lineno=error.lineno,
            message=error.message,
            stacktrace=error.stacktrace,
            now=now,
        )
    return FileOutcome(frozenset(owned), stored, frozenset(released), frozenset(refused), error)


def forget_files(*, session: Session, filelocs: list[str]) -> frozenset[str]:
    """Files gone from the DAG folder: deactivate the DAGs they still own, drop their records and errors.

    Returns the deactivated dag ids.
    """
    dag_ids = dag_files.delete_dag_files(session=session, filelocs=filelocs)
    gone = set(filelocs)
    deactivated = [dag_id for dag_id in dag_ids if _owner_of(session, dag_id) in gone]
    dags.deactivate_dags(session=session, dag_ids=deactivated)
    for fileloc in filelocs:
        import_errors.clear_import_error(session=session, filename=fileloc)
    return frozenset(deactivated)


def record_storage_failure(*, session: Session, fileloc: str, exc: Exception, now: datetime) -> None:
    """The file parsed but its DAGs could not be stored: say so where users look for import errors."""
    import_errors.record_import_error(
        session=session,
        filename=fileloc,
        lineno=None,
        message=f"the file's DAGs could not be stored: {type(exc).__name__}: {exc}",
        now=now,
    )


def combine_errors(errors: list[FileError]) -> FileError | None:
    """One record per file: the messages in order, the first known line."""
    if not errors:
        return None
    if len(errors) == 1:
        return errors[0]
    lineno = next((e.lineno for e in errors if e.lineno is not None), None)
    message = "\n".join(e.message for e in errors)
    stacktrace = "\n\n".join(e.stacktrace for e in errors if e.stacktrace)
    return FileError(message, lineno, stacktrace)


def _owner_of(session: Session, dag_id: str) -> str | None:
    try:
        return dags.get_dag(session=session, dag_id=dag_id).fileloc
    except NotFoundError:
        return None


def _still_owned_by(session: Session, dag_id: str, fileloc: str) -> bool:
    try:
        dag = dags.get_dag(session=session, dag_id=dag_id)
    except NotFoundError:
        return False
    return dag.fileloc == fileloc and dag.is_active


def _live_owner(session: Session, dag_id: str, fileloc: str, owners: Mapping[str, str]) -> str | None:
    """The relative path of another live file that owns ``dag_id``, or None if this file may take it."""
    claimed_by = owners.get(dag_id)
    if claimed_by is None or claimed_by == fileloc:
        return None
    # The database has the last word (the owner's DAG may have been deactivated or deleted since).
    try:
        dag = dags.get_dag(session=session, dag_id=dag_id)
    except NotFoundError:
        return None
    if not dag.is_active or dag.fileloc != claimed_by:
        return None
    return dag.relative_fileloc or dag.fileloc
