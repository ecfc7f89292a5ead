"""DateTimeSensor: wait until a moment (templated), e.g. ``"{{ macros.ds_add(ds, 1) }}T10:00:00"``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError
from tradewind.sdk.operators.python import emit
from tradewind.sdk.sensors.base import TRIGGER_ONLY_ARGUMENTS, BaseSensorOperator, utcnow


def parse_moment(value: Any, *, task_id: str) -> datetime:
    """A datetime or an ISO 8601 string as an aware datetime (naive ones are UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise TaskExecutionError(
                f"task {task_id!r}: target_time {value!r} is not an ISO 8601 date"
            ) from exc
    else:
        raise TaskExecutionError(
            f"task {task_id!r}: target_time must be a str or a datetime, got {type(value).__name__}"
        )
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class DateTimeSensor(BaseSensorOperator):
    """Done once ``target_time`` (a datetime, or a templated ISO 8601 string) has passed."""

    template_fields: Sequence[str] = ("target_time",)

    def __init__(self, *, target_time: str | datetime, **kwargs: Any) -> None:
        if not isinstance(target_time, str | datetime):
            raise DagDefinitionError(
                f"{type(self).__name__}(task_id={kwargs.get('task_id')!r}): target_time must be a str or a "
                f"datetime, got {type(target_time).__name__}"
            )
        self.target_time: str | datetime = target_time
        super().__init__(**kwargs)

    def condition_due(self, context: Mapping[str, Any]) -> datetime | None:
        return parse_moment(self.target_time, task_id=self.task_id)

    def poke(self, context: Mapping[str, Any]) -> bool:
        moment = parse_moment(self.target_time, task_id=self.task_id)
        emit(f"Checking if the time ({moment.isoformat()}) has come")
        return utcnow() > moment


class DateTimeSensorAsync(DateTimeSensor):
    """The deferrable form: it defers on a DateTimeTrigger until its moment (the triggerer waits, not a slot)."""

    def __init__(self, **kwargs: Any) -> None:
        for name in TRIGGER_ONLY_ARGUMENTS:  # they steer the triggerer, which Tradewind does not have yet
            kwargs.pop(name, None)
        kwargs["deferrable"] = True
        super().__init__(**kwargs)
