"""The one backoff policy for riding out a dependency that is briefly unusable (the metadata database, the
execution API): pauses that double from ``FIRST_PAUSE`` up to ``MAX_PAUSE``, for at most an outage window,
after which the last error is raised (ADR 0021).

Every component uses it, whatever it waits for: the scheduler, DAG processor and triggerer loops through
``Outage``; one transaction or one HTTP call through ``retry_through_outage``. What counts as "may succeed
if tried again" is the caller's ``retryable`` (``store.transient_errors.is_transient`` for the database).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: The pause after the first failure, and the ceiling the doubling stops at (seconds).
FIRST_PAUSE, MAX_PAUSE = 0.1, 5.0


class Outage:
    """Consecutive failures of one activity. ``failed()`` says how long to pause before the next attempt,
    or None once failures have lasted ``window`` seconds (then the caller gives up with its error)."""

    def __init__(self, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self.failures = 0
        self.since: float | None = None

    @property
    def lasted(self) -> float:
        """Seconds since the first of the current run of failures (0 when there is none)."""
        return 0.0 if self.since is None else self.clock() - self.since

    def failed(self) -> float | None:
        now = self.clock()
        if self.since is None:
            self.since = now
        self.failures += 1
        left = self.window - (now - self.since)
        if left <= 0:
            return None
        # The last pause ends at the window's end, so one more attempt is made right then.
        return min(FIRST_PAUSE * 2 ** (self.failures - 1), MAX_PAUSE, left)

    def recovered(self) -> int:
        """Forget the failures (the activity succeeded); returns how many there were."""
        failures, self.failures, self.since = self.failures, 0, None
        return failures


def jittered(pause: float, rng: Callable[[], float] = random.random) -> float:
    """Between half and all of ``pause``: many clients that failed together do not retry together."""
    return pause * (0.5 + rng() / 2)


def retry_through_outage(
    work: Callable[[], T],
    *,
    window: float,
    retryable: Callable[[BaseException], bool],
    on_retry: Callable[[BaseException, float, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``work()``, called again after a ``retryable`` error with jittered backoff for up to ``window``
    seconds; then, or at once for any other error, the error is raised. ``on_retry(error, pause, failures)``
    is told before each pause (to log it). ``work`` must be safe to run again after a failure."""
    outage = Outage(window, clock=clock)
    while True:
        try:
            return work()
        except Exception as exc:
            if not retryable(exc):
                raise
            pause = outage.failed()
            if pause is None:
                raise
            pause = jittered(pause)
            if on_retry is not None:
                on_retry(exc, pause, outage.failures)
            sleep(pause)
