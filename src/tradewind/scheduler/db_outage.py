"""Riding out metadata-database trouble in the scheduler loop: retry transient errors with backoff, and
give up (the process exits with the error) only when the database stays unusable for too long."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from tradewind.store.transient_errors import describe, is_transient

log = logging.getLogger(__name__)

#: Backoff after the first failure, and its ceiling.
FIRST_PAUSE, MAX_PAUSE = 0.1, 5.0


class DatabaseOutage:
    """Counts consecutive failed iterations. ``failed`` returns how long to pause before the next one, or
    raises the error when it is not transient or failures have lasted ``give_up_after`` seconds."""

    def __init__(self, *, give_up_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.give_up_after = give_up_after
        self.clock = clock
        self.failures = 0
        self.since: float | None = None

    def failed(self, exc: SQLAlchemyError) -> float:
        if not is_transient(exc):
            raise exc
        now = self.clock()
        if self.since is None:
            self.since = now
        self.failures += 1
        if now - self.since >= self.give_up_after:
            log.error(
                "the metadata database has failed every scheduler iteration for %.0f s; giving up: %s",
                now - self.since,
                describe(exc),
            )
            raise exc
        pause = min(FIRST_PAUSE * 2 ** (self.failures - 1), MAX_PAUSE)
        log.warning(
            "scheduler iteration rolled back (%s); retrying in %.1f s (failure %d)",
            describe(exc),
            pause,
            self.failures,
        )
        return pause

    def recovered(self) -> None:
        if self.failures:
            log.info("the metadata database is usable again after %d failed iterations", self.failures)
        self.failures = 0
        self.since = None
