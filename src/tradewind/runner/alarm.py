"""One call made after a delay by a thread a try has anyway (its log capture's reader), so that a try shorter
than the delay never starts a thread for it: the heartbeat thread is started this way (a thread's start and
join cost a forked try about a millisecond of CPU, a no-op try's whole budget being a few)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Alarm:
    """Due ``delay`` seconds after its creation. Whoever waits anyway (``LogCapture``'s reader) asks
    ``remaining()`` how long it may block and calls ``ring()`` once it is due; ``set()`` gives the call to
    make. A call set after the alarm rang is made at once, by the caller of ``set``."""

    def __init__(self, delay: float) -> None:
        self._due = time.monotonic() + delay
        self._lock = threading.Lock()
        self._action: Callable[[], None] | None = None
        self._rang = False

    def set(self, action: Callable[[], None]) -> None:
        with self._lock:
            if not self._rang:
                self._action = action
                return
        action()

    def remaining(self) -> float | None:
        """Seconds until it is due (0 when it is); None once it rang."""
        if self._rang:
            return None
        return max(0.0, self._due - time.monotonic())

    def ring(self) -> None:
        with self._lock:
            if self._rang:
                return
            self._rang = True
            action, self._action = self._action, None
        if action is not None:
            action()
