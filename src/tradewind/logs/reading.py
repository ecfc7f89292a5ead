"""The one read path of a try's log, for the REST API (v1, v2), the UI and `tradewind tasks logs`.

Sources, first found wins: the local file; while the try runs, its live worker's output (a Kubernetes pod,
through ``LiveLog``); the remote store; else a "no log" answer naming every place looked at. A continuation
token records the offset and which kind of source it counts in: the local file and the remote object hold
the same bytes (the remote one is an upload of the local one), the live output is other bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import log_relative_path, task_log_path
from tradewind.core.states import ACTIVE_TI_STATES
from tradewind.logs.remote_store import LogStore
from tradewind.sdk.errors import (
    ExternalSystemError,
    NotFoundError,
    ParamValidationError,
    RefusedInputError,
    UnsafePathError,
)

#: Bytes returned per request at most; a client follows the continuation token for the rest.
CHUNK_BYTES = 256 * 1024
#: The largest offset a file can be read from (a signed 64-bit file position).
MAX_OFFSET = 2**63 - 1
#: How often a follower looks for new lines and asks whether the try has ended.
POLL_SECONDS = 0.2
FILE, LIVE = "file", "live"
#: Put before a log read from its start because the live worker it was followed on is gone.
MOVED_NOTE = "*** the worker's live output has ended; its archived log follows from the start\n"


def try_is_running(state: str | None, current_try: int, try_number: int) -> bool:
    """Whether try ``try_number`` of a task instance at ``current_try`` in ``state`` may still be writing."""
    return current_try == try_number and state is not None and state in ACTIVE_TI_STATES


class LiveLog(Protocol):
    """The output of the worker running a try, while it runs (a Kubernetes pod's container log)."""

    #: What it reads, for messages ("the worker pod's output through the Kubernetes API").
    where: str

    def read(self, key: TaskInstanceKey, try_number: int) -> str | None:
        """Everything the worker wrote so far; None when no worker of that try is there."""

    def follow(self, key: TaskInstanceKey, try_number: int) -> Iterator[str] | None:
        """The worker's output from its start, as it is written, until it ends; None when there is none."""


@dataclass(frozen=True, slots=True)
class LogChunk:
    content: str
    offset: int  # where the next read starts
    exists: bool


@dataclass(frozen=True, slots=True)
class TryLog:
    """One read of a try's log."""

    content: str
    token: str
    #: More is there already: read again at once.
    more: bool
    #: Some source had the log (False: ``note`` says where it was looked for).
    found: bool
    note: str = ""


def encode_token(offset: int, source: str = FILE) -> str:
    body: dict[str, object] = {"offset": offset} if source == FILE else {"offset": offset, "source": source}
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def decode_token(token: str | None) -> int:
    """The offset of a token (0 for none)."""
    return decode_source_token(token)[1]


def decode_source_token(token: str | None) -> tuple[str | None, int]:
    """(source, offset) of a token; (None, 0) for none. Tokens without a source count in the file."""
    if not token:
        return None, 0
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = raw["offset"]
        source = raw.get("source", FILE)
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise ParamValidationError(f"malformed continuation token {token!r}", param="token") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0 or source not in (FILE, LIVE):
        raise ParamValidationError(f"malformed continuation token {token!r}", param="token")
    if offset > MAX_OFFSET:
        raise RefusedInputError(f"token: its offset {offset} is past the largest file offset", field="token")
    return source, offset


def log_path(base_folder: Path, key: TaskInstanceKey, try_number: int) -> Path:
    # Ids come from the URL: a path that would escape the log folder names no log.
    try:
        return task_log_path(base_folder, key, try_number)
    except UnsafePathError:
        raise NotFoundError(f"no log for {key} try {try_number}", kind="log", ident=str(key)) from None


def read_chunk(path: Path, offset: int, limit: int = CHUNK_BYTES) -> LogChunk:
    """Up to ``limit`` bytes of a local file from ``offset`` (``limit=-1``: to the end)."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(limit)
    except FileNotFoundError:
        return LogChunk(content="", offset=offset, exists=False)
    text, consumed = _text(data, limit)
    return LogChunk(content=text, offset=offset + consumed, exists=True)


def _text(data: bytes, limit: int) -> tuple[str, int]:
    """The text to send of ``data`` and how many bytes it used. Stops at the last full line of a full chunk,
    and never inside a UTF-8 character a writer is halfway through: the rest is sent on the next read."""
    if limit > 0 and len(data) == limit and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
    consumed = _whole_characters(data)
    return data[:consumed].decode("utf-8", errors="replace"), consumed


def _whole_characters(data: bytes) -> int:
    """Length of the longest prefix of ``data`` that does not end inside a multi-byte UTF-8 character."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: keep looking for the lead byte
            continue
        need = 1 if byte < 0x80 else 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4
        return len(data) if back >= need or byte < 0x80 else len(data) - back
    return len(data)


class TryLogReader:
    """Reads a try's log from wherever it is now (see the module docstring for the order)."""

    def __init__(
        self, log_folder: Path, *, remote: LogStore | None = None, live: LiveLog | None = None
    ) -> None:
        self.log_folder = log_folder
        self.remote = remote
        self.live = live

    def read(
        self,
        key: TaskInstanceKey,
        try_number: int,
        *,
        token: str | None,
        running: bool,
        limit: int = CHUNK_BYTES,
    ) -> TryLog:
        """The next part of the log after ``token``. ``running``: the try is still running (its live worker
        is asked only then, or to go on with a token that was following it)."""
        source, offset = decode_source_token(token)
        path = log_path(self.log_folder, key, try_number)
        looked = [f"no file {path}"]
        if path.exists():
            return self._from_file(path, offset if source != LIVE else 0, limit, moved=source == LIVE)
        if self.live is not None and (running or source == LIVE):
            try:
                output = self.live.read(key, try_number)
            except Exception as exc:
                looked.append(f"{self.live.where} could not be read ({exc})")
            else:
                if output is not None:
                    return _from_live(output.encode("utf-8"), offset if source == LIVE else 0, limit)
                looked.append(f"no running worker ({self.live.where})")
        if self.remote is not None:
            relative = log_relative_path(key, try_number)
            start = offset if source != LIVE else 0
            try:
                part = self.remote.read(relative, start, limit)
            except ExternalSystemError as exc:
                looked.append(f"the remote store could not be read ({exc})")
            else:
                if part is not None:
                    text, consumed = _text(part.data, limit)
                    at = start + consumed
                    return TryLog((MOVED_NOTE if source == LIVE else "") + text, encode_token(at), part.size > at,
                                  True)  # fmt: skip
                looked.append(f"nothing at {self.remote.where(relative)}")
        elif not running:
            looked.append("no remote log store ([logging] remote_base_log_folder is empty)")
        note = f"no log for {key} try {try_number} yet" if running else f"no log for {key} try {try_number}"
        return TryLog("", token or encode_token(0), False, False, f"{note}: {'; '.join(looked)}")

    def _from_file(self, path: Path, offset: int, limit: int, *, moved: bool) -> TryLog:
        chunk = read_chunk(path, offset, limit)
        try:
            more = path.stat().st_size > chunk.offset
        except FileNotFoundError:  # deleted after its upload meanwhile; the next read goes to the store
            more = True
        return TryLog((MOVED_NOTE if moved else "") + chunk.content, encode_token(chunk.offset), more, True)

    def follow(
        self,
        key: TaskInstanceKey,
        try_number: int,
        out: BinaryIO,
        *,
        try_running: Callable[[], bool],
        poll_seconds: float = POLL_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Copy the log to ``out`` as it grows until the try has ended and nothing more comes; while the try
        runs on a live worker with no local file, its output is streamed until it ends. NotFoundError naming
        where it looked when the try ended without any log."""
        token: str | None = None
        shown = False
        while True:
            running = try_running()
            if (
                running
                and token is None
                and self.live is not None
                and not self._local(key, try_number).exists()
            ):
                streamed = self._stream_live(key, try_number, out)
                if streamed:
                    return
            part = self.read(key, try_number, token=token, running=running, limit=-1)
            if part.content:
                out.write(part.content.encode("utf-8"))
                out.flush()
                shown = True
            token = part.token if part.found else token
            if not running and not part.content and not part.more:
                if not part.found and not shown:
                    raise NotFoundError(part.note, kind="log", ident=str(key))
                return
            sleep(poll_seconds)

    def _stream_live(self, key: TaskInstanceKey, try_number: int, out: BinaryIO) -> bool:
        """Stream the live worker's output until it ends; False when there was none to stream (no worker yet,
        or its container has not started)."""
        assert self.live is not None
        wrote = False
        try:
            lines = self.live.follow(key, try_number)
            if lines is None:
                return False
            for line in lines:
                out.write(line.encode("utf-8"))
                out.flush()
                wrote = True
        except Exception:
            if not wrote:
                return False
            raise
        return True

    def _local(self, key: TaskInstanceKey, try_number: int) -> Path:
        return log_path(self.log_folder, key, try_number)


def _from_live(data: bytes, offset: int, limit: int) -> TryLog:
    end = len(data) if limit < 0 else offset + limit
    text, consumed = _text(data[offset:end], limit)
    at = offset + consumed
    return TryLog(text, encode_token(at, LIVE), len(data) > at, True)
