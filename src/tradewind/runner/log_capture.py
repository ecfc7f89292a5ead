"""Capture everything a try writes to fd 1 and 2 into its log file, one timestamped line at a time."""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from tradewind.runner.alarm import Alarm
from tradewind.runner.log_loss import NO_ROOM, LogLoss

#: How long stop() waits for the reader to drain once our write ends are closed. A child that outlives
#: the try (a daemonised grandchild of a bash task) keeps the pipe open; we do not wait for it.
DRAIN_TIMEOUT_SECONDS = 5.0
#: Format of log records inside a try's log (the capture adds the timestamp).
TASK_LOG_FORMAT = "%(levelname)s %(name)s - %(message)s"
#: While the log cannot be written, how often the capture tries again; output in between is held in memory up
#: to ``HOLD_BYTES`` (the oldest dropped first) and written after the notice once a write succeeds, so a task is
#: never slowed, let alone blocked, by a full log folder, and its last lines survive a folder that got room.
RETRY_SECONDS = 1.0
HOLD_BYTES = 64 * 1024


def timestamp() -> str:
    """The prefix of every log line: ISO-8601 UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class LogCapture:
    """Redirects file descriptors 1 and 2 of this process into one pipe whose reader thread writes each
    line to ``path`` (or, with None, to the original stderr: `tasks test`) prefixed with a timestamp.

    Working on descriptors (not ``sys.stdout``) means the runner's own log lines, ``print()`` output and the
    output of subprocesses (BashOperator) all land in the file, in the order they were written.
    ``redact`` is applied to every line before it is written, so secrets never reach the file.

    ``echo_to_stdout`` (``[logging] task_output_to_stdout``) also writes every line, redacted and stamped the
    same way, to the process's original stdout: in a worker pod that is the container's log, so `kubectl logs`
    follows the try and the executor can save it after the pod is gone. Writing there is best effort: a
    closed or broken stdout stops the echo, never the try.

    A log folder with no room (full disk, quota) never stops the try: the pipe is still drained, the lines
    that cannot be written are counted in ``loss``, the runner's original stderr (the service log) is told
    once, and when a write succeeds again a line saying what was dropped is written first (ADR 0016).

    With an ``alarm``, the reader also rings it when it is due (or when the reader ends, whichever comes
    first): the try's heartbeat thread starts that way, only in a try that lasts long enough to need it.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        redact: Callable[[str], str] | None = None,
        echo_to_stdout: bool = False,
        folder: Path | None = None,
        alarm: Alarm | None = None,
    ) -> None:
        self.path = path
        self._alarm = alarm
        self._redact = redact
        self._echo_to_stdout = echo_to_stdout
        #: The log file, written with os.write: no buffer holding lines that a failed flush would lose or repeat.
        self._fd: int | None = None
        #: What could not be written to ``path`` (``folder`` names the log folder in what the user reads).
        self.loss = LogLoss(path, folder or path.parent) if path is not None else None
        self._retry_at = 0.0
        #: Output that came between two attempts while the folder had no room: (stamped lines, line count).
        self._held: collections.deque[tuple[bytes, int]] = collections.deque()
        self._held_bytes = 0
        #: The last write stopped mid-line: the next line written starts on a new one.
        self._torn = False
        #: A copy of the original fd 2, for telling the service log that lines are being dropped.
        self._notice_fd: int | None = None
        self._saved_fds: tuple[int, int] | None = None
        self._reader: threading.Thread | None = None
        #: A copy of the original fd 1 that every written chunk is also sent to (``echo_to_stdout``). Its own
        #: descriptor, owned by the reader thread, so stop() closing the saved fds cannot pull it away mid-write.
        self._echo_fd: int | None = None

    def start(self) -> None:
        _flush_python_streams()
        if self.path is None:
            self._fd = os.dup(2)
        else:
            self._notice_fd = os.dup(2)
            try:
                self._fd = self._open()
            except OSError as exc:
                if exc.errno not in NO_ROOM:
                    os.close(self._notice_fd)
                    self._notice_fd = None
                    raise
                self._lost(0, 0, exc)  # no room for the file itself: run on, and open it once there is
        read_end, write_end = os.pipe()
        self._saved_fds = (os.dup(1), os.dup(2))
        if self._echo_to_stdout:
            self._echo_fd = os.dup(1)
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        self._reader = threading.Thread(target=self._pump, args=(read_end,), name="log-capture", daemon=True)
        self._reader.start()
        # Python buffers stdout when it is not a terminal; line buffering keeps print() in step with logs.
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                with contextlib.suppress(ValueError, OSError):
                    reconfigure(line_buffering=True)

    def stop(self) -> None:
        """Restore fd 1 and 2, wait for the reader to write what is left, and close the file."""
        if self._saved_fds is None:
            return
        _flush_python_streams()
        out, err = self._saved_fds
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        self._saved_fds = None
        if self._reader is not None:
            self._reader.join(DRAIN_TIMEOUT_SECONDS)
        if self._reader is None or not self._reader.is_alive():
            self._settle_loss()
            for fd in (self._fd, self._notice_fd):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._fd = self._notice_fd = None

    def __enter__(self) -> LogCapture:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _pump(self, read_end: int) -> None:
        pending = b""
        try:
            while True:
                self._wait_for_output(read_end)
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                *lines, pending = (pending + chunk).split(b"\n")
                self._write(lines)
        finally:
            try:
                if pending:
                    self._write([pending])
            finally:
                if self._alarm is not None:
                    self._alarm.ring()
            os.close(read_end)
            if self._echo_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._echo_fd)
                self._echo_fd = None

    def _wait_for_output(self, read_end: int) -> None:
        """Until ``read_end`` is readable, ringing the alarm if it falls due meanwhile."""
        alarm = self._alarm
        if alarm is None:
            return
        poller: select.poll | None = None
        while (wait := alarm.remaining()) is not None:
            if wait <= 0:
                alarm.ring()  # even while output keeps coming
                return
            if poller is None:
                poller = select.poll()
                poller.register(read_end, select.POLLIN)
            if poller.poll(math.ceil(wait * 1000)):
                return

    def _write(self, lines: list[bytes]) -> None:
        if not lines:
            return
        prefix = timestamp().encode()
        out = bytearray()
        for raw in lines:
            line = raw.rstrip(b"\r")
            if self._redact is not None:
                line = self._redact(line.decode("utf-8", errors="replace")).encode("utf-8")
            out += prefix + b" " + line + b"\n"
        # Written per chunk, unbuffered, so `tradewind tasks logs --follow` sees lines as they are written.
        self._to_file(bytes(out), len(lines))
        self._echo(bytes(out))

    # -- the log file, and a folder with no room ---------------------------------------------------------
    def _open(self) -> int:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def _to_file(self, data: bytes, lines: int) -> None:
        loss = self.loss
        if loss is not None and loss.pending and time.monotonic() < self._retry_at:
            self._hold(loss, data, lines)
            return
        if self._held:
            data = b"".join(chunk for chunk, _ in self._held) + data
            lines += sum(count for _, count in self._held)
            self._held.clear()
            self._held_bytes = 0
        size = -1
        try:
            if self._fd is None:
                self._fd = self._open()
            if loss is not None and loss.pending:
                start = b"\n" if self._torn else b""
                _write_all(self._fd, start + loss.marker(timestamp()).encode() + b"\n")
                loss.reported()
                self._torn = False
            size = os.fstat(self._fd).st_size
            _write_all(self._fd, data)
        except OSError as exc:
            if size >= 0 and self._fd is not None:
                with contextlib.suppress(OSError):
                    self._torn = self._torn or os.fstat(self._fd).st_size != size
            self._lost(lines, len(data), exc)

    def _hold(self, loss: LogLoss, data: bytes, lines: int) -> None:
        """Keep ``data`` for the next attempt; what no longer fits in ``HOLD_BYTES`` (the oldest) is dropped."""
        self._held.append((data, lines))
        self._held_bytes += len(data)
        while self._held_bytes > HOLD_BYTES:
            chunk, count = self._held.popleft()
            self._held_bytes -= len(chunk)
            loss.dropped(count, len(chunk), None, timestamp())

    def _lost(self, lines: int, size: int, exc: OSError) -> None:
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if self.loss is None:  # `tasks test` writing to stderr: nothing to tell but stderr itself
            return
        if self.loss.dropped(lines, size, exc, timestamp()):
            self._notice(self.loss.service_message())

    def _settle_loss(self) -> None:
        """At the end: one last try to say in the file what was dropped, else say it in the service log."""
        if self.loss is None or not self.loss.pending:
            return
        self._retry_at = 0.0
        self._to_file(b"", 0)
        if self.loss.pending:
            summary = self.loss.summary()
            self._notice(f"tradewind: {summary}" if summary else self.loss.service_message())

    def _notice(self, message: str) -> None:
        if self._notice_fd is None:
            return
        with contextlib.suppress(OSError):  # the service log may sit on the same full disk
            _write_all(self._notice_fd, (message + "\n").encode())

    def _echo(self, data: bytes) -> None:
        if self._echo_fd is None:
            return
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._echo_fd, view):]
        except OSError:
            # stdout closed or its reader gone (EPIPE, EBADF ...): the log file still has every line.
            with contextlib.suppress(OSError):
                os.close(self._echo_fd)
            self._echo_fd = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _flush_python_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(ValueError, OSError):
                stream.flush()


@contextlib.contextmanager
def task_logging(level: str) -> Iterator[None]:
    """Send every log record (the runner's and the task code's) to stderr, which the capture redirects.

    The root logger's handlers are swapped for the try's duration: in a process forked from the scheduler
    they would otherwise write the task's records into the scheduler's log.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(TASK_LOG_FORMAT))
    root.handlers[:] = [handler]
    # setLevel() empties the level cache of every logger there is: only when the level changes.
    if logging.getLevelName(root.level) != level.upper():
        root.setLevel(level)
    try:
        yield
    finally:
        handler.flush()
        root.handlers[:] = saved_handlers
        if root.level != saved_level:
            root.setLevel(saved_level)
