"""Import DAG files in forked child processes with a timeout, and bring back their serialized DAGs and errors.

The parent has imported the SDK and run its first-use paths (``warm_up``), so a forked child starts ready
and only imports its one file (``parse_child``). Each child reports on its own pipe; its stdout and stderr
go to a temporary file, whose tail explains a crash. A child whose report is incomplete crashed, exited or
timed out, and the parent says which from its exit status.

Forking a process that runs other threads (the scheduler) is safe here because the child touches nothing
but the import machinery, the SDK and its own pipe, then leaves with ``os._exit``; a child that still hangs
(a lock held at fork) is killed by the timeout like any slow file.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import selectors
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Generator, Iterable
from contextlib import closing, suppress
from dataclasses import dataclass, field
from typing import IO

from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing.discovery import DagFileRef
from tradewind.dag_processing.parse_child import DAG, END, ERROR, run_child
from tradewind.dag_processing.warm_up import warm_up

log = logging.getLogger(__name__)

#: How much of a crashed child's output to keep in the import error, and how much to search for a crash dump.
OUTPUT_KEPT_CHARS = 4000
_OUTPUT_SEARCHED_BYTES = 1 << 16
_READ_CHUNK = 1 << 16
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
    The next children are started before a list is yielded, so parsing goes on while the caller works.
    When ``stop`` is set, or the caller stops iterating, the children still running are killed.

    A list is held back until it has ``gather`` results, its first result has waited ``gather_for``
    seconds, or nothing is left to parse: fewer, fuller lists suit a caller that pays per list (a database
    transaction) more than per result, without delaying results for long behind a slow file.
    """
    warm_up()
    pending = list(refs)
    pending.reverse()
    next_index = 0
    finished: dict[int, ParsedFile] = {}
    running: dict[int, _Child] = {}
    held: list[ParsedFile] = []
    held_since = 0.0
    selector = selectors.DefaultSelector()
    started = 0
    try:
        while pending or running or finished or held:
            while pending and len(running) < processes:
                child = _Child.start(pending.pop(), index=started, timeout=timeout)
                started += 1
                running[child.index] = child
                selector.register(child.pipe_fd, selectors.EVENT_READ, child)
                selector.register(child.pidfd, selectors.EVENT_READ, child)
            while next_index in finished:
                if not held:
                    held_since = time.monotonic()
                held.append(finished.pop(next_index))
                next_index += 1
            stopping = stop is not None and stop.is_set()
            if held and (
                len(held) >= gather or not running or stopping or time.monotonic() - held_since >= gather_for
            ):
                ready, held = held, []
                yield ready
            if not running:
                continue
            if stopping:
                return
            _wait_for_children(
                selector, running, finished, stop, until=held_since + gather_for if held else None
            )
    finally:
        for child in running.values():
            _finish(selector, child, timed_out=True)
        selector.close()


def _wait_for_children(
    selector: selectors.BaseSelector,
    running: dict[int, _Child],
    finished: dict[int, ParsedFile],
    stop: threading.Event | None,
    until: float | None = None,
) -> None:
    """Wait until a child ends or times out, the stop event is due a look, or ``until``; collect the
    children that ended."""
    wait = max(0.0, min(c.deadline for c in running.values()) - time.monotonic())
    if stop is not None:
        wait = min(wait, _STOP_POLL_INTERVAL)
    if until is not None:
        wait = max(0.0, min(wait, until - time.monotonic()))
    for key, _events in selector.select(wait):
        child = key.data
        if child.index not in running:
            continue
        if key.fd == child.pipe_fd:
            if not child.read_available():
                # End of file comes just before the exit; the pidfd reports that.
                selector.unregister(child.pipe_fd)
                child.pipe_registered = False
        else:
            finished[child.index] = _finish(selector, running.pop(child.index), timed_out=False)
    now = time.monotonic()
    for child in [c for c in running.values() if c.deadline <= now]:
        finished[child.index] = _finish(selector, running.pop(child.index), timed_out=True)


