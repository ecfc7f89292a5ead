"""Timetables with no period: ``None`` (manual runs only), ``"@once"`` and ``"@continuous"``."""

from __future__ import annotations

from collections.abc import Sequence

from tradewind.sdk.timetables.base import (
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
    evaluation_time,
)


class _TrivialTimetable(Timetable):
    periodic = False
    run_ordering: Sequence[str] = ("logical_date",)


class NullTimetable(_TrivialTimetable):
    """``schedule=None``: runs are only triggered by hand, the API or another DAG."""

    type_name = "none"
    can_be_scheduled = False
    description = "Never, external triggers only"

    @property
    def summary(self) -> str:
        return "None"

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        return None


class OnceTimetable(_TrivialTimetable):
    """``schedule="@once"``: one scheduled run, at the start date (or as soon as possible)."""

    type_name = "once"
    description = "Once, as soon as possible"

    @property
    def summary(self) -> str:
        return "@once"

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        if last_automated_data_interval is not None:
            return None
        run_after = restriction.earliest or evaluation_time()
        if restriction.latest is not None and run_after > restriction.latest:
            return None
        return DagRunInfo.exact(run_after)


class ContinuousTimetable(_TrivialTimetable):
    """``schedule="@continuous"``: a new run as soon as the previous one ends, one at a time."""

    type_name = "continuous"
    description = "As frequently as possible, but only one run at a time."
    active_runs_limit = 1

    @property
    def summary(self) -> str:
        return "@continuous"

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        now = evaluation_time()
        start_date = restriction.earliest or now
        last = last_automated_data_interval
        if last is None:
            start, end = start_date, max(start_date, now)
        elif last.end > now:  # the start date is in the future
            start, end = start_date, start_date + (last.end - last.start)
        else:
            start, end = last.end, now
        if restriction.latest is not None and end > restriction.latest:
            return None
        return DagRunInfo.interval(start, end)
