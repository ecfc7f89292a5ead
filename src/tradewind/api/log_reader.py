"""Reading task logs from the log folder in chunks, with an opaque continuation token for following."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import task_log_path
from tradewind.sdk.errors import NotFoundError, ParamValidationError, RefusedInputError, UnsafePathError

#: Bytes returned per request at most; a client follows the continuation token for the rest.
CHUNK_BYTES = 256 * 1024
#: The largest offset a file can be read from (a signed 64-bit file position).
MAX_OFFSET = 2**63 - 1


@dataclass(frozen=True, slots=True)
class LogChunk:
    content: str
    offset: int  # where the next read starts
    exists: bool


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = raw["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ParamValidationError(f"malformed continuation token {token!r}", param="token") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ParamValidationError(f"malformed continuation token {token!r}", param="token")
    if offset > MAX_OFFSET:
        raise RefusedInputError(f"token: its offset {offset} is past the largest file offset", field="token")
    return offset


def log_path(base_folder: Path, key: TaskInstanceKey, try_number: int) -> Path:
    # Ids come from the URL: a path that would escape the log folder names no log.
    try:
        return task_log_path(base_folder, key, try_number)
    except UnsafePathError:
        raise NotFoundError(f"no log for {key} try {try_number}", kind="log", ident=str(key)) from None


def read_chunk(path: Path, offset: int, limit: int = CHUNK_BYTES) -> LogChunk:
    """Up to ``limit`` bytes from ``offset`` (``limit=-1``: to the end)."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(limit)
    except FileNotFoundError:
        return LogChunk(content="", offset=offset, exists=False)
    # Stop at the last full line, and never inside a UTF-8 character a writer is halfway through: the rest
    # is sent on the next read.
    if limit > 0 and len(data) == limit and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
    consumed = _whole_characters(data)
    text = data[:consumed].decode("utf-8", errors="replace")
    return LogChunk(content=text, offset=offset + consumed, exists=True)


def _whole_characters(data: bytes) -> int:
    """Length of the longest prefix of ``data`` that does not end inside a multi-byte UTF-8 character."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: keep looking for the lead byte
            continue
        need = 1 if byte < 0x80 else 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4
        return len(data) if back >= need or byte < 0x80 else len(data) - back
    return len(data)