def _finish(selector: selectors.BaseSelector, child: _Child, *, timed_out: bool) -> ParsedFile:
    if child.pipe_registered:
        selector.unregister(child.pipe_fd)
    selector.unregister(child.pidfd)
    return child.collect(timed_out=timed_out)


@dataclass
class _Child:
    """One forked parsing process, seen from the parent."""

    ref: DagFileRef
    index: int
    pid: int
    pidfd: int
    pipe_fd: int
    output: IO[bytes]
    timeout: float
    started_at: float
    deadline: float
    received: bytearray = field(default_factory=bytearray)
    pipe_registered: bool = True

    @classmethod
    def start(cls, ref: DagFileRef, *, index: int, timeout: float) -> _Child:
        output = tempfile.TemporaryFile(prefix="tradewind-parse-")  # noqa: SIM115 - closed by collect()
        read_fd, write_fd = os.pipe()
        # Flushed so that buffered parent output is not written a second time by the child.
        sys.stdout.flush()
        sys.stderr.flush()
        started_at = time.monotonic()
        # Frozen objects are skipped by the collector, so the child's collections do not touch (and copy)
        # every page of the parent's heap.
        gc.freeze()
        try:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which never returns
                os.close(read_fd)
                run_child(ref, write_fd, output.fileno())
        except OSError:
            os.close(read_fd)
            output.close()
            raise
        finally:
            gc.unfreeze()
            os.close(write_fd)
        with suppress(OSError):
            # Also done by the child; doing it here too closes the race with an early kill.
            os.setpgid(pid, pid)
        os.set_blocking(read_fd, False)
        return cls(
            ref=ref,
            index=index,
            pid=pid,
            pidfd=os.pidfd_open(pid),
            pipe_fd=read_fd,
            output=output,
            timeout=timeout,
            started_at=started_at,
            deadline=started_at + timeout,
        )

    def read_available(self) -> bool:
        """Read what the pipe holds now; False at end of file."""
        while True:
            try:
                chunk = os.read(self.pipe_fd, _READ_CHUNK)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            self.received += chunk

    def collect(self, *, timed_out: bool) -> ParsedFile:
        if timed_out:
            _kill_group(self.pid)
        _, status = os.waitpid(self.pid, 0)
        duration = time.monotonic() - self.started_at
        self.read_available()
        os.close(self.pipe_fd)
        os.close(self.pidfd)
        output = self._output_tail()
        if timed_out:
            message = f"parsing timed out after {self.timeout:g} s"
            errors = [FileError(message, stacktrace=output[-OUTPUT_KEPT_CHARS:])]
            return ParsedFile(self.ref, [], errors, duration)
        try:
            parsed = _decode(bytes(self.received))
        except ValueError as exc:  # pydantic's ValidationError and json's JSONDecodeError are ValueErrors
            error = FileError(f"the parsing process sent an unreadable report: {exc}", stacktrace=output)
            return ParsedFile(self.ref, [], [error], duration)
        if parsed is None:
            return ParsedFile(self.ref, [], [_crash_error(self.ref, status, output)], duration)
        dags, errors = parsed
        return ParsedFile(self.ref, dags, errors, duration)

    def _output_tail(self) -> str:
        try:
            size = self.output.seek(0, os.SEEK_END)
            self.output.seek(max(0, size - _OUTPUT_SEARCHED_BYTES))
            return self.output.read().decode("utf-8", errors="replace")
        finally:
            self.output.close()


def _kill_group(pid: int) -> None:
    # The child leads its own process group, so whatever it started goes too.
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _decode(payload: bytes) -> tuple[list[SerializedDag], list[FileError]] | None:
    """The child's report, or None when it is incomplete (the child did not get to write ``Z``)."""
    lines = payload.split(b"\n")
    if END not in lines:
        return None
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
