"""The DAG processor: keeps the store in step with the DAG folder (parses changes, forgets deletions)."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.dag_processing.discovery import DagFileRef, list_dag_files
from tradewind.dag_processing.isolated_import import FileError, ParsedFile, parse_files
from tradewind.dag_processing.recording import (
    FileContent,
    forget_files,
    record_parsed_file,
    record_storage_failure,
)
from tradewind.store import dag_files
from tradewind.store.engine import transaction

log = logging.getLogger(__name__)


@dataclass
class ProcessorResult:
    """What one pass over the DAG folder did."""

    files_seen: int = 0
    files_parsed: int = 0
    files_skipped: int = 0
    files_deleted: int = 0
    dags_stored: int = 0
    dags_deactivated: int = 0
    #: fileloc -> the import error recorded for it in this pass.
    errors: dict[str, FileError] = field(default_factory=dict)
    duration: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.dags_stored or self.dags_deactivated or self.files_deleted)


#: A file read less than this long after its last change is hashed again next time even if its mtime is the
#: same: a write within the same filesystem timestamp tick as our read would otherwise go unnoticed.
_SETTLE_SECONDS = 1.0


@dataclass(slots=True)
class _KnownFile:
    content_hash: str
    mtime: float
    owned: frozenset[str]
    #: Wall-clock time the content behind ``content_hash`` was read (0: unknown, so check the hash).
    read_at: float = 0.0

    def unchanged_since(self, mtime: float) -> bool:
        return mtime == self.mtime and self.read_at - mtime > _SETTLE_SECONDS


@dataclass(frozen=True, slots=True)
class _Candidate:
    ref: DagFileRef
    content: FileContent


class DagProcessor:
    """Parses the DAG folder into the store. ``run_once`` for one pass, ``run_forever`` for a service.

    ``on_change`` is called after a pass that stored, deactivated or forgot something (the scheduler uses it
    to look at new DAGs at once). One instance per DAG folder and database.
    """

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        *,
        on_change: Callable[[ProcessorResult], None] | None = None,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.on_change = on_change
        self._known: dict[str, _KnownFile] | None = None
        #: dag id -> files whose copy was refused because another file owned it.
        self._refused_by: dict[str, set[str]] = {}

    def run_forever(self, stop: threading.Event) -> None:
        """Pass over the DAG folder every ``dag_dir_list_interval`` seconds until ``stop`` is set."""
        interval = self.settings.scheduler.dag_dir_list_interval
        while not stop.is_set():
            try:
                self.run_once(utcnow(), stop=stop)
            except Exception:
                # A database outage must not end the service: the next pass retries.
                log.exception("DAG processing pass failed; retrying in %g s", interval)
                self._known = None
            stop.wait(interval)

    def run_once(
        self, now: datetime | None = None, *, stop: threading.Event | None = None
    ) -> ProcessorResult:
        """List the DAG folder, forget deleted files, parse new and changed ones, and store the results."""
        started = time.monotonic()
        now = now or utcnow()
        result = ProcessorResult()
        known = self._load_known()
        refs = list_dag_files(self.settings)
        result.files_seen = len(refs)
        listed = {ref.fileloc for ref in refs}

        deleted = sorted(set(known) - listed)
        if deleted:
            with transaction(self.session_factory) as session:
                deactivated = forget_files(session=session, filelocs=deleted)
            for fileloc in deleted:
                del known[fileloc]
            result.files_deleted = len(deleted)
            result.dags_deactivated += len(deactivated)
            self._release(deactivated)
            log.info("forgot %d deleted DAG file(s), deactivated %d DAG(s)", len(deleted), len(deactivated))

        candidates = [c for c in (self._changed(ref, known) for ref in refs) if c is not None]
        result.files_skipped = len(refs) - len(candidates)
        by_path = {ref.fileloc: ref for ref in refs}
        while candidates and not (stop is not None and stop.is_set()):
            released = self._parse_and_record(candidates, known, now, result, stop)
            # A dag id freed by one file goes to a file whose copy was refused before: parse those again.
            retry = sorted({f for d in released for f in self._refused_by.pop(d, set())} & listed)
            candidates = [c for c in (self._reread(by_path[f]) for f in retry) if c is not None]

        result.duration = time.monotonic() - started
        if result.files_parsed:
            log.info(
                "parsed %d of %d DAG file(s) in %.2f s: %d DAG(s) stored, %d file(s) with import errors",
                result.files_parsed,
                result.files_seen,
                result.duration,
                result.dags_stored,
                len(result.errors),
            )
        if result.changed and self.on_change is not None:
            self.on_change(result)
        return result

    def _parse_and_record(
        self,
        candidates: list[_Candidate],
        known: dict[str, _KnownFile],
        now: datetime,
        result: ProcessorResult,
        stop: threading.Event | None,
    ) -> set[str]:
        contents = {c.ref.fileloc: c.content for c in candidates}
        released: set[str] = set()
        parsed_files = parse_files(
            [c.ref for c in candidates],
            timeout=self.settings.scheduler.dag_file_processor_timeout,
            processes=self.settings.scheduler.parsing_processes,
            stop=stop,
        )
        with closing(parsed_files):
            for parsed in parsed_files:
                released |= self._record(parsed, contents[parsed.ref.fileloc], known, now, result)
        return released

    def _record(
        self,
        parsed: ParsedFile,
        content: FileContent,
        known: dict[str, _KnownFile],
        now: datetime,
        result: ProcessorResult,
    ) -> frozenset[str]:
        """Store one parsed file in its own transaction; returns the dag ids it released."""
        fileloc = parsed.ref.fileloc
        previous = known.get(fileloc)
        try:
            with transaction(self.session_factory) as session:
                outcome = record_parsed_file(
                    session=session,
                    parsed=parsed,
                    content=content,
                    previously_owned=previous.owned if previous else frozenset(),
                    owners={f: k.owned for f, k in known.items() if f != fileloc},
                    paused_default=self.settings.core.dags_are_paused_at_creation,
                    now=now,
                )
        except Exception as exc:
            # One file whose DAGs the database refuses (an over-long id ...) must not stop the others.
            log.exception("could not store the DAGs of %s", fileloc)
            with transaction(self.session_factory) as session:
                record_storage_failure(session=session, fileloc=fileloc, exc=exc, now=now)
            result.errors[fileloc] = FileError(f"the file's DAGs could not be stored: {exc}")
            return frozenset()
        known[fileloc] = _KnownFile(content.content_hash, content.mtime, outcome.owned, content.read_at)
        result.files_parsed += 1
        result.dags_stored += outcome.stored
        result.dags_deactivated += len(outcome.released)
        for dag_id in outcome.refused:
            self._refused_by.setdefault(dag_id, set()).add(fileloc)
        if outcome.error is not None:
            result.errors[fileloc] = outcome.error
            where = f"{fileloc}:{outcome.error.lineno}" if outcome.error.lineno else fileloc
            log.warning("import error in %s: %s", where, outcome.error.message)
        return outcome.released

    def _release(self, dag_ids: frozenset[str]) -> None:
        # Deletions are handled before parsing, so the refused files go into this pass's candidates.
        for dag_id in dag_ids:
            for fileloc in self._refused_by.pop(dag_id, set()):
                if self._known is not None:
                    self._known.pop(fileloc, None)

    def _load_known(self) -> dict[str, _KnownFile]:
        if self._known is None:
            with transaction(self.session_factory) as session:
                rows = dag_files.list_dag_files(session=session)
                self._known = {
                    row.fileloc: _KnownFile(row.content_hash, row.mtime, frozenset(row.dag_ids))
                    for row in rows
                }
        return self._known

    def _changed(self, ref: DagFileRef, known: dict[str, _KnownFile]) -> _Candidate | None:
        """The file's content when it is new or changed; None when unchanged (mtime first, then hash)."""
        previous = known.get(ref.fileloc)
        try:
            mtime = os.stat(ref.path).st_mtime
        except OSError:
            return None
        if previous is not None and previous.unchanged_since(mtime):
            return None
        candidate = self._reread(ref)
        if candidate is None:
            return None
        if previous is not None and previous.content_hash == candidate.content.content_hash:
            previous.mtime = candidate.content.mtime
            previous.read_at = candidate.content.read_at
            return None
        return candidate

    @staticmethod
    def _reread(ref: DagFileRef) -> _Candidate | None:
        try:
            mtime = os.stat(ref.path).st_mtime
            read_at = time.time()
            data = ref.path.read_bytes()
        except OSError:
            return None
        content = FileContent(
            text=data.decode("utf-8", errors="replace"),
            content_hash=hashlib.sha256(data).hexdigest(),
            mtime=mtime,
            read_at=read_at,
        )
        return _Candidate(ref, content)
