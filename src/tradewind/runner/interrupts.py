"""Interrupting running task code: the execution timeout (SIGALRM) and termination (SIGTERM).

Both are raised into the main thread as ``BaseException`` subclasses, so task code that catches
``Exception`` cannot swallow them. The execution timeout shares the process's one real-time timer with an
alarm set before it (by task code, an outer timeout, a test runner): that alarm still fires at its time.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


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
    An alarm already set when the block starts is kept: if it falls due during the block its own handler
    runs then (as it would have without the timeout), and when the block ends the timer and handler are put
    back with the time spent taken off, so it fires when it would have (at once, should it be due by then).
    """
    if not seconds or seconds <= 0 or not in_main_thread():
        yield
        return
    alarm = _SharedAlarm(seconds)
    alarm.arm()
    try:
        yield
    finally:
        alarm.disarm()


#: What ``signal.signal`` accepts and returns for a handler (None: one not set from Python).
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class _SharedAlarm:
    """The execution timeout's deadline on ITIMER_REAL, beside the outer alarm that was set before it.

    The timer is armed for whichever of the two is due first; ``_outer_first`` says which that was.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline = 0.0
        self._outer_handler: _Handler = None
        self._outer_due: float | None = None
        self._outer_interval = 0.0
        self._outer_first = False
        self._ending = False

    def arm(self) -> None:
        now = time.monotonic()
        remaining, self._outer_interval = signal.setitimer(signal.ITIMER_REAL, 0)  # stopped while we swap
        self._outer_due = now + remaining if remaining > 0 else None
        self._deadline = now + self.seconds
        try:  # signal.signal runs a SIGALRM still pending first, with the handler it belongs to
            self._outer_handler = signal.signal(signal.SIGALRM, self._on_alarm)
        except BaseException:
            signal.setitimer(signal.ITIMER_REAL, max(remaining, 0.0), self._outer_interval)
            raise
        self._rearm(time.monotonic())

    def disarm(self) -> None:
        self._ending = True  # from here a SIGALRM is ignored by _on_alarm: the outer one is settled below
        signal.setitimer(signal.ITIMER_REAL, 0)
        handler = self._outer_handler  # signal.signal runs a SIGALRM still pending (to _on_alarm) first
        signal.signal(signal.SIGALRM, signal.SIG_DFL if handler is None else handler)
        if self._outer_due is None:
            return
        left = self._outer_due - time.monotonic()
        if left > 0:
            signal.setitimer(signal.ITIMER_REAL, left, self._outer_interval)
            return
        if self._outer_interval > 0:
            signal.setitimer(signal.ITIMER_REAL, self._outer_interval, self._outer_interval)
        signal.raise_signal(signal.SIGALRM)  # due already: deliver it now, to the handler just put back

    def _rearm(self, now: float) -> None:
        self._outer_first = self._outer_due is not None and self._outer_due <= self._deadline
        due = self._outer_due if self._outer_first and self._outer_due is not None else self._deadline
        signal.setitimer(signal.ITIMER_REAL, max(due - now, 1e-6))

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        if self._ending:
            return  # the block is over: no timeout, and disarm() settles the outer alarm
        if not self._outer_first:
            raise ExecutionTimeout(self.seconds)
        self._deliver_outer(signum, frame)

    def _deliver_outer(self, signum: int, frame: FrameType | None) -> None:
        """Run the outer alarm's handler now, as the kernel would have; it may raise into the task code, or
        set a new alarm (which is kept as the outer alarm)."""
        assert self._outer_due is not None
        self._outer_due = self._outer_due + self._outer_interval if self._outer_interval > 0 else None
        handler = self._outer_handler
        try:
            if callable(handler):
                handler(signum, frame)
            elif handler in (signal.SIG_DFL, None):
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                signal.raise_signal(signal.SIGALRM)  # the default action ends the process
        finally:
            remaining, interval = signal.setitimer(signal.ITIMER_REAL, 0)
            now = time.monotonic()
            if remaining > 0:  # the handler set an alarm of its own
                self._outer_due, self._outer_interval = now + remaining, interval
            self._rearm(now)
