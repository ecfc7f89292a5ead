"""Schedules as timetables: when runs are due and which data interval each one covers.

A run for the interval ``[start, end)`` is created once ``end`` has passed (``run_after``), and its logical
date is ``start``, as in Airflow. Timetables serialise to small dicts so the scheduler can rebuild them
without importing the DAG file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tradewind.sdk.errors import DagDefinitionError

PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


@dataclass(frozen=True, slots=True)
class DataInterval:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class DagRunInfo:
    logical_date: datetime
    data_interval: DataInterval
    run_after: datetime


class Timetable(ABC):
    periodic: bool = True
    description: str = ""

    @abstractmethod
    def next_dagrun_info(
        self,
        *,
        last_interval: DataInterval | None,
        start_date: datetime | None,
        end_date: datetime | None,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        """The next scheduled run after ``last_interval`` (None: no scheduled run yet), or None if none."""

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval(run_after, run_after)

    @abstractmethod
    def to_dict(self) -> dict[str, Any]: ...


class NullTimetable(Timetable):
    """``schedule=None``: manual triggers only."""

    periodic = False
    description = "None"

    def next_dagrun_info(self, **_: Any) -> DagRunInfo | None:
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "none"}


class OnceTimetable(Timetable):
    periodic = False
    description = "@once"

    def next_dagrun_info(
        self,
        *,
        last_interval: DataInterval | None,
        start_date: datetime | None,
        end_date: datetime | None,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        if last_interval is not None or start_date is None:
            return None
        return DagRunInfo(start_date, DataInterval(start_date, start_date), start_date)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "once"}


class CronTimetable(Timetable):
    def __init__(self, expression: str, timezone: str = "UTC") -> None:
        from croniter import croniter

        self.expression = PRESETS.get(expression, expression)
        self.original = expression
        self.timezone = timezone
        self.description = expression
        if not croniter.is_valid(self.expression):
            raise DagDefinitionError(f"invalid cron expression {expression!r} in schedule")
        try:
            self._tz = ZoneInfo(timezone)
        except Exception as exc:
            raise DagDefinitionError(f"unknown time zone {timezone!r}") from exc

    def _next(self, after: datetime, *, inclusive: bool = False) -> datetime:
        from croniter import croniter

        local = after.astimezone(self._tz)
        if (
            inclusive
            and croniter.match(self.expression, local)
            and local.second == 0
            and local.microsecond == 0
        ):
            return local.astimezone(UTC)
        nxt: datetime = croniter(self.expression, local).get_next(datetime)
        return nxt.astimezone(UTC)

    def _prev(self, before: datetime) -> datetime:
        from croniter import croniter

        prv: datetime = croniter(self.expression, before.astimezone(self._tz)).get_prev(datetime)
        return prv.astimezone(UTC)

    def _latest_complete_start(self, now: datetime) -> datetime:
        end = self._next(now, inclusive=True) if self._is_point(now) else self._prev(now)
        return self._prev(end)

    def _is_point(self, value: datetime) -> bool:
        from croniter import croniter

        local = value.astimezone(self._tz)
        return bool(croniter.match(self.expression, local)) and local.second == 0 and local.microsecond == 0

    def next_dagrun_info(
        self,
        *,
        last_interval: DataInterval | None,
        start_date: datetime | None,
        end_date: datetime | None,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        if start_date is None:
            return None
        earliest = self._next(start_date, inclusive=True)
        start = (
            earliest
            if last_interval is None
            else max(earliest, self._next(last_interval.end, inclusive=True))
        )
        if not catchup:
            start = max(start, self._latest_complete_start(now))
        if end_date is not None and start > end_date:
            return None
        end = self._next(start)
        return DagRunInfo(start, DataInterval(start, end), end)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        end = run_after if self._is_point(run_after) else self._prev(run_after)
        return DataInterval(self._prev(end), end)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "cron", "expression": self.original, "timezone": self.timezone}


class DeltaTimetable(Timetable):
    def __init__(self, delta: timedelta) -> None:
        if delta <= timedelta(0):
            raise DagDefinitionError(f"schedule timedelta must be positive, got {delta}")
        self.delta = delta
        self.description = f"every {delta}"

    def next_dagrun_info(
        self,
        *,
        last_interval: DataInterval | None,
        start_date: datetime | None,
        end_date: datetime | None,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        if start_date is None:
            return None
        start = start_date if last_interval is None else max(start_date, last_interval.end)
        if not catchup and start + self.delta <= now:
            # Skip to the latest complete interval on the same grid.
            steps = (now - start) // self.delta
            start = start + (steps - 1) * self.delta if steps >= 1 else start
        if end_date is not None and start > end_date:
            return None
        end = start + self.delta
        return DagRunInfo(start, DataInterval(start, end), end)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval(run_after - self.delta, run_after)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "delta", "seconds": self.delta.total_seconds()}


def timetable_from_schedule(schedule: object, timezone: str = "UTC") -> Timetable:
    """Build a timetable from what a DAG author passes as ``schedule=``."""
    if isinstance(schedule, Timetable):
        return schedule
    if schedule is None or schedule == "@none":
        return NullTimetable()
    if schedule == "@once":
        return OnceTimetable()
    if isinstance(schedule, timedelta):
        return DeltaTimetable(schedule)
    if isinstance(schedule, str):
        return CronTimetable(schedule, timezone)
    raise DagDefinitionError(
        f"schedule must be a cron string, a preset, a timedelta or None; got {type(schedule).__name__}"
    )


def timetable_from_dict(data: dict[str, Any]) -> Timetable:
    kind = data.get("type")
    if kind == "none":
        return NullTimetable()
    if kind == "once":
        return OnceTimetable()
    if kind == "cron":
        return CronTimetable(data["expression"], data.get("timezone", "UTC"))
    if kind == "delta":
        return DeltaTimetable(timedelta(seconds=float(data["seconds"])))
    raise DagDefinitionError(f"unknown timetable type {kind!r}")
