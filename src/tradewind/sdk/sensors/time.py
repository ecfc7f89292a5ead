"""TimeSensor: wait until a time of day (in the DAG's time zone) on the day the poke runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.python import emit
from tradewind.sdk.sensors.base import TRIGGER_ONLY_ARGUMENTS, BaseSensorOperator, utcnow


class TimeSensor(BaseSensorOperator):
    """Done once ``target_time`` today (in the DAG's time zone, UTC without a DAG) has passed."""

    def __init__(self, *, target_time: time, **kwargs: Any) -> None:
        if not isinstance(target_time, time):
            raise DagDefinitionError(
                f"{type(self).__name__}(task_id={kwargs.get('task_id')!r}): target_time must be a "
                f"datetime.time, got {type(target_time).__name__}"
            )
        self.target_time = target_time
        super().__init__(**kwargs)

    def target_datetime(self) -> datetime:
        zone = ZoneInfo(self.dag.timezone if self.has_dag() else "UTC")
        today = utcnow().astimezone(zone).date()
        return datetime.combine(today, self.target_time.replace(tzinfo=None), zone)

    def condition_due(self, context: Mapping[str, Any]) -> datetime | None:
        return self.target_datetime()

    def poke(self, context: Mapping[str, Any]) -> bool:
        target = self.target_datetime()
        emit(f"Checking if the time ({target.isoformat()}) has come")
        return utcnow() > target


class TimeSensorAsync(TimeSensor):
    """The deferrable form: it defers on a DateTimeTrigger until its moment (the triggerer waits, not a slot)."""

    def __init__(self, **kwargs: Any) -> None:
        for name in TRIGGER_ONLY_ARGUMENTS:  # they steer the triggerer, which Tradewind does not have yet
            kwargs.pop(name, None)
        kwargs["deferrable"] = True
        super().__init__(**kwargs)
