"""Time: UTC-aware now() for dates, a monotonic reading for durations, and a frozen clock for tests.

A date that another process reads (a heartbeat, a run's logical date, a retry time) is wall-clock time; a
duration this process measures (a timeout, how long a heartbeat went unchanged) is monotonic time, which an
NTP step does not move (ADR 0015)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Interpret naive datetimes as UTC (as the database returns them on SQLite)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    def monotonic(self) -> float:
        return time.monotonic()


class FrozenClock:
    """A clock that moves only when told to: ``advance`` moves both readings (time passes), ``set`` and ``step``
    only the wall clock (an NTP step, or a test placing itself at a date)."""

    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start)
        self._monotonic = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        self._monotonic += delta.total_seconds()
        return self._now

    def set(self, value: datetime) -> None:
        self._now = as_utc(value)

    def step(self, delta: timedelta) -> datetime:
        """The wall clock jumps by ``delta`` (forward or back); no time passes."""
        self._now += delta
        return self._now
