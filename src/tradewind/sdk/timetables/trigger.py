"""Trigger timetables (Airflow 3's meaning of a schedule): a run starts at each tick, like POSIX cron, and
its data interval is ``[tick - interval, tick]`` (empty by default), so its logical date is the tick."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

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
    step_back,
)

RunImmediately = bool | timedelta


def _encode_run_immediately(value: RunImmediately) -> bool | float:
    return value.total_seconds() if isinstance(value, timedelta) else bool(value)


def _decode_run_immediately(value: bool | float | int | None) -> RunImmediately:
    if isinstance(value, bool) or value is None:
        return bool(value)
    return timedelta(seconds=float(value))


class _TriggerTimetable(Timetable):
    _interval: Delta = timedelta()

    def _get_next(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _align_to_next(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _align_to_prev(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _first_run(self) -> datetime:
        """When the first run goes, for a DAG with no start date."""
        raise NotImplementedError

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        return DataInterval(step_back(run_after, self._interval), run_after)

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        last = last_automated_data_interval
        if restriction.catchup:
            if last is not None:
                tick = self._get_next(last.end)
            elif restriction.earliest is None:
                tick = self._first_run()
            else:
                tick = self._align_to_next(restriction.earliest)
        else:
            candidates = [self._align_to_prev(evaluation_time())]
            if last is not None:
                candidates.append(self._get_next(last.end))
            elif restriction.earliest is None:
                candidates.append(self._first_run())
            if restriction.earliest is not None:
                candidates.append(self._align_to_next(restriction.earliest))
            tick = max(candidates)
        if restriction.latest is not None and restriction.latest < tick:
            return None
        return DagRunInfo.interval(step_back(tick, self._interval), tick)


class CronTriggerTimetable(CronSteps, _TriggerTimetable):
    """``schedule="<cron>"`` as Airflow 3 reads it: one run at every tick, logical date = the tick.

    ``interval`` gives runs a data interval ending at the tick; ``run_immediately`` says whether a DAG with
    no start date runs for the tick just passed (True, False or None: within 10 % of the period, at least 5
    minutes, or a timedelta: within that long).
    """

    type_name = "cron_trigger"

    def __init__(
        self,
        cron: str,
        *,
        timezone: str | tzinfo = "UTC",
        interval: Delta = timedelta(),
        run_immediately: RunImmediately = False,
    ) -> None:
        self._cron = CronSchedule(cron, timezone)
        self._interval = interval
        self._run_immediately = run_immediately
        self.description = self._cron.description

    def _first_run(self) -> datetime:
        now = evaluation_time()
        past = self._align_to_prev(now)
        upcoming = self._align_to_next(now)
        if self._run_immediately is True:
            return past
        if isinstance(self._run_immediately, timedelta):
            buffer = self._run_immediately
        else:
            # Airflow applies this default to False as well as None.
            buffer = max((upcoming - past) / 10, timedelta(minutes=5))
        return past if now - past <= buffer else upcoming

    def serialize(self) -> dict[str, Any]:
        return {
            **self._cron.to_dict(),
            "interval": encode_delta(self._interval),
            "run_immediately": _encode_run_immediately(self._run_immediately),
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(
            data["expression"],
            timezone=data.get("timezone", "UTC"),
            interval=decode_delta(data.get("interval", 0)),
            run_immediately=_decode_run_immediately(data.get("run_immediately", False)),
        )


class DeltaTriggerTimetable(DeltaSteps, _TriggerTimetable):
    """``schedule=timedelta(...)`` as Airflow 3 reads it: a run every ``delta``, logical date = its time."""

    type_name = "delta_trigger"

    def __init__(self, delta: Delta, *, interval: Delta = timedelta()) -> None:
        check_positive(delta)
        self._delta = delta
        self._interval = interval
        self.description = f"every {delta_summary(delta)}"

    def _first_run(self) -> datetime:
        return evaluation_time()

    def serialize(self) -> dict[str, Any]:
        return {"delta": encode_delta(self._delta), "interval": encode_delta(self._interval)}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(decode_delta(data["delta"]), interval=decode_delta(data.get("interval", 0)))


class MultipleCronTriggerTimetable(Timetable):
    """Runs at the ticks of several cron expressions (one run when two fire at the same time)."""

    type_name = "multi_cron_trigger"

    def __init__(
        self,
        *crons: str,
        timezone: str | tzinfo = "UTC",
        interval: Delta = timedelta(),
        run_immediately: RunImmediately = False,
    ) -> None:
        from tradewind.sdk.errors import DagDefinitionError

        if not crons:
            raise DagDefinitionError("MultipleCronTriggerTimetable needs at least one cron expression")
        self._timetables = [
            CronTriggerTimetable(cron, timezone=timezone, interval=interval, run_immediately=run_immediately)
            for cron in crons
        ]
        self.description = ", ".join(t.description for t in self._timetables)

    @property
    def summary(self) -> str:
        return ", ".join(t.summary for t in self._timetables)

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        intervals = [t.infer_manual_data_interval(run_after=run_after) for t in self._timetables]
        return min(intervals, key=lambda interval: interval.start)

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        infos = [
            t.next_dagrun_info(last_automated_data_interval=last_automated_data_interval, restriction=restriction)
            for t in self._timetables
        ]
        candidates = [info for info in infos if info is not None]
        if not candidates:
            return None
        if restriction.catchup:
            return min(candidates, key=lambda info: info.logical_date)
        now = evaluation_time()
        # Without catchup: the latest run not after now, else the soonest one.
        past = [info for info in candidates if info.logical_date <= now]
        if past:
            return max(past, key=lambda info: info.logical_date)
        return min(candidates, key=lambda info: info.logical_date)

    def serialize(self) -> dict[str, Any]:
        first = self._timetables[0].serialize()
        return {
            "expressions": [t.summary for t in self._timetables],
            "timezone": first["timezone"],
            "interval": first["interval"],
            "run_immediately": first["run_immediately"],
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(
            *data["expressions"],
            timezone=data.get("timezone", "UTC"),
            interval=decode_delta(data.get("interval", 0)),
            run_immediately=_decode_run_immediately(data.get("run_immediately", False)),
        )
