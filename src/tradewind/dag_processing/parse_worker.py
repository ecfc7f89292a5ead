"""One forked parsing child seen from the parent: start it, hand it files, read its reports, end it.

The child parses the files it is given one after another (``parse_child.run_worker``). Up to ``QUEUE_DEPTH``
files are handed over at once, so the child goes on while the parent stores results; a file's timeout runs
from when the child can have started it (its hand-over, or the report of the file before it).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import IO

from tradewind.dag_processing.discovery import DagFileRef
from tradewind.dag_processing.parse_child import HEADER, RETIRING, run_worker

#: Files handed to a child ahead of its reports.
QUEUE_DEPTH = 2
_READ_CHUNK = 1 << 16


@dataclass(slots=True)
class Assignment:
    """A file handed to a child, and when (``started_at`` is moved up when the file before it is reported)."""

    index: int
    started_at: float
    #: Where the child's output stood when the file could start (its output starts there or later).
    output_at: int


@dataclass(slots=True)
class Report:
    index: int
    payload: bytes
    duration: float


@dataclass(eq=False)
class ParseWorker:
    """One forked child that parses the files of ``refs`` it is handed, in order."""

    pid: int
    pidfd: int
    report_fd: int
    command_fd: int | None
    output: IO[bytes]
    assigned: deque[Assignment] = field(default_factory=deque)
    #: Files whose report came back.
    done: int = 0
    #: The child was told to end once it has reported the files it holds.
    retiring: bool = False
    #: The child said it ends after its last report (a file spoiled it): files it held since go elsewhere.
    spoiled: bool = False
    received: bytearray = field(default_factory=bytearray)
    report_open: bool = True

    @classmethod
    def start(cls, refs: Sequence[DagFileRef], siblings: Sequence[ParseWorker] = ()) -> ParseWorker:
        """Fork a child for ``refs``; ``siblings`` are the running children, whose pipes it must not hold
        (a child holding another's command pipe would keep it from ever seeing the end of its commands)."""
        output = tempfile.TemporaryFile(prefix="tradewind-parse-")  # noqa: SIM115 - closed by close()
        report_read, report_write = os.pipe()
        command_read, command_write = os.pipe()
        # Flushed so that buffered parent output is not written a second time by the child.
        sys.stdout.flush()
        sys.stderr.flush()
        # Frozen objects are skipped by the collector, so the child's collections do not touch (and copy)
        # every page of the parent's heap.
        gc.freeze()
        try:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which never returns
                for fd in [report_read, command_write, *(fd for w in siblings for fd in w.fds())]:
                    with suppress(OSError):
                        os.close(fd)
                run_worker(refs, command_read, report_write, output.fileno())
        except OSError:
            for fd in (report_read, command_write):
                os.close(fd)
            output.close()
            raise
        finally:
            gc.unfreeze()
            os.close(report_write)
            os.close(command_read)
        with suppress(OSError):
            # Also done by the child; doing it here too closes the race with an early kill.
            os.setpgid(pid, pid)
        os.set_blocking(report_read, False)
        return cls(pid, os.pidfd_open(pid), report_read, command_write, output)

    @property
    def deadline_base(self) -> float | None:
        """When the file the child is on could start, or None when it has none."""
        return self.assigned[0].started_at if self.assigned else None

    def can_take(self) -> bool:
        free = self.command_fd is not None and len(self.assigned) < QUEUE_DEPTH
        return free and not (self.retiring or self.spoiled)

    def hand(self, index: int) -> None:
        assert self.command_fd is not None
        now = time.monotonic()
        output_at = os.fstat(self.output.fileno()).st_size
        self.assigned.append(Assignment(index, now, output_at))
        with suppress(BrokenPipeError):  # the child died: its end is seen on its pidfd
            _write_all(self.command_fd, b"%d\n" % index)

    def read_reports(self) -> list[Report]:
        """Read what the pipe holds now and return the reports it completes; ``report_open`` turns False at
        end of file."""
        while True:
            try:
                chunk = os.read(self.report_fd, _READ_CHUNK)
            except BlockingIOError:
                break
            if not chunk:
                self.report_open = False
                break
            self.received += chunk
        reports = []
        while len(self.received) >= HEADER.size and self.assigned:
            length, flags = HEADER.unpack_from(self.received)
            if len(self.received) < HEADER.size + length:
                break
            payload = bytes(self.received[HEADER.size : HEADER.size + length])
            del self.received[: HEADER.size + length]
            finished = self.assigned.popleft()
            now = time.monotonic()
            reports.append(Report(finished.index, payload, now - finished.started_at))
            self.done += 1
            if self.assigned:
                # The next file starts no earlier than this report: its timeout runs from here.
                self.assigned[0].started_at = now
                self.assigned[0].output_at = os.fstat(self.output.fileno()).st_size
            if flags & RETIRING:
                self.spoiled = True
                break
        return reports

    def retire(self) -> None:
        """Hand no more files: the child ends once it has reported those it holds."""
        self.retiring = True
        if self.command_fd is not None:
            os.close(self.command_fd)
            self.command_fd = None

    def kill(self) -> None:
        # The child leads its own process group, so whatever it started goes too.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def reap(self) -> int:
        """Wait for the ended child; its wait status."""
        _, status = os.waitpid(self.pid, 0)
        return status

    def output_since(self, offset: int, limit: int) -> str:
        """What the child wrote from ``offset`` on, at most the last ``limit`` bytes of it."""
        size = os.fstat(self.output.fileno()).st_size
        self.output.seek(max(offset, size - limit))
        return self.output.read().decode("utf-8", errors="replace")

    def fds(self) -> list[int]:
        """The parent's pipe and pidfd descriptors for this child."""
        fds = [self.report_fd, self.pidfd]
        return fds if self.command_fd is None else [*fds, self.command_fd]

    def close(self) -> None:
        for fd in (self.report_fd, self.pidfd, self.command_fd):
            if fd is not None:
                with suppress(OSError):
                    os.close(fd)
        self.command_fd = None
        self.output.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
