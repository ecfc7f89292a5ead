"""Whether a process of this host still runs: a zombie (ended, not yet reaped by its parent) does not."""

from __future__ import annotations

import os


def process_running(pid: int) -> bool:
    """True while ``pid`` exists and has not ended. A process that ended but whose parent has not reaped it
    yet is a zombie: it still answers signal 0 but runs nothing and holds no socket. Without /proc (not
    Linux), a zombie counts as running."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process: it exists
            return True
        return True
    return state not in ("Z", "X")
