"""LatestOnlyOperator: let downstream tasks run only in the run of the latest scheduled interval."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tradewind.sdk.operators.branch import BaseBranchOperator
from tradewind.sdk.operators.python import emit
from tradewind.sdk.timetables.base import DataInterval, TimeRestriction


class LatestOnlyOperator(BaseBranchOperator):
    """Skips its direct downstream tasks unless the current time falls in this run's window: after the
    start of its data interval and no later than the end of the next scheduled run's interval.

    A manually triggered run always proceeds, and so does the last run a timetable will ever make, as in
    Airflow 3. Tasks further downstream follow through their trigger rules.
    """

    ui_color = "#e9ffdb"

    def choose_branch(self, context: Mapping[str, Any]) -> list[str]:
        everything = sorted(self.downstream_task_ids)
        dag_run = context["dag_run"]
        if dag_run.run_type == "manual":
            emit("Manually triggered run: downstream tasks proceed")
            return everything
        window = self.latest_window(dag_run)
        if window is None:
            emit("No later scheduled run: downstream tasks proceed")
            return everything
        now = datetime.now(UTC)
        left, right = window
        emit(f"Latest-only window: ({left.isoformat()}, {right.isoformat()}]; now {now.isoformat()}")
        if left < now <= right:
            emit("This is the latest run: downstream tasks proceed")
            return everything
        emit("Not the latest run: skipping downstream tasks")
        return []

    def latest_window(self, dag_run: Any) -> tuple[datetime, datetime] | None:
        """``(start of this run's interval, end of the next scheduled run's interval)``, or None when the
        timetable schedules nothing after this run."""
        logical = dag_run.logical_date
        start = dag_run.data_interval_start or logical
        end = dag_run.data_interval_end or logical
        current = DataInterval(start, end)
        after = TimeRestriction(earliest=end, latest=None, catchup=True)
        following = self.dag.timetable.next_dagrun_info(
            last_automated_data_interval=current, restriction=after
        )
        if following is None:
            return None
        return start, following.data_interval.end
