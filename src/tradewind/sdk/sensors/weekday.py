"""DayOfWeekSensor: wait until today (or the run's logical date) is one of the given days of the week."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.python import emit
from tradewind.sdk.sensors.base import BaseSensorOperator, utcnow
from tradewind.sdk.weekday import WeekDay


class DayOfWeekSensor(BaseSensorOperator):
    """``week_day``: ``"Monday"``, ``{"Saturday", "Sunday"}``, ``WeekDay.FRIDAY`` ...; with
    ``use_task_logical_date=True`` the run's logical date is checked instead of today."""

    def __init__(
        self, *, week_day: str | WeekDay | Iterable[str | WeekDay], use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        try:
            self._week_day_numbers = WeekDay.validate_week_day(week_day)
        except (AttributeError, TypeError) as exc:
            raise DagDefinitionError(
                f"DayOfWeekSensor(task_id={kwargs.get('task_id')!r}): week_day: {exc}"
            ) from None
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date
        super().__init__(**kwargs)

    def poke(self, context: Mapping[str, Any]) -> bool:
        if self.use_task_logical_date:
            day: datetime = context["logical_date"]
        else:
            day = utcnow().astimezone(ZoneInfo(self.dag.timezone if self.has_dag() else "UTC"))
        emit(f"Poking until weekday is in {self.week_day}; the day checked is {day.strftime('%A')}")
        return day.isoweekday() in self._week_day_numbers
