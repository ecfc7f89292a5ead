"""Which metadata-database errors are worth retrying: a deadlock or serialization failure (PostgreSQL rolls
one transaction back and the other goes on), a lock wait that timed out (SQLite), a lost connection."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from tradewind.store.engine import transaction

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """True when running the same transaction again may succeed."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def describe(exc: BaseException) -> str:
    """The first line of the driver's message, without SQLAlchemy's statement dump."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def db_retries(*, attempts: int = 5) -> Retrying:
    """Retry a transaction that failed transiently, with jittered exponential backoff::

        for attempt in db_retries():
            with attempt, transaction(factory) as session:
                ...

    Use it for short transactions whose loss would cost more than a retry (a try's claim or outcome);
    the body must be safe to run again after a rollback.
    """
    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=0.05, max=2.0),
        before_sleep=_log_retry,
        reraise=True,
    )


def in_retried_transaction(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """``work(session)`` in one transaction, run again from the start after a transient failure."""
    for attempt in db_retries():
        with attempt, transaction(factory) as session:
            return work(session)
    raise AssertionError("unreachable: db_retries re-raises the last error")


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    log.warning(
        "metadata database transaction rolled back (%s); retrying (attempt %d)",
        describe(exc) if exc else "?",
        state.attempt_number + 1,
    )
