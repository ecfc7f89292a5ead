"""Login rate limiting, counted in the metadata database so every webserver process and replica enforces
one limit: at most N attempts per minute per (username, client address), and 10 N per client address
whatever the usernames. An attempt is counted before its password is checked (one atomic step), and a
successful login takes back its user's attempts from that address.

There is deliberately no limit per username alone: anyone could then lock any user out. The client address is
the one resolved through ``[webserver] forwarded_allow_ips``, so users behind one trusted proxy are told apart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.clock import utcnow
from tradewind.sdk.errors import AuthenticationError
from tradewind.store import login_failures
from tradewind.store.engine import transaction

WINDOW = timedelta(seconds=60)
#: The per-address limit, as a multiple of the per-(user, address) one.
ADDRESS_LIMIT_FACTOR = 10


class TooManyLoginAttempts(AuthenticationError):
    """Too many logins for one user from one address, or from one address, within the window."""


class LoginRateLimiter:
    def __init__(
        self,
        limit_per_minute: int,
        *,
        write_factory: sessionmaker[Session],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.limit = limit_per_minute
        self.address_limit = limit_per_minute * ADDRESS_LIMIT_FACTOR
        self._write = write_factory
        self._clock = clock

    def admit(self, username: str, address: str) -> None:
        """Count this attempt, or raise TooManyLoginAttempts (and count nothing) when the window is used up."""
        now = self._clock()
        window_start = now - WINDOW
        with transaction(self._write) as session:
            if login_failures.admit_attempt(
                session=session,
                username=username,
                address=address,
                now=now,
                window_start=window_start,
                per_user_and_address=self.limit,
                per_address=self.address_limit,
            ):
                return
            by_user = login_failures.attempts_since(
                session=session, address=address, window_start=window_start, username=username
            )
            limited_user = username if by_user >= self.limit else None
            oldest = login_failures.oldest_attempt(
                session=session, address=address, window_start=window_start, username=limited_user
            )
        retry = int(((oldest or now) + WINDOW - now).total_seconds()) + 1
        whom = f"for {username!r}" if limited_user is not None else f"from {address}"
        raise TooManyLoginAttempts(f"too many failed logins {whom}; try again in {retry} seconds")

    def succeeded(self, username: str, address: str) -> None:
        """The user logged in from this address: their attempts from it no longer count."""
        with transaction(self._write) as session:
            login_failures.clear_failures(session=session, username=username, address=address)
