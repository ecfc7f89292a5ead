"""Write what parsing files produced to the store: their DAGs (and who owns each dag id), the file records
and the files' import errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing.isolated_import import FileError, ParsedFile
from tradewind.store import assets, dag_files, dags, import_errors


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


@dataclass(slots=True)
class _DagView:
    """What deciding ownership needs of a DAG row, as the files recorded so far in the batch leave it."""

    fileloc: str
    relative_fileloc: str
    is_active: bool


@dataclass(slots=True)
class _Pending:
    fileloc: str
    record: dag_files.DagFileRecord
    outcome: FileOutcome
    had_error: bool
    #: The DAGs this file stores (the ones it defines and owns).
    stored: list[SerializedDag]


class FileBatch:
    """Records parsed files in one transaction: ``decide`` each file in order, then ``write`` them all.

    ``decide`` settles which dag ids a file owns against the database as the files decided before it leave
    it (kept in memory), so the outcome is the same as storing the files one by one; ``write`` then stores
    every file's DAGs and file record in a fixed number of statements. Import errors are written per file.
    """

    def __init__(self, *, session: Session, paused_default: bool, now: datetime) -> None:
        self.session = session
        self.paused_default = paused_default
        self.now = now
        self._views: dict[str, _DagView | None] = {}
        self._pending: list[_Pending] = []
        self._deactivated: set[str] = set()

    def load(self, dag_ids: Iterable[str]) -> None:
        """Read the DAG rows the batch's files define or owned, in one query (ids not loaded are read one
        by one when needed)."""
        wanted = set(dag_ids) - self._views.keys()
        rows = dags.get_dags(session=self.session, dag_ids=wanted)
        for dag_id in wanted:
            row = rows.get(dag_id)
            self._views[dag_id] = (
                None if row is None else _DagView(row.fileloc, row.relative_fileloc, row.is_active)
            )

    def decide(
        self,
        *,
        parsed: ParsedFile,
        content: FileContent,
        previously_owned: frozenset[str],
        owners: Mapping[str, str],
        had_error: bool,
    ) -> FileOutcome:
        """Settle what one parsed file owns, refuses and releases; its DAGs are stored by ``write``.

        ``owners`` maps the dag ids owned by live files to those files: a dag id already owned by another
        live file stays with it, and this file gets an import error saying so. A file that failed to import
        keeps the DAGs it owned (a typo does not stop their schedules); a file that imported cleanly releases
        the DAGs it no longer defines. ``had_error`` says whether the file has an import error recorded now.
        The outcome's ``stored`` count is known after ``write``.
        """
        fileloc = parsed.ref.fileloc
        errors = list(parsed.errors)
        owned: dict[str, SerializedDag] = {}
        refused: set[str] = set()
        for sdag in parsed.dags:
            if sdag.dag_id in owned:
                errors.append(FileError(f"DAG id '{sdag.dag_id}' is defined more than once in this file"))
                continue
            owner = self._live_owner(sdag.dag_id, fileloc, owners)
            if owner is not None:
                refused.add(sdag.dag_id)
                errors.append(
                    FileError(
                        f"DAG id '{sdag.dag_id}' is already defined in {owner}; the DAG in this file is "
                        "ignored (dag ids must be unique across the DAG folder)"
                    )
                )
                continue
            owned[sdag.dag_id] = sdag
            self._views[sdag.dag_id] = _DagView(sdag.fileloc, sdag.relative_fileloc, True)

        owned_ids = set(owned)
        released: set[str] = set()
        if parsed.errors:
            # The import failed, wholly or in part: keep what the file owned until it imports cleanly.
            owned_ids |= {d for d in previously_owned - owned_ids if self._still_owned_by(d, fileloc)}
        else:
            released = set(previously_owned - owned_ids)
            for dag_id in released:
                view = self._view(dag_id)
                if view is not None and view.fileloc == fileloc and view.is_active:
                    view.is_active = False
                    self._deactivated.add(dag_id)

        record = dag_files.DagFileRecord(
            fileloc=fileloc,
            content_hash=content.content_hash,
            mtime=content.mtime,
            dag_ids=sorted(owned_ids),
            source=content.text,
            parse_duration=parsed.duration,
        )
        outcome = FileOutcome(
            frozenset(owned_ids), 0, frozenset(released), frozenset(refused), combine_errors(errors)
        )
        self._pending.append(_Pending(fileloc, record, outcome, had_error, list(owned.values())))
        return outcome

    def write(self) -> list[FileOutcome]:
        """Store what was decided; returns the outcomes in the order decided, with their ``stored`` counts."""
        session, now = self.session, self.now
        # Deactivations first: a dag id released by one file and taken by a later one ends up active.
        deactivated = [d for d in sorted(self._deactivated) if not self._still_active(d)]
        dags.deactivate_dags(session=session, dag_ids=deactivated)
        changed = dags.upsert_dags(
            session=session,
            sdags=[sdag for pending in self._pending for sdag in pending.stored],
            paused_default=self.paused_default,
            now=now,
        )
        changed_sdags = [
            sdag for pending in self._pending for sdag in pending.stored if sdag.dag_id in changed
        ]
        assets.sync_dag_references(session=session, sdags=changed_sdags, now=now)
        dag_files.upsert_dag_files(session=session, records=[p.record for p in self._pending], now=now)
        outcomes = []
        for pending in self._pending:
            error = pending.outcome.error
            if error is None:
                if pending.had_error:
                    import_errors.clear_import_error(session=session, filename=pending.fileloc)
            else:
                import_errors.record_import_error(
                    session=session,
                    filename=pending.fileloc,
                    lineno=error.lineno,
                    message=error.message,
                    stacktrace=error.stacktrace,
                    now=now,
                )
            stored = sum(1 for sdag in pending.stored if sdag.dag_id in changed)
            outcomes.append(replace(pending.outcome, stored=stored))
        self._pending.clear()
        self._deactivated.clear()
        return outcomes

    def _view(self, dag_id: str) -> _DagView | None:
        if dag_id not in self._views:
            self.load([dag_id])
        return self._views[dag_id]

    def _still_active(self, dag_id: str) -> bool:
        view = self._views.get(dag_id)
        return view is not None and view.is_active

    def _still_owned_by(self, dag_id: str, fileloc: str) -> bool:
        view = self._view(dag_id)
        return view is not None and view.fileloc == fileloc and view.is_active

    def _live_owner(self, dag_id: str, fileloc: str, owners: Mapping[str, str]) -> str | None:
        """The relative path of another live file that owns ``dag_id``, or None if this file may take it."""
        claimed_by = owners.get(dag_id)
        if claimed_by is None or claimed_by == fileloc:
            return None
        # The database has the last word (the owner's DAG may have been deactivated or deleted since).
        view = self._view(dag_id)
        if view is None or not view.is_active or view.fileloc != claimed_by:
            return None
        return view.relative_fileloc or view.fileloc


def forget_files(*, session: Session, filelocs: list[str]) -> frozenset[str]:
    """Files gone from the DAG folder: deactivate the DAGs they still own, drop their records and errors.

    Returns the deactivated dag ids.
    """
    dag_ids = dag_files.delete_dag_files(session=session, filelocs=filelocs)
    gone = set(filelocs)
    rows = dags.get_dags(session=session, dag_ids=dag_ids)
    deactivated = [dag_id for dag_id in dag_ids if dag_id in rows and rows[dag_id].fileloc in gone]
    dags.deactivate_dags(session=session, dag_ids=deactivated)
    assets.prune_watchers(session=session)  # the watchers of assets only these DAGs were scheduled on
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
