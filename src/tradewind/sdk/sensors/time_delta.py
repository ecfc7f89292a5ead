"""TimeDeltaSensor: wait until a delta after the run's data interval end (or its logical date)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.python import emit
from tradewind.sdk.sensors.base import TRIGGER_ONLY_ARGUMENTS, BaseSensorOperator, utcnow


class TimeDeltaSensor(BaseSensorOperator):
    """Done once ``data_interval_end + delta`` (the logical date when the run has no interval) has passed."""

    def __init__(self, *, delta: timedelta, **kwargs: Any) -> None:
        if not isinstance(delta, timedelta):
            raise DagDefinitionError(
                f"{type(self).__name__}(task_id={kwargs.get('task_id')!r}): delta must be a timedelta"
            )
        self.delta = delta
        super().__init__(**kwargs)

    def target(self, context: Mapping[str, Any]) -> datetime:
        base: datetime | None = context.get("data_interval_end") or context.get("logical_date")
        return (base or utcnow()) + self.delta

    def condition_due(self, context: Mapping[str, Any]) -> datetime | None:
        return self.target(context)

    def poke(self, context: Mapping[str, Any]) -> bool:
        target = self.target(context)
        emit(f"Checking if the time ({target.isoformat()}) has come")
        return utcnow() > target


class TimeDeltaSensorAsync(TimeDeltaSensor):
    """The deferrable form: it defers on a DateTimeTrigger until its moment (the triggerer waits, not a slot)."""

    def __init__(self, **kwargs: Any) -> None:
        for name in TRIGGER_ONLY_ARGUMENTS:  # they steer the triggerer, which Tradewind does not have yet
            kwargs.pop(name, None)
        kwargs["deferrable"] = True
        super().__init__(**kwargs)
