"""Failed-login rate limiting: at most N failures per minute per (username, client address), counted in the
metadata database so that every webserver process and replica enforces one limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.clock import utcnow
from tradewind.sdk.errors import AuthenticationError
from tradewind.store import login_failures
from tradewind.store.engine import transaction

WINDOW = timedelta(seconds=60)


class TooManyLoginAttempts(AuthenticationError):
    """Too many failed logins for one user from one address within the window."""


class LoginRateLimiter:
    def __init__(
        self,
        limit_per_minute: int,
        *,
        read_factory: sessionmaker[Session],
        write_factory: sessionmaker[Session],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.limit = limit_per_minute
        self._read = read_factory
        self._write = write_factory
        self._clock = clock

    def check(self, username: str, address: str) -> int:
        """Raise TooManyLoginAttempts when this user and address used up their failures for the window;
        otherwise return how many they have had in it."""
        now = self._clock()
        with self._read() as session:
            count, oldest = login_failures.failures_since(
                session=session, username=username, address=address, window_start=now - WINDOW
            )
        if count >= self.limit and oldest is not None:
            retry = int((oldest + WINDOW - now).total_seconds()) + 1
            raise TooManyLoginAttempts(f"too many failed logins for {username!r}; try again in {retry} seconds")
        return count

    def record_failure(self, username: str, address: str) -> None:
        now = self._clock()
        with transaction(self._write) as session:
            login_failures.record_failure(
                session=session, username=username, address=address, now=now, window_start=now - WINDOW
            )

    def reset(self, username: str, address: str) -> None:
        with transaction(self._write) as session:
            login_failures.clear_failures(session=session, username=username, address=address)
