"""What runs in a forked parsing child: import DAG files one after another, report each on a private pipe.

The parent sends file numbers (indexes into the list of files the child inherited), one line each, on the
command pipe; the child parses them in order and ends at end of file. Each file's report is a frame: a
header (payload length, flags) then the payload, one line per item:

    E{"message": ..., "lineno": ..., "stacktrace": ...}   an import error
    D{SerializedDag JSON}                                  a DAG

The flag ``RETIRING`` says the file spoiled the child (``state_guard``): it ends after this report. A file
whose frame never comes crashed, exited or hung the child; the parent decides what that means.

The child's stdin is /dev/null and its stdout and stderr go to the file the parent gave it, so nothing user
code prints reaches the pipe. It always leaves with ``os._exit``: no parent cleanup (atexit handlers,
database connections, buffered output) runs twice.
"""

from __future__ import annotations

import contextvars
import faulthandler
import json
import os
import signal
import struct
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import nullcontext, suppress
from typing import Any, NoReturn

from tradewind.config.settings import Settings
from tradewind.dag_processing.discovery import DagFileRef
from tradewind.dag_processing.parse_runtime import ParseTimeRuntime
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.dag_processing.state_guard import ApiFingerprint, FileScope
from tradewind.sdk.loading import load_dags_from_file
from tradewind.sdk.runtime import use_runtime

ERROR = b"E"
DAG = b"D"
#: A frame's header: payload length and flags.
HEADER = struct.Struct(">IB")
RETIRING = 1

#: The metadata database parsing children read Variables from (set once by the processor before it forks).
_variables_url: str | None = None
#: The settings naming the secrets backends and Fernet key ``Connection.get`` uses at parse time.
_secrets_settings: Settings | None = None


def read_variables_from(database_url: str | None, settings: Settings | None = None) -> None:
    """Let DAG files call ``Variable.get`` (and ``Connection.get``) while they are parsed, reading from this
    database (and the secrets backends ``settings`` names)."""
    global _variables_url, _secrets_settings
    _variables_url = database_url
    _secrets_settings = settings


def run_worker(refs: Sequence[DagFileRef], command_fd: int, write_fd: int, output_fd: int) -> NoReturn:
    """Parse the files of ``refs`` the parent names on ``command_fd``, report each on ``write_fd`` and exit
    at end of file (or once a file spoiled the process); output goes to ``output_fd``."""
    code = 1
    try:
        _prepare_child(output_fd)
        runtime = ParseTimeRuntime(_variables_url, _secrets_settings) if _variables_url else None
        fingerprint = ApiFingerprint.take()
        with use_runtime(runtime) if runtime is not None else nullcontext():
            for index in _commands(command_fd):
                ref = refs[index]
                scope = FileScope.open(ref.root)
                # A copy of the child's context: a DAG or task group one file leaves open cannot reach the next.
                lines = contextvars.copy_context().run(_import_and_serialize, ref)
                sys.stdout.flush()
                sys.stderr.flush()
                scope.close()
                spoiled = not fingerprint.holds()
                payload = b"".join(lines)
                _write_all(write_fd, HEADER.pack(len(payload), RETIRING if spoiled else 0) + payload)
                if spoiled:
                    break
        code = 0
    except BaseException:
        try:
            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:
            pass
    finally:
        os._exit(code)


def _commands(fd: int) -> Iterator[int]:
    """The file numbers the parent sends, until it closes the pipe."""
    buffer = b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            return
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield int(line)


def _prepare_child(output_fd: int) -> None:
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


def _import_and_serialize(ref: DagFileRef) -> list[bytes]:
    path = str(ref.path)
    try:
        result = load_dags_from_file(ref.path, dags_folder=ref.root)
    except BaseException as exc:  # user code may raise anything, SystemExit included
        return [_error_line(f"{type(exc).__name__}: {exc}", _line_in_file(exc, path), _format(exc))]
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
        lines.append(DAG + serialized.to_json().encode() + b"\n")
    return lines


def _line_in_file(exc: BaseException, path: str) -> int | None:
    """The innermost line of ``path`` in the exception's traceback."""
    lineno = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path:
            lineno = frame.lineno
    return lineno


def _format(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)).rstrip()


def _error_line(message: str, lineno: Any, stacktrace: str) -> bytes:
    item = {
        "message": message,
        "lineno": lineno if isinstance(lineno, int) else None,
        "stacktrace": stacktrace,
    }
    return ERROR + json.dumps(item).encode() + b"\n"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
