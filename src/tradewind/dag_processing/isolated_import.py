"""Import DAG files in forked child processes with a timeout, and bring back their serialized DAGs and errors.

The parent forks (it has already imported the SDK, so a child starts in about a millisecond), the child
imports one file, serializes its DAGs and writes them to a private pipe, one line per item:

    E{"message": ..., "lineno": ..., "stacktrace": ...}   an import error
    D{SerializedDag JSON}                                  a DAG
    Z                                                      the end: everything above is complete

The child's stdout and stderr go to a temporary file, so what user code prints can never corrupt that
channel; its tail is kept to explain a crash. A child that never writes ``Z`` crashed, exited or timed out,
and the parent says which from its exit status.

Forking a process that runs other threads (the scheduler) is safe here because the child touches nothing
but the import machinery, the SDK and its own pipe, then leaves with ``os._exit``; a child that still hangs
(a lock held at fork) is killed by the timeout like any slow file.
"""

from __future__ import annotations

import faulthandler
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
import traceback
from collections.abc import Generator, Iterable
from contextlib import closing, suppress
from dataclasses import dataclass, field
from typing import IO, Any

from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing.discovery import DagFileRef
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.dag_processing.warm_up import warm_up
from tradewind.sdk.loading import load_dags_from_file

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

    @property
    def failed_wholesale(self) -> bool:
        """The file could not be imported at all (as opposed to one bad DAG among good ones)."""
        return bool(self.errors) and not self.dags


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
    refs: Iterable[DagFileRef], *, timeout: float, processes: int, stop: threading.Event | None = None
) -> Generator[list[ParsedFile], None, None]:
    """Parse files in up to ``processes`` children at once; yield, in the order of ``refs``, lists of the
    results that are ready (several when the caller took a while with the previous list).

    Results come in order so that, of two files defining the same dag id, the first one listed keeps it.
    The next children are started before a list is yielded, so parsing goes on while the caller works.
    When ``stop`` is set, or the caller stops iterating, the children still running are killed.
    """
    warm_up()
    pending = list(refs)
    pending.reverse()
    next_index = 0
    finished: dict[int, ParsedFile] = {}
    running: dict[int, _Child] = {}
    selector = selectors.DefaultSelector()
    started = 0
    try:
        while pending or running or finished:
            while pending and len(running) < processes:
                child = _Child.start(pending.pop(), index=started, timeout=timeout)
                started += 1
                running[child.index] = child
                selector.register(child.pipe_fd, selectors.EVENT_READ, child)
                selector.register(child.pidfd, selectors.EVENT_READ, child)
            ready = []
            while next_index in finished:
                ready.append(finished.pop(next_index))
                next_index += 1
            if ready:
                yield ready
            if not running:
                continue
            if stop is not None and stop.is_set():
                return
            _wait_for_children(selector, running, finished, stop)
    finally:
        for child in running.values():
            _finish(selector, child, timed_out=True)
        selector.close()


def _wait_for_children(
    selector: selectors.BaseSelector,
    running: dict[int, _Child],
    finished: dict[int, ParsedFile],
    stop: threading.Event | None,
) -> None:
    """Wait until a child ends or times out (or the stop event is due a look); collect those that did."""
    wait = max(0.0, min(c.deadline for c in running.values()) - time.monotonic())
    if stop is not None:
        wait = min(wait, _STOP_POLL_INTERVAL)
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
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            os.close(read_fd)
            _child_main(ref, write_fd, output.fileno())
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
        parsed = _decode(self.ref, bytes(self.received))
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
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except ProcessLookupError:
            pass
        except PermissionError:
            continue


def _decode(ref: DagFileRef, payload: bytes) -> tuple[list[SerializedDag], list[FileError]] | None:
    """The child's report, or None when it is incomplete (the child did not get to write ``Z``)."""
    lines = payload.split(b"\n")
    if b"Z" not in lines:
        return None
    dags: list[SerializedDag] = []
    errors: list[FileError] = []
    for line in lines:
        if line.startswith(b"D"):
            dags.append(SerializedDag.from_json(line[1:]))
        elif line.startswith(b"E"):
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


# --- the child ------------------------------------------------------------------------------------------


def _child_main(ref: DagFileRef, write_fd: int, output_fd: int) -> None:  # pragma: no cover - child only
    code = 1
    try:
        _prepare_child(output_fd)
        lines = _import_and_serialize(ref)
        _write_all(write_fd, b"".join(lines) + b"Z\n")
        code = 0
    except BaseException:
        try:
            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:
            pass
    finally:
        os._exit(code)


def _prepare_child(output_fd: int) -> None:  # pragma: no cover - child only
    with suppress(OSError):
        os.setpgid(0, 0)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    # The parent's sys.stdout may be a wrapper (pytest, rich): point Python's streams at the captured fds.
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - lives until os._exit
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    faulthandler.enable(file=sys.stderr, all_threads=False)


def _import_and_serialize(ref: DagFileRef) -> list[bytes]:  # pragma: no cover - child only
    path = str(ref.path)
    try:
        result = load_dags_from_file(ref.path, dags_folder=ref.root)
    except BaseException as exc:  # user code may raise anything, SystemExit included
        return [_error_line(_describe_escape(exc), _line_in_file(exc, path), _format(exc))]
    lines = [
        _error_line(str(err), err.lineno, _format(err.__cause__) if err.__cause__ else "")
        for err in result.errors
    ]
    for dag in result.dags:
        try:
            serialized = serialize_dag(dag, fileloc=ref.fileloc, relative_fileloc=ref.relative_fileloc)
        except Exception as exc:
            dag_id = getattr(dag, "dag_id", "?")
            lineno = getattr(exc, "lineno", None) or _line_in_file(exc, path)
            lines.append(_error_line(f"DAG '{dag_id}': {exc}", lineno, _format(exc)))
            continue
        lines.append(b"D" + serialized.to_json().encode() + b"\n")
    return lines


def _describe_escape(exc: BaseException) -> str:  # pragma: no cover - child only
    if isinstance(exc, SystemExit):
        return f"the file called sys.exit({exc.code!r}) while being imported"
    if isinstance(exc, KeyboardInterrupt):
        return "the file raised KeyboardInterrupt while being imported"
    return f"{type(exc).__name__}: {exc}"


def _line_in_file(exc: BaseException, path: str) -> int | None:  # pragma: no cover - child only
    """The innermost line of ``path`` in the exception's traceback."""
    lineno = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path:
            lineno = frame.lineno
    return lineno


def _format(exc: BaseException) -> str:  # pragma: no cover - child only
    return "".join(traceback.format_exception(exc)).rstrip()


def _error_line(message: str, lineno: Any, stacktrace: str) -> bytes:  # pragma: no cover - child only
    item = {
        "message": message,
        "lineno": lineno if isinstance(lineno, int) else None,
        "stacktrace": stacktrace,
    }
    return b"E" + json.dumps(item).encode() + b"\n"


def _write_all(fd: int, data: bytes) -> None:  # pragma: no cover - child only
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
