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

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing import parse_child
from tradewind.dag_processing.dag_callback_runner import DagCallbackRunner
from tradewind.dag_processing.discovery import CandidateCache, DagFileRef, list_dag_files
from tradewind.dag_processing.folder_state import FolderState, KnownFile
from tradewind.dag_processing.folder_watch import FolderWatch
from tradewind.dag_processing.isolated_import import FileError, ParsedFile, parse_batches
from tradewind.dag_processing.recording import (
    FileBatch,
    FileContent,
    FileOutcome,
    forget_files,
    record_storage_failure,
)
from tradewind.observability.metrics import NO_METRICS, Metrics
from tradewind.plugins.user_code import prepare_for_user_code
from tradewind.store import dags
from tradewind.store.database_outage import DatabaseOutage
from tradewind.store.engine import transaction
from tradewind.store.transient_errors import is_transient
from tradewind.store.wakeup import DAG_PROCESSOR, WakeUp, ring_now

log = logging.getLogger(__name__)

#: Most files stored in one transaction: fewer commits, yet short write locks (SQLite has one writer).
MAX_FILES_PER_TRANSACTION = 25
#: Longest a parsed file waits for others to share its transaction.
MAX_RECORD_DELAY = 1.0
#: Passes over files whose refused dag id was released during the pass (one is enough but for chains).
MAX_ROUNDS = 5


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


@dataclass(frozen=True, slots=True)
class _Candidate:
    ref: DagFileRef
    content: FileContent


