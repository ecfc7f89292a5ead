"""A file's stamp: its modification time (in nanoseconds) and size, what "has it changed since?" compares."""

from __future__ import annotations

from pathlib import Path


def file_stamp(path: Path) -> tuple[int, int] | None:
    """``path``'s modification time and size; None when it cannot be read (missing, no permission)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
