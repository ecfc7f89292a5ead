"""What a try's log lost while its folder could not be written (a full disk, a quota, an I/O error): counts,
the first error, and the words that tell the user (in the log once space returns, in the try's reason)."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

#: Errors that mean "no room now": the try runs on without its log and writes again once there is room.
#: Any other error opening the log (a missing mount, no permission) fails the try before it starts.
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT})


def describe_error(exc: OSError) -> str:
    return f"[Errno {exc.errno}] {exc.strerror}" if exc.strerror else str(exc)


@dataclass(slots=True)
class LogLoss:
    """Lines the capture could not write to ``path``. ``pending`` counts those not yet reported in the file;
    ``total`` all of them over the try."""

    path: Path
    folder: Path
    error: str = ""
    since: str = ""
    pending_lines: int = 0
    pending_bytes: int = 0
    total_lines: int = 0
    total_bytes: int = 0

    #: True from the first line dropped until a line saying so is in the file.
    pending: bool = False

    def dropped(self, lines: int, size: int, exc: OSError | None, at: str) -> bool:
        """Count lines that could not be written (``exc``: why, None while waiting to try again); True when
        this starts a loss (the first since the last report), so the caller says so once."""
        starting = not self.pending
        if starting:
            self.pending = True
            self.error, self.since = describe_error(exc) if exc is not None else "unknown error", at
        elif exc is not None and not self.error:
            self.error = describe_error(exc)
        self.pending_lines += lines
        self.pending_bytes += size
        self.total_lines += lines
        self.total_bytes += size
        return starting

    def reported(self) -> None:
        self.pending = False
        self.pending_lines = self.pending_bytes = 0

    def marker(self, at: str) -> str:
        """The line written into the log where the lost lines were, once it can be written again."""
        return (
            f"*** {self.pending_lines} log lines ({self.pending_bytes} bytes) written between {self.since} and {at} "
            f"were dropped: the log folder {self.folder} could not be written ({self.error})"
        )

    def summary(self) -> str | None:
        """For the try's reason (the UI and the API show it): None when nothing was lost."""
        if not self.error:
            return None
        return (
            f"{self.total_lines} log lines ({self.total_bytes} bytes) were dropped: the log folder {self.folder} "
            f"could not be written ({self.error}); the log file is {self.path}"
        )

    def service_message(self) -> str:
        """For the runner's own stderr (the service log of whoever started it), once per loss."""
        return (
            f"tradewind: cannot write the task log {self.path}: the log folder {self.folder} could not be written "
            f"({self.error}); the try goes on and its log lines are dropped until there is room again"
        )