class DagProcessor:
    """Parses the DAG folder into the store. ``run_once`` for one pass, ``run_forever`` for a service.

    ``on_change`` is called after a pass that stored, deactivated or forgot something (a scheduler in the
    same process uses it to look at new DAGs at once). One instance per DAG folder and database.
    """

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        *,
        on_change: Callable[[ProcessorResult], None] | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.session_factory = session_factory
        self.on_change = on_change
        self._state: FolderState | None = None
        self._candidates = CandidateCache()
        self.callbacks = DagCallbackRunner(settings, session_factory)
        parse_child.read_variables_from(settings.database_url, settings)
        # Before any parsing child is forked: they inherit the names.
        prepare_for_user_code(settings)

    def run_forever(self, stop: threading.Event) -> None:
        """Until ``stop`` is set, look at the DAG folder every ``dag_dir_list_interval`` seconds (stat only)
        and pass over it when something changed, when rung (a DAG deleted through the API comes back from
        its file) or every ``scheduler.idle_poll_interval`` at least (ADR 0012); a thread of its own runs the
        DAG callbacks the scheduler asks for."""
        sched = self.settings.scheduler
        interval = sched.dag_dir_list_interval
        watch = FolderWatch(self.settings.dags_folder, load_examples=self.settings.core.load_examples)
        wake = WakeUp(self.settings.database_url, DAG_PROCESSOR)
        wake.set_when(stop)
        callbacks = self.callbacks.start_thread(stop)
        last_pass, woken = 0.0, True
        outage = DatabaseOutage(give_up_after=self.settings.database.outage_timeout, what="DAG processing")
        try:
            while not stop.is_set():
                mono = time.monotonic()
                pause = interval
                if watch.changed() or woken or mono - last_pass >= max(sched.idle_poll_interval, interval):
                    try:
                        self.run_once(utcnow(), stop=stop)
                        last_pass = mono
                        outage.recovered()
                    except SQLAlchemyError as exc:
                        # A database outage must not end the service (unless it outlasts
                        # database.outage_timeout): the next pass starts again from the database, soon.
                        pause = outage.failed(exc)
                        self._state = None
                        watch.forget()
                    except Exception:
                        log.exception("DAG processing pass failed; retrying in %g s", interval)
                        self._state = None
                        watch.forget()
                woken = wake.wait(pause)
        finally:
            stop.set()
            callbacks.join()
            wake.close()

    def run_once(
        self, now: datetime | None = None, *, stop: threading.Event | None = None, forget_unlisted: bool = True
    ) -> ProcessorResult:
        """List the DAG folder, forget deleted files, parse new and changed ones, and store the results.

        ``forget_unlisted=False`` (`dags test`) keeps the DAGs of files this process does not list: another
        process with other settings (a standalone that loads the examples) may own them."""
        started = time.monotonic()
        now = now or utcnow()
        result = ProcessorResult()
        if self._state is None:
            with transaction(self.session_factory) as session:
                self._state = FolderState.load(session)
        state = self._state
        refs = list_dag_files(self.settings, self._candidates)
        result.files_seen = len(refs)
        listed = {ref.fileloc for ref in refs}

        deleted = sorted(set(state.files) - listed) if forget_unlisted else []
        if deleted:
            with transaction(self.session_factory) as session:
                deactivated = forget_files(session=session, filelocs=deleted)
            state.forget(deleted, deactivated)
            result.files_deleted = len(deleted)
            result.dags_deactivated += len(deactivated)
            log.info("forgot %d deleted DAG file(s), deactivated %d DAG(s)", len(deleted), len(deactivated))

        with self.session_factory() as session:
            stored = dags.stored_dag_ids(session=session)
        if revived := state.force_files_of_missing(stored):
            log.info("parsing %d file(s) again: their DAGs were deleted from the database", len(revived))
        candidates = [c for c in (self._changed(ref, state) for ref in refs) if c is not None]
        result.files_skipped = len(refs) - len(candidates)
        by_path = {ref.fileloc: ref for ref in refs}
        for _round in range(MAX_ROUNDS):
            if not candidates or (stop is not None and stop.is_set()):
                break
            self._parse_and_record(candidates, now, result, stop)
            # A dag id released by one file goes to a file whose copy was refused: parse those again now.
            candidates = [c for c in (self._read(by_path[f]) for f in sorted(state.forced & listed)) if c]

        result.duration = time.monotonic() - started
        self.metrics.gauge("dag_processing.total_parse_time", result.duration)
        self.metrics.gauge("dag_processing.import_errors", len(state.with_errors))
        if result.files_parsed:
            log.info(
                "parsed %d of %d DAG file(s) in %.2f s: %d DAG(s) stored, %d file(s) with import errors",
                result.files_parsed,
                result.files_seen,
                result.duration,
                result.dags_stored,
                len(result.errors),
            )
        if result.changed:
            ring_now(self.session_factory)  # a sleeping scheduler looks at the new DAGs at once
        if result.changed and self.on_change is not None:
            self.on_change(result)
        return result

    def _parse_and_record(
        self,
        candidates: list[_Candidate],
        now: datetime,
        result: ProcessorResult,
        stop: threading.Event | None,
    ) -> None:
        contents = {c.ref.fileloc: c.content for c in candidates}
        batches = parse_batches(
            [c.ref for c in candidates],
            timeout=self.settings.scheduler.dag_file_processor_timeout,
            processes=self.settings.scheduler.parsing_processes,
            stop=stop,
            # Each transaction costs a fixed number of statements: fewer, fuller ones are cheaper.
            gather=MAX_FILES_PER_TRANSACTION,
            gather_for=MAX_RECORD_DELAY,
        )
        with closing(batches):
            for batch in batches:
                for start in range(0, len(batch), MAX_FILES_PER_TRANSACTION):
                    self._record(batch[start : start + MAX_FILES_PER_TRANSACTION], contents, now, result)

    def _record(
        self,
        batch: list[ParsedFile],
        contents: dict[str, FileContent],
        now: datetime,
        result: ProcessorResult,
    ) -> None:
        """Store parsed files in one transaction; if that fails, store them one by one."""
        assert self._state is not None
        state = self._state
        before = state.snapshot()
        try:
            with transaction(self.session_factory) as session:
                recording = FileBatch(
                    session=session, paused_default=self.settings.core.dags_are_paused_at_creation, now=now
                )
                recording.load(_dag_ids_involved(batch, state))
                for parsed in batch:
                    self._decide(recording, parsed, contents[parsed.ref.fileloc])
                outcomes = recording.write()
        except Exception as exc:
            state.restore(before)
            if is_transient(exc):
                raise  # the database, not these files: the pass is made again once it is back
            if len(batch) > 1:
                for parsed in batch:
                    self._record([parsed], contents, now, result)
                return
            # One file whose DAGs the database refuses (a NUL character ...) must not stop the others.
            self._record_failure(batch[0], contents[batch[0].ref.fileloc], exc, now, result)
            return
        for parsed, outcome in zip(batch, outcomes, strict=True):
            _count(parsed, outcome, result)
            self.metrics.timing(
                "dag_processing.last_duration", parsed.duration, file_name=parsed.ref.relative_fileloc
            )

    def _record_failure(
        self, parsed: ParsedFile, content: FileContent, exc: Exception, now: datetime, result: ProcessorResult
    ) -> None:
        assert self._state is not None
        fileloc = parsed.ref.fileloc
        log.exception("could not store the DAGs of %s", fileloc)
        with transaction(self.session_factory) as session:
            record_storage_failure(session=session, fileloc=fileloc, exc=exc, now=now)
        # Remember this content (and what the file owned before), so it is not parsed again until it changes.
        previous = self._state.files.get(fileloc)
        owned = previous.owned if previous else frozenset()
        known = KnownFile(content.content_hash, content.mtime, owned, content.read_at)
        self._state.record(fileloc, known, refused=(), released=(), has_error=True)
        result.files_parsed += 1
        result.errors[fileloc] = FileError(f"the file's DAGs could not be stored: {exc}")

    def _decide(self, recording: FileBatch, parsed: ParsedFile, content: FileContent) -> None:
        """Settle what the file owns and update the folder state, so the next file of the batch sees it."""
        assert self._state is not None
        state = self._state
        fileloc = parsed.ref.fileloc
        previous = state.files.get(fileloc)
        _apply_default_retries(parsed.dags, self.settings.core.default_task_retries)
        outcome = recording.decide(
            parsed=parsed,
            content=content,
            previously_owned=previous.owned if previous else frozenset(),
            owners=state.owner,
            had_error=fileloc in state.with_errors,
        )
        state.record(
            fileloc,
            KnownFile(content.content_hash, content.mtime, outcome.owned, content.read_at),
            refused=outcome.refused,
            released=outcome.released,
            has_error=outcome.error is not None,
        )

    def _changed(self, ref: DagFileRef, state: FolderState) -> _Candidate | None:
        """The file's content when it is new or changed; None when unchanged (mtime first, then hash)."""
        previous = state.files.get(ref.fileloc)
        if previous is not None and ref.fileloc not in state.forced:
            try:
                mtime = ref.mtime if ref.mtime is not None else os.stat(ref.path).st_mtime
            except OSError:
                return None
            if previous.unchanged_since(mtime):
                return None
        candidate = self._read(ref)
        if candidate is None or previous is None or ref.fileloc in state.forced:
            return candidate
        if previous.content_hash == candidate.content.content_hash:
            previous.mtime = candidate.content.mtime
            previous.read_at = candidate.content.read_at
            return None
        return candidate

    @staticmethod
    def _read(ref: DagFileRef) -> _Candidate | None:
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


def _dag_ids_involved(batch: list[ParsedFile], state: FolderState) -> set[str]:
    """The dag ids whose rows deciding the batch reads: those its files define and those they owned."""
    ids = {sdag.dag_id for parsed in batch for sdag in parsed.dags}
    for parsed in batch:
        previous = state.files.get(parsed.ref.fileloc)
        if previous is not None:
            ids |= previous.owned
    return ids


def _count(parsed: ParsedFile, outcome: FileOutcome, result: ProcessorResult) -> None:
    fileloc = parsed.ref.fileloc
    result.files_parsed += 1
    result.dags_stored += outcome.stored
    result.dags_deactivated += len(outcome.released)
    if outcome.error is not None:
        result.errors[fileloc] = outcome.error
        where = f"{fileloc}:{outcome.error.lineno}" if outcome.error.lineno else fileloc
        log.warning("import error in %s: %s", where, outcome.error.message)


def _apply_default_retries(sdags: list[SerializedDag], retries: int) -> None:
    """Tasks that set no ``retries`` (nor through default_args) get the deployment's core.default_task_retries,
    as Airflow applies its config at parse time: everything downstream then reads one resolved number."""
    for sdag in sdags:
        for task in sdag.tasks:
            if task.retries is None:
                task.retries = retries
