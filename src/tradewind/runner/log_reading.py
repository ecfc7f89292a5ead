"""Reading a try's log file, and following it while the try runs (`tradewind tasks logs --follow`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: How often a follower looks for new lines and asks whether the try has ended.
POLL_SECONDS = 0.2


def copy_log(path: Path, out: BinaryIO, *, offset: int = 0) -> int:
    """Write the file from ``offset`` to ``out``; returns the new offset."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        while chunk := handle.read(65536):
            out.write(chunk)
            offset += len(chunk)
    out.flush()
    return offset


def follow_log(
    path: Path,
    out: BinaryIO,
    *,
    try_running: Callable[[], bool],
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Copy the log as it grows until the try has ended (``try_running()`` is False) and the file has
    stopped growing. Waits for the file to appear while the try has not started writing it."""
    offset = 0
    while True:
        running = try_running()
        if path.exists():
            before = offset
            offset = copy_log(path, out, offset=offset)
            if not running and offset == before:
                return
        elif not running:
            return
        sleep(poll_seconds)
