"""Interrupting running task code: the execution timeout (SIGALRM) and termination (SIGTERM).

Both are raised into the main thread as ``BaseException`` subclasses, so task code that catches
``Exception`` cannot swallow them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class TaskInterrupt(BaseException):
    """Stops task code from outside; never raised by the code itself."""


class ExecutionTimeout(TaskInterrupt):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"execution_timeout of {seconds:g}s passed")
        self.seconds = seconds


class TaskTerminated(TaskInterrupt):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def execution_timeout(seconds: float | None) -> Iterator[None]:
    """Raise ExecutionTimeout in the main thread when the block runs longer than ``seconds``.

    A no-op without a timeout, or outside the main thread (signals are delivered only there).
    """
    if not seconds or seconds <= 0 or not in_main_thread():
        yield
        return

    def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
        raise ExecutionTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
