"""BranchDateTimeOperator: follow one list of tasks when the time falls between two bounds, another if not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.branch import BaseBranchOperator

Bound = datetime | time | None


def bounds_on(day: datetime, lower: Bound, upper: Bound) -> tuple[datetime | None, datetime | None]:
    """The bounds as datetimes: a ``time`` falls on ``day``'s date; ``upper`` before ``lower`` (both times)
    means the window crosses midnight, so ``upper`` moves to the next day."""
    if isinstance(lower, datetime) and isinstance(upper, datetime):
        return lower, upper
    base: date = day.date()
    low = datetime.combine(base, lower) if isinstance(lower, time) else lower
    high = datetime.combine(base, upper) if isinstance(upper, time) else upper
    if low is not None and high is not None and high < low:
        high += timedelta(days=1)
    return low, high


class BranchDateTimeOperator(BaseBranchOperator):
    """``follow_task_ids_if_true`` when ``target_lower <= now <= target_upper`` (a missing bound is open),
    else ``follow_task_ids_if_false``. ``now`` is the current time, or the run's logical date with
    ``use_task_logical_date=True``. Naive bounds are read in the DAG's time zone."""

    def __init__(
        self,
        *,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        target_lower: datetime | time | None,
        target_upper: datetime | time | None,
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        if target_lower is None and target_upper is None:
            raise DagDefinitionError(
                f"BranchDateTimeOperator(task_id={kwargs.get('task_id')!r}): target_lower and target_upper "
                "are both None; give at least one bound"
            )
        self.target_lower = target_lower
        self.target_upper = target_upper
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.use_task_logical_date = use_task_logical_date
        super().__init__(**kwargs)

    def choose_branch(self, context: Mapping[str, Any]) -> str | Iterable[str]:
        if self.use_task_logical_date:
            now: datetime = context["logical_date"]
        else:
            now = datetime.now(UTC)
        tz = ZoneInfo(self.dag.timezone)
        lower, upper = bounds_on(now, self.target_lower, self.target_upper)
        lower = lower.replace(tzinfo=tz) if lower is not None and lower.tzinfo is None else lower
        upper = upper.replace(tzinfo=tz) if upper is not None and upper.tzinfo is None else upper
        if upper is not None and upper < now:
            return self.follow_task_ids_if_false
        if lower is not None and lower > now:
            return self.follow_task_ids_if_false
        return self.follow_task_ids_if_true
