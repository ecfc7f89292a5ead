"""Waiting for the metadata database when a service starts (the scheduler, DAG processor, triggerer,
`standalone`, `db migrate`): its first use of the database is retried through a transient error with
``core.outage``'s backoff for up to ``database.outage_timeout`` seconds, with one log line saying what waits
for which server; past the window, ``DatabaseUnavailableError`` names the setting (ADR 0021)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine

from tradewind.core.outage import retry_through_outage
from tradewind.sdk.errors import TradewindError
from tradewind.store.transient_errors import describe, is_transient

log = logging.getLogger(__name__)
T = TypeVar("T")


class DatabaseUnavailableError(TradewindError):
    """The metadata database stayed unreachable for the whole outage window while a service started."""


def server_address(engine: Engine) -> str:
    """Where the engine connects, without user or password: ``host:port/database`` (a file for SQLite)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"sqlite file {url.database or ':memory:'}"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def wait_for_database(engine: Engine, work: Callable[[], T], *, window: float, what: str) -> T:
    """``work()``, a service's first use of the database, run again after a transient error (refused,
    starting up, locked) for up to ``window`` seconds. ``work`` must be safe to run again after a failure.
    Any other error is raised at once; a transient one past the window as ``DatabaseUnavailableError``.
    SQLite is not waited for: there is no server to come back, and its lock has its own busy timeout."""
    if engine.dialect.name == "sqlite":
        return work()
    began = time.monotonic()
    waited = False

    def on_retry(exc: BaseException, _pause: float, failures: int) -> None:
        nonlocal waited
        if failures == 1:
            waited = True
            log.warning(
                "%s is waiting for the metadata database at %s, for up to %.0f s (database.outage_timeout): %s",
                what,
                server_address(engine),
                window,
                describe(exc),
            )

    try:
        result = retry_through_outage(work, window=window, retryable=is_transient, on_retry=on_retry)
    except Exception as exc:
        if not is_transient(exc):
            raise
        raise DatabaseUnavailableError(
            f"{what} gave up: the metadata database at {server_address(engine)} was unusable for "
            f"{time.monotonic() - began:.0f} s, past database.outage_timeout ({window:g} s): {describe(exc)}"
        ) from None
    if waited:
        log.info(
            "the metadata database at %s answered after %.1f s; %s goes on",
            server_address(engine),
            time.monotonic() - began,
            what,
        )
    return result
