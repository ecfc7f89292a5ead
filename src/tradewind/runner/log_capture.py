"""Capture everything a try writes to fd 1 and 2 into its log file, one timestamped line at a time."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

#: How long stop() waits for the reader to drain once our write ends are closed. A child that outlives
#: the try (a daemonised grandchild of a bash task) keeps the pipe open; we do not wait for it.
DRAIN_TIMEOUT_SECONDS = 5.0
#: Format of log records inside a try's log (the capture adds the timestamp).
TASK_LOG_FORMAT = "%(levelname)s %(name)s - %(message)s"


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
    """

    def __init__(
        self, path: Path | None, *, redact: Callable[[str], str] | None = None, echo_to_stdout: bool = False
    ) -> None:
        self.path = path
        self._redact = redact
        self._echo_to_stdout = echo_to_stdout
        self._file: BinaryIO | None = None
        self._saved_fds: tuple[int, int] | None = None
        self._reader: threading.Thread | None = None
        #: A copy of the original fd 1 that every written chunk is also sent to (``echo_to_stdout``). Its own
        #: descriptor, owned by the reader thread, so stop() closing the saved fds cannot pull it away mid-write.
        self._echo_fd: int | None = None

    def start(self) -> None:
        _flush_python_streams()
        if self.path is None:
            self._file = os.fdopen(os.dup(2), "wb")
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 - closed in stop()
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
        if self._file is not None and (self._reader is None or not self._reader.is_alive()):
            self._file.close()
            self._file = None

    def __enter__(self) -> LogCapture:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _pump(self, read_end: int) -> None:
        assert self._file is not None
        pending = b""
        try:
            while True:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                *lines, pending = (pending + chunk).split(b"\n")
                self._write(lines)
        finally:
            if pending:
                self._write([pending])
            os.close(read_end)
            if self._echo_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._echo_fd)
                self._echo_fd = None

    def _write(self, lines: list[bytes]) -> None:
        if not lines or self._file is None:
            return
        prefix = timestamp().encode()
        out = bytearray()
        for raw in lines:
            line = raw.rstrip(b"\r")
            if self._redact is not None:
                line = self._redact(line.decode("utf-8", errors="replace")).encode("utf-8")
            out += prefix + b" " + line + b"\n"
        self._file.write(out)
        # Flushed per chunk so `tradewind tasks logs --follow` sees lines as they are written.
        self._file.flush()
        self._echo(bytes(out))

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
    root.setLevel(level)
    try:
        yield
    finally:
        handler.flush()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
