"""Which metadata-database errors are worth retrying, and one transaction retried through them.

Transient: a lost or refused connection (a restart, a failover, a proxy cutting connections), a deadlock or
serialization failure (PostgreSQL rolls one transaction back and the other goes on), SQLite's write lock not
had within its busy timeout, a write refused by a server that is not (or no longer) the primary, and a
prepared statement the server lost (PgBouncer in transaction mode after a server restart). The
backoff is ``core.outage``'s, the one policy every component uses (ADR 0021)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.outage import retry_through_outage
from tradewind.store.engine import transaction

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How long one request's transaction is retried inside a server (the execution API, the webserver) before
#: the caller is answered 503 and retries the whole call within its own outage window.
REQUEST_WINDOW = 5.0

#: SQLSTATEs a later attempt may cure though the driver does not call them operational errors: a write sent
#: to a server that is read-only (a primary demoted by a failover, a standby not yet promoted); a prepared
#: statement the server no longer has (26000: behind PgBouncer in transaction mode after a server restart,
#: the client's statement cache outlived the server's), which the rollback cures, as psycopg forgets its
#: prepared statements on ROLLBACK and prepares afresh.
_TRANSIENT_SQLSTATES = frozenset({"25006", "26000"})

#: What a PostgreSQL server answers a connection it will never accept, however long one waits: wrong
#: credentials, an unknown role or database, no pg_hba.conf line. libpq gives no SQLSTATE for a refused
#: connection, only the server's message (English unless the server's lc_messages says otherwise; a
#: translated one is waited for like an outage and still named when the window ends).
_REFUSED_FOR_GOOD = re.compile(
    r"FATAL:\s+(password authentication failed|no pg_hba\.conf entry|(role|database) \".*\" does not exist)"
)


def is_transient(exc: BaseException) -> bool:
    """True when running the same transaction again may succeed."""
    if isinstance(exc, OperationalError | InterfaceError):
        return not is_refused_for_good(exc)
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES


def is_refused_for_good(exc: BaseException) -> bool:
    """True for a connection the server refused for its credentials or names, which no retry cures."""
    return _REFUSED_FOR_GOOD.search(str(getattr(exc, "orig", None) or exc)) is not None


def describe(exc: BaseException) -> str:
    """The first line of the driver's message, without SQLAlchemy's statement dump."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def in_retried_transaction(
    factory: sessionmaker[Session], work: Callable[[Session], T], *, window: float = REQUEST_WINDOW
) -> T:
    """``work(session)`` in one transaction, run again from the start after a transient failure, for up to
    ``window`` seconds. ``work`` must be safe to run again after a rollback (or after a commit whose answer
    was lost: a compare-and-set that recognises its own earlier success)."""

    def once() -> T:
        with transaction(factory) as session:
            return work(session)

    return retry_through_outage(once, window=window, retryable=is_transient, on_retry=log_retry)


def log_retry(exc: BaseException, pause: float, failures: int) -> None:
    log.warning(
        "metadata database unusable (%s); retrying in %.1f s (failure %d)", describe(exc), pause, failures
    )
