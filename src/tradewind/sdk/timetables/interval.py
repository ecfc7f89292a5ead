"""Data-interval timetables (Airflow 2's meaning of a schedule): a run covers ``[start, end)`` of one
period and is created once the period has ended; its logical date is the period's start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from dateutil.relativedelta import relativedelta

from tradewind.sdk.timetables.base import (
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
    evaluation_time,
)
from tradewind.sdk.timetables.cron import CronSchedule, CronSteps
from tradewind.sdk.timetables.delta import (
    Delta,
    DeltaSteps,
    check_positive,
    decode_delta,
    delta_summary,
    encode_delta,
)


class _DataIntervalTimetable(Timetable):
    """Shared stepping: subclasses say how to move one period and how to skip ahead without catchup."""

    def _get_next(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _get_prev(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _align_to_next(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _align_to_prev(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _skip_to_latest(self, earliest: datetime | None) -> datetime:
        raise NotImplementedError

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        earliest = restriction.earliest
        if not restriction.catchup:
            earliest = self._skip_to_latest(earliest)
        elif earliest is not None:
            earliest = self._align_to_next(earliest)
        last = last_automated_data_interval
        if last is None:
            if earliest is None:
                return None
            start = earliest
        else:
            # Realign: the schedule may have changed since the last run.
            start = self._align_to_prev(last.end)
            if earliest is not None:
                start = max(start, earliest)
            if start <= last.start:
                # A coarser schedule can realign onto the last run's start: step once past it.
                start = self._get_next(start)
                if start <= last.start:
                    from tradewind.sdk.errors import DagDefinitionError

                    raise DagDefinitionError(
                        f"{type(self).__name__} did not advance past {last.start.isoformat()}"
                    )
        if restriction.latest is not None and start > restriction.latest:
            return None
        return DagRunInfo.interval(start, self._get_next(start))


class CronDataIntervalTimetable(CronSteps, _DataIntervalTimetable):
    """``schedule="<cron>"`` with data intervals: each run covers the period between two ticks."""

    type_name = "cron"

    def __init__(self, cron: str, timezone: str | tzinfo = "UTC") -> None:
        self._cron = CronSchedule(cron, timezone)
        self.description = self._cron.description

    def _skip_to_latest(self, earliest: datetime | None) -> datetime:
        # Without catchup the newest run is the last *complete* period, unless now is right on a tick:
        # then it is the period that ends now.
        now = evaluation_time()
        last_start = self._get_prev(now)
        new_start = last_start if self._get_next(last_start) == now else self._get_prev(last_start)
        return new_start if earliest is None else max(new_start, self._align_to_next(earliest))

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        end = self._align_to_prev(run_after)
        return DataInterval(self._get_prev(end), end)

    def serialize(self) -> dict[str, Any]:
        return self._cron.to_dict()

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(data["expression"], data.get("timezone", "UTC"))


class DeltaDataIntervalTimetable(DeltaSteps, _DataIntervalTimetable):
    """``schedule=timedelta(...)`` or ``relativedelta(...)`` with data intervals of that length."""

    type_name = "delta"

    def __init__(self, delta: Delta) -> None:
        check_positive(delta)
        self._delta = delta
        self.description = f"every {delta_summary(delta)}"

    def _round(self, value: datetime, anchor: datetime) -> datetime:
        """The latest period boundary at or before ``value``: calendar deltas step from ``anchor``, fixed ones
        round on the epoch grid."""
        delta = self._delta
        if isinstance(delta, relativedelta) and (delta.months or delta.years):
            boundary = anchor
            while self._get_next(boundary) <= value:
                boundary = self._get_next(boundary)
            return boundary
        if isinstance(delta, timedelta):
            seconds = delta.total_seconds()
        else:
            seconds = (
                delta.days * 86400 + delta.hours * 3600 + delta.minutes * 60 + delta.seconds
            )
        stamp = value.timestamp()
        return datetime.fromtimestamp(stamp - (stamp % seconds), tz=UTC)

    def _skip_to_latest(self, earliest: datetime | None) -> datetime:
        now = evaluation_time()
        new_start = self._get_prev(self._round(now, earliest or now))
        return new_start if earliest is None else max(new_start, earliest)

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        return DataInterval(self._get_prev(run_after), run_after)

    def serialize(self) -> dict[str, Any]:
        return {"delta": encode_delta(self._delta)}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        if "delta" in data:
            return cls(decode_delta(data["delta"]))
        return cls(timedelta(seconds=float(data["seconds"])))  # stored before relativedelta support
