"""Time triggers: fire at a moment (DateTimeTrigger) or after a delay from now (TimeDeltaTrigger)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.sdk.triggers.base import BaseTrigger, TriggerEvent, classpath_of

#: The longest single sleep: a moment far away is approached in steps, so a clock jump is noticed.
MAX_SLEEP = 3600.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DateTimeTrigger(BaseTrigger):
    """Fires at ``moment`` (a timezone-aware datetime); the event's payload is the moment."""

    def __init__(self, moment: datetime, *, end_from_trigger: bool = False) -> None:
        super().__init__()
        if not isinstance(moment, datetime):
            raise TypeError(f"DateTimeTrigger expects a datetime, got {type(moment).__name__}")
        if moment.tzinfo is None:
            raise ValueError(
                "DateTimeTrigger needs a timezone-aware datetime (naive datetimes are ambiguous)"
            )
        self.moment = moment
        #: Accepted for Airflow's signature; the task always resumes in its method.
        self.end_from_trigger = end_from_trigger

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return classpath_of(DateTimeTrigger), {
            "moment": self.moment,
            "end_from_trigger": self.end_from_trigger,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while (remaining := (self.moment - _utcnow()).total_seconds()) > 0:
            await asyncio.sleep(min(remaining, MAX_SLEEP))
        self.log.info("%s has passed", self.moment.isoformat())
        yield TriggerEvent(self.moment)


class TimeDeltaTrigger(DateTimeTrigger):
    """Fires ``delta`` after it is created (in the task that defers): stored as a DateTimeTrigger, so the
    wait does not start again when the triggerer restarts."""

    def __init__(self, delta: timedelta, *, end_from_trigger: bool = False) -> None:
        if not isinstance(delta, timedelta):
            raise TypeError(f"TimeDeltaTrigger expects a timedelta, got {type(delta).__name__}")
        super().__init__(_utcnow() + delta, end_from_trigger=end_from_trigger)
