"""Riding out metadata-database trouble in a service loop (scheduler, DAG processor, triggerer alike): a
transient error pauses the loop with ``core.outage``'s backoff; the process gives up (exits with the error)
only when the database stays unusable for ``database.outage_timeout`` seconds (ADR 0021)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from tradewind.core.outage import Outage
from tradewind.store.transient_errors import describe, is_transient

log = logging.getLogger(__name__)


class DatabaseOutage:
    """``failed`` returns how long to pause before the next iteration, or raises the error when it is not
    transient or failures have lasted ``give_up_after`` seconds; ``recovered`` after an iteration that
    committed. ``what`` names the loop in the log."""

    def __init__(
        self, *, give_up_after: float, what: str = "scheduler", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.what = what
        self._outage = Outage(give_up_after, clock=clock)

    @property
    def failures(self) -> int:
        return self._outage.failures

    def failed(self, exc: BaseException) -> float:
        if not is_transient(exc):
            raise exc
        pause = self._outage.failed()
        if pause is None:
            log.error(
                "the metadata database has failed every %s iteration for %.0f s (database.outage_timeout); "
                "giving up: %s",
                self.what,
                self._outage.lasted,
                describe(exc),
            )
            raise exc
        log.warning(
            "%s iteration rolled back (%s); retrying in %.1f s (failure %d)",
            self.what,
            describe(exc),
            pause,
            self._outage.failures,
        )
        return pause

    def recovered(self) -> bool:
        """True when this ends an outage (the iteration before failed)."""
        lasted = self._outage.lasted
        failures = self._outage.recovered()
        if failures:
            log.info(
                "the metadata database is usable again after %.1f s (%d failed %s iterations)",
                lasted,
                failures,
                self.what,
            )
        return bool(failures)
