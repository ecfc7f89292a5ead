"""Failed-login rate limiting: at most N failures per minute per (username, client address) in one process."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from tradewind.sdk.errors import AuthenticationError

WINDOW_SECONDS = 60.0
#: Keys kept at most, so a flood of invented usernames cannot grow memory without bound.
MAX_KEYS = 10_000


class TooManyLoginAttempts(AuthenticationError):
    """Too many failed logins for one user from one address within the window."""


class LoginRateLimiter:
    def __init__(self, limit_per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit_per_minute
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, username: str, address: str) -> None:
        """Raise TooManyLoginAttempts when this user and address used up their failures for the window."""
        with self._lock:
            window = self._window((username, address))
            if window is not None and len(window) >= self.limit:
                retry = int(WINDOW_SECONDS - (self._clock() - window[0])) + 1
                raise TooManyLoginAttempts(
                    f"too many failed logins for {username!r}; try again in {retry} seconds"
                )

    def record_failure(self, username: str, address: str) -> None:
        with self._lock:
            key = (username, address)
            window = self._window(key)
            if window is None:
                if len(self._failures) >= MAX_KEYS:
                    self._failures.pop(next(iter(self._failures)))
                window = self._failures[key] = deque()
            window.append(self._clock())

    def reset(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username, address), None)

    def _window(self, key: tuple[str, str]) -> deque[float] | None:
        window = self._failures.get(key)
        if window is None:
            return None
        cutoff = self._clock() - WINDOW_SECONDS
        while window and window[0] <= cutoff:
            window.popleft()
        if not window:
            del self._failures[key]
            return None
        return window
