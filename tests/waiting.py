"""Waiting for the state a user relies on: poll a check until it holds, with a deadline and a message.

Every test that waits calls ``wait_for``; a bare sleep or a hand-written loop is a flake waiting to happen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    check: Callable[[], T | None],
    *,
    what: str,
    timeout: float = 20.0,
    interval: float = 0.05,
    ignoring: tuple[type[Exception], ...] = (),
    details: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` until it returns something truthy, and return that.

    After ``timeout`` seconds the test fails naming ``what`` it waited for, the last value (or ignored
    error) seen, and ``details()`` (a server's log, say) when given. Errors of the ``ignoring`` types count
    as "not yet" (a server still starting); any other error fails the test at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except ignoring as exc:
            last: object = exc
        else:
            if value:
                return value
            last = value
        if time.monotonic() > deadline:
            extra = f"\n{details()}" if details is not None else ""
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {last!r}{extra}")
        time.sleep(interval)
