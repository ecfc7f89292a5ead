"""SIGTERM and SIGINT ask a service to stop: they set its ``stop`` event, through a pipe and a thread.

A handler must not set the event itself: ``Event.set`` takes a lock, and a second signal arriving while the
first handler holds it (a service manager's SIGTERM, the parent-death signal, a Ctrl-C, close together) runs
the handler again in the same thread, which then waits for that lock for ever. A forked DAG processor of
`standalone` was found hung so: four nested handlers deep, orphaned, holding its database files. The handler
here only writes a byte (no lock); a daemon thread sets the event.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType


def install_stop_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop``: the service ends its iteration and shuts down cleanly."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)

    def relay() -> None:
        os.read(read_end, 1)
        stop.set()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):  # a full pipe has said it already
            os.write(write_end, b"!")

    threading.Thread(target=relay, name="stop-signals", daemon=True).start()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
