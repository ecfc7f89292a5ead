"""BranchDayOfWeekOperator: follow one list of tasks on the given days of the week, another on the others."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.branch import BaseBranchOperator
from tradewind.sdk.weekday import WeekDay


class BranchDayOfWeekOperator(BaseBranchOperator):
    """``follow_task_ids_if_true`` when today (in the DAG's time zone), or the run's logical date with
    ``use_task_logical_date=True``, is one of ``week_day`` (``"Monday"``, ``{"Saturday", "Sunday"}``,
    ``WeekDay.FRIDAY``, ``{WeekDay.SATURDAY, WeekDay.SUNDAY}``), else ``follow_task_ids_if_false``."""

    def __init__(
        self,
        *,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        week_day: str | WeekDay | Iterable[str | WeekDay],
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        try:
            self._week_day_numbers = WeekDay.validate_week_day(week_day)
        except (AttributeError, TypeError) as exc:
            raise DagDefinitionError(
                f"BranchDayOfWeekOperator(task_id={kwargs.get('task_id')!r}): week_day: {exc}"
            ) from None
        self.week_day = week_day
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.use_task_logical_date = use_task_logical_date
        super().__init__(**kwargs)

    def choose_branch(self, context: Mapping[str, Any]) -> str | Iterable[str]:
        if self.use_task_logical_date:
            day: datetime = context["logical_date"]
        else:
            day = datetime.now(UTC).astimezone(ZoneInfo(self.dag.timezone))
        if day.isoweekday() in self._week_day_numbers:
            return self.follow_task_ids_if_true
        return self.follow_task_ids_if_false
