"""What the DAG processor remembers between passes: each file's hash, mtime and DAGs, which file owns each dag
id, which files have import errors, and which files must be parsed again although unchanged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tradewind.store import dag_files, import_errors

#: A file read less than this long after its last change is hashed again next time even if its mtime is the
#: same: a write within the same filesystem timestamp tick as our read would otherwise go unnoticed.
SETTLE_SECONDS = 1.0


@dataclass(slots=True)
class KnownFile:
    content_hash: str
    mtime: float
    owned: frozenset[str]
    #: Wall-clock time the content behind ``content_hash`` was read (0: unknown, so check the hash).
    read_at: float = 0.0

    def unchanged_since(self, mtime: float) -> bool:
        return mtime == self.mtime and self.read_at - mtime > SETTLE_SECONDS


@dataclass
class FolderState:
    files: dict[str, KnownFile] = field(default_factory=dict)
    #: dag id -> the live file that owns it.
    owner: dict[str, str] = field(default_factory=dict)
    #: Files with an import error recorded in the store.
    with_errors: set[str] = field(default_factory=set)
    #: dag id -> files whose copy of it was refused because another file owned it.
    refused_by: dict[str, set[str]] = field(default_factory=dict)
    #: Files to parse again even if unchanged: a dag id they were refused has been released.
    forced: set[str] = field(default_factory=set)
    #: False after loading from the store, which keeps no trace of refused copies: the first release then
    #: sends every file with an import error to be parsed again, which rebuilds ``refused_by``.
    refusals_known: bool = True

    @classmethod
    def load(cls, session: Session) -> FolderState:
        """The state as the store has it (at start, or after a failed pass)."""
        files = {
            row.fileloc: KnownFile(row.content_hash, row.mtime, frozenset(row.dag_ids))
            for row in dag_files.list_dag_files(session=session)
        }
        errors, _total = import_errors.list_import_errors(session=session)
        state = cls(files=files, with_errors={e.filename for e in errors})
        state.owner = {dag_id: fileloc for fileloc, known in files.items() for dag_id in known.owned}
        state.refusals_known = not state.with_errors
        return state

    def snapshot(self) -> FolderState:
        """A copy to restore if a transaction fails (``KnownFile`` entries are replaced, never changed, by
        ``record``, so the entries themselves need no copy)."""
        return FolderState(
            files=dict(self.files),
            owner=dict(self.owner),
            with_errors=set(self.with_errors),
            refused_by={dag_id: set(files) for dag_id, files in self.refused_by.items()},
            forced=set(self.forced),
            refusals_known=self.refusals_known,
        )

    def restore(self, snapshot: FolderState) -> None:
        self.files = snapshot.files
        self.owner = snapshot.owner
        self.with_errors = snapshot.with_errors
        self.refused_by = snapshot.refused_by
        self.forced = snapshot.forced
        self.refusals_known = snapshot.refusals_known

    def record(
        self,
        fileloc: str,
        known: KnownFile,
        *,
        refused: Iterable[str],
        released: Iterable[str],
        has_error: bool,
    ) -> None:
        """A file was parsed and stored."""
        self._disown(fileloc)
        self.files[fileloc] = known
        for dag_id in known.owned:
            self.owner[dag_id] = fileloc
        for dag_id in refused:
            self.refused_by.setdefault(dag_id, set()).add(fileloc)
        for dag_id in released:
            self._release(dag_id)
        self.forced.discard(fileloc)
        if has_error:
            self.with_errors.add(fileloc)
        else:
            self.with_errors.discard(fileloc)

    def forget(self, filelocs: Iterable[str], deactivated: Iterable[str]) -> None:
        """Files were deleted; ``deactivated`` are the dag ids that went with them."""
        gone = set(filelocs)
        for fileloc in gone:
            self._disown(fileloc)
            self.files.pop(fileloc, None)
        self.with_errors -= gone
        self.forced -= gone
        for refusers in self.refused_by.values():
            refusers -= gone
        for dag_id in deactivated:
            self._release(dag_id)

    def force_files_of_missing(self, stored: set[str]) -> set[str]:
        """Send to be parsed again the files owning a dag id the store no longer has (a DAG deleted through
        the API, UI or CLI comes back at the next pass over its file, changed or not); returns those files."""
        files = {fileloc for dag_id, fileloc in self.owner.items() if dag_id not in stored}
        self.forced |= files
        return files

    def _disown(self, fileloc: str) -> None:
        previous = self.files.get(fileloc)
        if previous is None:
            return
        for dag_id in previous.owned:
            if self.owner.get(dag_id) == fileloc:
                del self.owner[dag_id]

    def _release(self, dag_id: str) -> None:
        if not self.refusals_known:
            self.forced |= self.with_errors & set(self.files)
            self.refusals_known = True
        self.forced |= self.refused_by.pop(dag_id, set())
