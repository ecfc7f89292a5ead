"""Import DAG files in forked child processes with a timeout, and bring back their serialized DAGs and errors.

The parent has imported the SDK and run its first-use paths (``warm_up``), so a forked child starts ready.
A child parses a run of files (``parse_worker``, ``parse_child``), kept apart from one another by
``state_guard``; a fork per file cost more than parsing a typical file. A file that hangs is stopped at its
timeout with its child, which another replaces; a file during which its child dies (os._exit, a signal) is
parsed again alone in a fresh child, unless it was the first its child parsed, so that what an earlier file
left behind cannot get it blamed; the files the child held but had not started go to another child.

Forking a process that runs other threads (the scheduler) is safe here because the child touches nothing
but the import machinery, the SDK and its own pipes, then leaves with ``os._exit``; a child that still hangs
(a lock held at fork) is killed by the timeout like any slow file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import selectors
import signal
import threading
import time
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass

from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing.discovery import DagFileRef
from tradewind.dag_processing.parse_child import DAG, ERROR
from tradewind.dag_processing.parse_worker import ParseWorker, Report
from tradewind.dag_processing.warm_up import warm_up

log = logging.getLogger(__name__)

#: How much of a crashed child's output to keep in the import error, and how much to search for a crash dump.
OUTPUT_KEPT_CHARS = 4000
_OUTPUT_SEARCHED_BYTES = 1 << 16
#: Files one child parses before a fresh one replaces it (bounds what third-party imports pile up).
MAX_FILES_PER_CHILD = 250
#: How often a parse waiting on slow files looks at its stop event.
_STOP_POLL_INTERVAL = 0.2


@dataclass(frozen=True, slots=True)
class FileError:
    """One problem found while parsing a file: what went wrong and, where meaningful, on which line."""

    message: str
    lineno: int | None = None
    stacktrace: str = ""


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """What parsing one file produced."""

    ref: DagFileRef
    dags: list[SerializedDag]
    errors: list[FileError]
    duration: float


def parse_file(ref: DagFileRef, *, timeout: float) -> ParsedFile:
    """Parse one file in a child process."""
    with closing(parse_files([ref], timeout=timeout, processes=1)) as results:
        return next(results)


def parse_files(
    refs: Iterable[DagFileRef], *, timeout: float, processes: int, stop: threading.Event | None = None
) -> Generator[ParsedFile, None, None]:
    """Parse files in up to ``processes`` children at once; yield the results in the order of ``refs``."""
    with closing(parse_batches(refs, timeout=timeout, processes=processes, stop=stop)) as batches:
        for batch in batches:
            yield from batch


def parse_batches(
    refs: Iterable[DagFileRef],
    *,
    timeout: float,
    processes: int,
    stop: threading.Event | None = None,
    gather: int = 1,
    gather_for: float = 0.0,
) -> Generator[list[ParsedFile], None, None]:
    """Parse files in up to ``processes`` children at once; yield, in the order of ``refs``, lists of the
    results that are ready (several when the caller took a while with the previous list).

    Results come in order so that, of two files defining the same dag id, the first one listed keeps it.
    Children keep parsing while a list is yielded. When ``stop`` is set, or the caller stops iterating, the
    children still running are killed.

    A list is held back until it has ``gather`` results, its first result has waited ``gather_for``
    seconds, or nothing is left to parse: fewer, fuller lists suit a caller that pays per list (a database
    transaction) more than per result, without delaying results for long behind a slow file.
    """
    warm_up()
    pool = _Pool(list(refs), timeout=timeout, processes=max(1, processes))
    next_index = 0
    held: list[ParsedFile] = []
    held_since = 0.0
    try:
        while pool.busy() or pool.finished or held:
            pool.hand_out()
            while next_index in pool.finished:
                if not held:
                    held_since = time.monotonic()
                held.append(pool.finished.pop(next_index))
                next_index += 1
            stopping = stop is not None and stop.is_set()
            if held and (
                len(held) >= gather
                or not pool.busy()
                or stopping
                or time.monotonic() - held_since >= gather_for
            ):
                ready, held = held, []
                yield ready
            if not pool.busy():
                continue
            if stopping:
                return
            pool.wait(stop, until=held_since + gather_for if held else None)
    finally:
        pool.close()


@dataclass(frozen=True, slots=True)
class _Queued:
    index: int
    #: To be the first file of a fresh child (its previous child died while on it).
    alone: bool = False


class _Pool:
    """The children parsing one list of files, the files not yet handed out, and the results not yet taken."""

    def __init__(self, refs: Sequence[DagFileRef], *, timeout: float, processes: int) -> None:
        self.refs = refs
        self.timeout = timeout
        self.processes = processes
        self.queue: deque[_Queued] = deque(_Queued(i) for i in range(len(refs)))
        self.workers: list[ParseWorker] = []
        self.finished: dict[int, ParsedFile] = {}
        self.selector = selectors.DefaultSelector()

    def busy(self) -> bool:
        return bool(self.queue) or any(w.assigned for w in self.workers)

    def hand_out(self) -> None:
        """Give queued files to children that can take them, starting children up to ``processes``."""
        for worker in self.workers:
            self._fill(worker)
        while self.queue:
            active = [w for w in self.workers if not (w.retiring or w.spoiled)]
            if len(active) < self.processes:
                worker = ParseWorker.start(self.refs, self.workers)
                self.workers.append(worker)
                self.selector.register(worker.report_fd, selectors.EVENT_READ, worker)
                self.selector.register(worker.pidfd, selectors.EVENT_READ, worker)
                self._fill(worker)
                continue
            if all(item.alone for item in self.queue):
                # Only files that need a fresh child are left: make room by ending an idle child.
                idle = next((w for w in active if not w.assigned), None)
                if idle is not None:
                    idle.retire()
                    continue
            break

    def _fill(self, worker: ParseWorker) -> None:
        while self.queue and worker.can_take():
            fresh = worker.done == 0 and not worker.assigned
            item = next((q for q in self.queue if fresh or not q.alone), None)
            if item is None:
                return
            self.queue.remove(item)
            worker.hand(item.index)
            if item.alone or worker.done + len(worker.assigned) >= MAX_FILES_PER_CHILD:
                if not item.alone:
                    worker.retire()
                return

    def wait(self, stop: threading.Event | None, until: float | None) -> None:
        """Wait until a child reports or ends, a file times out, the stop event is due a look, or ``until``."""
        deadlines = [w.assigned[0].started_at + self.timeout for w in self.workers if w.assigned]
        wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else _STOP_POLL_INTERVAL
        if stop is not None:
            wait = min(wait, _STOP_POLL_INTERVAL)
        if until is not None:
            wait = max(0.0, min(wait, until - time.monotonic()))
        for key, _events in self.selector.select(wait):
            worker: ParseWorker = key.data
            if worker not in self.workers:
                continue
            if key.fd == worker.report_fd:
                self._take(worker.read_reports())
                if not worker.report_open:
                    # End of file comes just before the exit; the pidfd reports that.
                    self.selector.unregister(worker.report_fd)
            else:
                self._ended(worker, timed_out=False)
        now = time.monotonic()
        for worker in [
            w for w in self.workers if w.assigned and w.assigned[0].started_at + self.timeout <= now
        ]:
            self._ended(worker, timed_out=True)

    def _take(self, reports: list[Report]) -> None:
        for report in reports:
            self.finished[report.index] = _parsed(self.refs[report.index], report)

    def _ended(self, worker: ParseWorker, *, timed_out: bool) -> None:
        """The child ended, or is overdue and is stopped: settle the files it held."""
        overdue = worker.assigned[0].index if timed_out and worker.assigned else None
        if timed_out:
            worker.kill()
        # What the child reported before it ended is still in the pipe.
        self._take(worker.read_reports())
        status = worker.reap()
        unstarted = [item.index for item in worker.assigned]
        requeued = [_Queued(index) for index in unstarted]
        if unstarted and not worker.spoiled:
            current = self.refs[unstarted[0]]
            started = worker.assigned[0]
            duration = time.monotonic() - started.started_at
            output = worker.output_since(started.output_at, _OUTPUT_SEARCHED_BYTES)
            if timed_out and started.index != overdue:
                pass  # the overdue file was reported after all: the others go to another child
            elif timed_out:
                message = f"parsing timed out after {self.timeout:g} s"
                error = FileError(message, stacktrace=output[-OUTPUT_KEPT_CHARS:])
                self.finished[started.index] = ParsedFile(current, [], [error], duration)
                requeued.pop(0)
            elif worker.done == 0:
                error = _crash_error(current, status, output)
                self.finished[started.index] = ParsedFile(current, [], [error], duration)
                requeued.pop(0)
            else:
                # What an earlier file left in the child may be to blame: the file gets a child of its own.
                log.debug("parsing child %d died on %s; parsing it again alone", worker.pid, current.fileloc)
                requeued[0] = _Queued(started.index, alone=True)
        self.queue.extendleft(reversed(requeued))
        self._forget(worker)

    def _forget(self, worker: ParseWorker) -> None:
        if worker.report_open:
            self.selector.unregister(worker.report_fd)
        self.selector.unregister(worker.pidfd)
        worker.close()
        self.workers.remove(worker)

    def close(self) -> None:
        for worker in list(self.workers):
            worker.kill()
            worker.reap()
            self._forget(worker)
        self.selector.close()


def _parsed(ref: DagFileRef, report: Report) -> ParsedFile:
    try:
        dags, errors = _decode(report.payload)
    except ValueError as exc:  # pydantic's ValidationError and json's JSONDecodeError are ValueErrors
        error = FileError(f"the parsing process sent an unreadable report: {exc}")
        return ParsedFile(ref, [], [error], report.duration)
    return ParsedFile(ref, dags, errors, report.duration)


def _decode(payload: bytes) -> tuple[list[SerializedDag], list[FileError]]:
    """The DAGs and errors of one file's report."""
    lines = payload.split(b"\n")
    dags: list[SerializedDag] = []
    errors: list[FileError] = []
    for line in lines:
        if line.startswith(DAG):
            dags.append(SerializedDag.from_json(line[1:]))
        elif line.startswith(ERROR):
            item = json.loads(line[1:])
            errors.append(FileError(item["message"], item.get("lineno"), item.get("stacktrace") or ""))
    return dags, errors


_FAULT_DUMP_START = "Fatal Python error"
_FAULT_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def _crash_error(ref: DagFileRef, status: int, output: str) -> FileError:
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = str(signum)
        message = f"the parsing process was killed by signal {name} while importing the file"
    else:
        code = os.waitstatus_to_exitcode(status)
        message = (
            f"the parsing process exited with code {code} while importing the file "
            "(the file called os._exit, or its code ended the process)"
        )
    # faulthandler writes the crashing stack, innermost frame first, to the captured output: keep the dump
    # (rather than the tail, which a deep stack fills with the parent's frames) and take the file's line.
    dump_at = output.rfind(_FAULT_DUMP_START)
    kept = output[dump_at:][:OUTPUT_KEPT_CHARS] if dump_at >= 0 else output[-OUTPUT_KEPT_CHARS:]
    lineno = None
    for match in _FAULT_FRAME.finditer(output, max(dump_at, 0)):
        if match["file"] == ref.fileloc:
            lineno = int(match["line"])
            break
    return FileError(message, lineno, kept)
