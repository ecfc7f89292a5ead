"""Timetables: when runs are due and which data interval each covers; their stored form for the scheduler.

The differential suite (tests/differential) compares hundreds of generated cases with Airflow itself; these
are the readable examples of each rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.schedules import (
    DataInterval,
    ScheduleDefaults,
    configure_schedule_defaults,
    manual_data_interval,
    next_dagrun,
    register_timetable,
    schedule_summary,
    timetable_from_dict,
    timetable_from_schedule,
    timetable_to_dict,
)
from tradewind.sdk.timetables.base import DagRunInfo, TimeRestriction, Timetable
from tradewind.sdk.timetables.events import EventsTimetable
from tradewind.sdk.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from tradewind.sdk.timetables.simple import ContinuousTimetable, NullTimetable, OnceTimetable
from tradewind.sdk.timetables.trigger import (
    CronTriggerTimetable,
    DeltaTriggerTimetable,
    MultipleCronTriggerTimetable,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


START = utc(2024, 1, 1)


def runs(
    table: Timetable,
    *,
    start: datetime | None,
    end: datetime | None = None,
    catchup: bool = True,
    now: datetime,
    count: int = 20,
) -> list[DagRunInfo]:
    found: list[DagRunInfo] = []
    last = None
    while len(found) < count:
        info = next_dagrun(table, last_interval=last, start_date=start, end_date=end, catchup=catchup, now=now)
        if info is None:
            break
        found.append(info)
        last = info.data_interval
    return found


@pytest.fixture(autouse=True)
def _airflow3_defaults() -> object:
    configure_schedule_defaults(ScheduleDefaults())
    yield
    configure_schedule_defaults(ScheduleDefaults())


def test_first_cron_data_interval_run_covers_the_first_interval_and_runs_after_it() -> None:
    info = next_dagrun(
        CronDataIntervalTimetable("@daily"),
        last_interval=None, start_date=START, end_date=None, catchup=True, now=utc(2024, 1, 10),
    )
    assert info is not None
    assert info.logical_date == START
    assert info.data_interval == DataInterval(START, utc(2024, 1, 2))
    assert info.run_after == utc(2024, 1, 2)


def test_a_cron_trigger_run_starts_at_the_tick_and_its_logical_date_is_the_tick() -> None:
    info = next_dagrun(
        CronTriggerTimetable("0 6 * * *", timezone="UTC"),
        last_interval=None, start_date=utc(2024, 1, 1, 3), end_date=None, catchup=True, now=utc(2024, 1, 10),
    )
    assert info is not None
    assert info.logical_date == info.run_after == utc(2024, 1, 1, 6)
    assert info.data_interval == DataInterval(utc(2024, 1, 1, 6), utc(2024, 1, 1, 6))
    with_interval = CronTriggerTimetable("0 6 * * *", timezone="UTC", interval=timedelta(hours=24))
    assert with_interval.infer_manual_data_interval(run_after=utc(2024, 1, 5, 6)) == DataInterval(
        utc(2024, 1, 4, 6), utc(2024, 1, 5, 6)
    )


def test_cron_without_catchup_jumps_to_the_latest_complete_interval() -> None:
    info = next_dagrun(
        CronDataIntervalTimetable("@daily"),
        last_interval=None, start_date=START, end_date=None, catchup=False, now=utc(2024, 1, 10, 12),
    )
    assert info is not None and info.data_interval == DataInterval(utc(2024, 1, 9), utc(2024, 1, 10))
    trigger = next_dagrun(
        CronTriggerTimetable("@daily", timezone="UTC"),
        last_interval=None, start_date=START, end_date=None, catchup=False, now=utc(2024, 1, 10, 12),
    )
    assert trigger is not None and trigger.logical_date == utc(2024, 1, 10)


def test_cron_stops_after_end_date_and_needs_a_start_date() -> None:
    table = CronDataIntervalTimetable("@daily")
    last = DataInterval(utc(2024, 1, 2), utc(2024, 1, 3))
    assert next_dagrun(
        table, last_interval=last, start_date=START, end_date=utc(2024, 1, 2, 12), catchup=True, now=utc(2024, 2, 1)
    ) is None
    assert next_dagrun(
        table, last_interval=None, start_date=None, end_date=None, catchup=True, now=utc(2024, 2, 1)
    ) is None


def test_cron_in_a_time_zone_follows_local_time_across_dst() -> None:
    table = CronDataIntervalTimetable("0 9 * * *", "Europe/Amsterdam")
    winter = runs(table, start=utc(2024, 1, 1), now=utc(2024, 1, 5), count=1)
    summer = runs(table, start=utc(2024, 7, 1), now=utc(2024, 7, 5), count=1)
    assert winter[0].logical_date == utc(2024, 1, 1, 8)
    assert summer[0].logical_date == utc(2024, 7, 1, 7)


@pytest.mark.parametrize("kind", ["interval", "trigger"])
def test_a_daily_run_in_the_repeated_hour_runs_once_at_the_second_occurrence(kind: str) -> None:
    """Autumn 2026: Amsterdam's 02:00 happens twice on 25 October; Airflow runs once, at the later one."""
    amsterdam = ZoneInfo("Europe/Amsterdam")
    table: Timetable = (
        CronDataIntervalTimetable("0 2 * * *", "Europe/Amsterdam")
        if kind == "interval"
        else CronTriggerTimetable("0 2 * * *", timezone="Europe/Amsterdam")
    )
    found = runs(
        table,
        start=datetime(2026, 10, 21, tzinfo=amsterdam),
        end=datetime(2026, 10, 28, 23, tzinfo=amsterdam),
        now=utc(2026, 12, 1),
    )
    dates = [info.logical_date for info in found]
    assert len(dates) == 8
    assert utc(2026, 10, 25, 1) in dates and utc(2026, 10, 25, 0) not in dates
    assert len({d.astimezone(amsterdam).date() for d in dates}) == len(dates)


def test_new_york_half_past_one_on_the_autumn_change_runs_once() -> None:
    table = CronTriggerTimetable("30 1 * * *", timezone="America/New_York")
    found = runs(table, start=utc(2026, 10, 29, 12), end=utc(2026, 11, 4), now=utc(2026, 12, 1))
    dates = [info.logical_date for info in found]
    assert utc(2026, 11, 1, 6, 30) in dates and utc(2026, 11, 1, 5, 30) not in dates
    assert len(dates) == 5  # 30 and 31 October, 1, 2 and 3 November


def test_an_hourly_schedule_runs_in_the_repeated_hour_too() -> None:
    table = CronTriggerTimetable("30 * * * *", timezone="Europe/Amsterdam")
    found = runs(table, start=utc(2026, 10, 24, 23), now=utc(2026, 12, 1), count=4)
    assert [info.logical_date for info in found] == [
        utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 2, 30)
    ]


def test_a_time_the_spring_change_skips_moves_forward_by_the_gap() -> None:
    table = CronTriggerTimetable("30 2 * * *", timezone="Europe/Amsterdam")
    found = runs(table, start=utc(2026, 3, 28), now=utc(2026, 5, 1), count=3)
    # 28 March 02:30 CET, 29 March 02:30 does not exist (03:30 CEST = 01:30 UTC), 30 March 02:30 CEST.
    assert [info.logical_date for info in found] == [
        utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)
    ]


def test_manual_runs_get_the_interval_that_just_ended() -> None:
    assert manual_data_interval(CronDataIntervalTimetable("@daily"), utc(2024, 1, 5, 10)) == DataInterval(
        utc(2024, 1, 4), utc(2024, 1, 5)
    )
    assert manual_data_interval(
        DeltaDataIntervalTimetable(timedelta(hours=1)), utc(2024, 1, 5, 10)
    ) == DataInterval(utc(2024, 1, 5, 9), utc(2024, 1, 5, 10))
    assert manual_data_interval(NullTimetable(), START) == DataInterval(START, START)
    assert manual_data_interval(CronTriggerTimetable("@daily"), utc(2024, 1, 5, 10)) == DataInterval(
        utc(2024, 1, 5, 10), utc(2024, 1, 5, 10)
    )


def test_delta_runs_on_a_grid_from_the_start_date() -> None:
    table = DeltaDataIntervalTimetable(timedelta(hours=6))
    first = runs(table, start=START, now=utc(2024, 2, 1), count=1)[0]
    assert first.data_interval == DataInterval(START, utc(2024, 1, 1, 6))
    latest = runs(table, start=START, catchup=False, now=utc(2024, 1, 2, 1), count=1)[0]
    assert latest.data_interval == DataInterval(utc(2024, 1, 1, 18), utc(2024, 1, 2))


def test_calendar_deltas_step_by_months() -> None:
    table = DeltaTriggerTimetable(relativedelta(months=1))
    found = runs(table, start=utc(2024, 1, 31), now=utc(2024, 6, 1), count=3)
    assert [info.logical_date for info in found] == [utc(2024, 1, 31), utc(2024, 2, 29), utc(2024, 3, 29)]


def test_once_runs_once_none_never_and_continuous_one_at_a_time() -> None:
    once = OnceTimetable()
    found = runs(once, start=START, catchup=False, now=START)
    assert [info.run_after for info in found] == [START]
    assert runs(NullTimetable(), start=START, now=START) == []
    assert not once.periodic and not NullTimetable().periodic
    continuous = timetable_from_schedule("@continuous")
    assert isinstance(continuous, ContinuousTimetable) and continuous.active_runs_limit == 1
    info = next_dagrun(
        continuous, last_interval=DataInterval(START, utc(2024, 1, 2)), start_date=START, end_date=None,
        catchup=False, now=utc(2024, 1, 3),
    )
    assert info is not None and info.data_interval == DataInterval(utc(2024, 1, 2), utc(2024, 1, 3))


def test_multiple_crons_give_one_run_per_instant() -> None:
    table = MultipleCronTriggerTimetable("0 0 * * *", "0 0 * * 1", "0 12 * * *", timezone="UTC")
    found = runs(table, start=utc(2024, 1, 1), now=utc(2024, 2, 1), count=4)
    assert [info.logical_date for info in found] == [
        utc(2024, 1, 1), utc(2024, 1, 1, 12), utc(2024, 1, 2), utc(2024, 1, 2, 12)
    ]


def test_events_run_at_their_dates() -> None:
    events = [utc(2024, 3, 1), utc(2024, 1, 15), utc(2024, 2, 1)]
    table = EventsTimetable(events, restrict_to_events=True)
    assert [i.logical_date for i in runs(table, start=START, now=utc(2025, 1, 1))] == sorted(events)
    assert manual_data_interval(table, utc(2024, 2, 10)) == DataInterval(utc(2024, 2, 1), utc(2024, 2, 1))


def test_cron_strings_follow_airflow_3_unless_data_intervals_are_asked_for() -> None:
    assert isinstance(timetable_from_schedule("@daily"), CronTriggerTimetable)
    assert isinstance(timetable_from_schedule(timedelta(hours=1)), DeltaTriggerTimetable)
    configure_schedule_defaults(ScheduleDefaults(cron_data_intervals=True, delta_data_intervals=True))
    assert isinstance(timetable_from_schedule("@daily"), CronDataIntervalTimetable)
    assert isinstance(timetable_from_schedule(timedelta(hours=1)), DeltaDataIntervalTimetable)


@pytest.mark.parametrize(
    "table",
    [
        NullTimetable(),
        OnceTimetable(),
        ContinuousTimetable(),
        CronDataIntervalTimetable("*/10 * * * *", "Asia/Tokyo"),
        CronTriggerTimetable("@daily", timezone="Asia/Tokyo", interval=relativedelta(days=1), run_immediately=True),
        CronTriggerTimetable("@hourly", timezone="+05:30", run_immediately=timedelta(minutes=7)),
        DeltaDataIntervalTimetable(relativedelta(months=1, weekday=4)),
        DeltaTriggerTimetable(timedelta(minutes=30), interval=timedelta(minutes=30)),
        MultipleCronTriggerTimetable("0 1 * * *", "0 13 * * *", timezone="Europe/Amsterdam"),
        EventsTimetable([utc(2024, 1, 1), utc(2024, 5, 1)], description="two dates"),
    ],
    ids=lambda t: type(t).__name__,
)
def test_timetables_round_trip_through_their_stored_form(table: Timetable) -> None:
    stored = timetable_to_dict(table)
    rebuilt = timetable_from_dict(stored)
    assert type(rebuilt) is type(table)
    assert timetable_to_dict(rebuilt) == stored
    assert rebuilt.description == table.description
    assert rebuilt == table


def test_dags_stored_before_trigger_timetables_still_load() -> None:
    assert isinstance(timetable_from_dict({"type": "cron", "expression": "@daily", "timezone": "UTC"}),
                      CronDataIntervalTimetable)
    delta = timetable_from_dict({"type": "delta", "seconds": 3600.0})
    assert isinstance(delta, DeltaDataIntervalTimetable) and delta.delta == timedelta(hours=1)
    assert schedule_summary({"type": "cron", "expression": "@daily", "timezone": "UTC"}) == "@daily"
    assert schedule_summary({"type": "none"}) is None


class EveryOtherDay(Timetable):
    """A user timetable written against Airflow's interface."""

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        if last_automated_data_interval is None:
            if restriction.earliest is None:
                return None
            return DagRunInfo.exact(restriction.earliest)
        return DagRunInfo.exact(last_automated_data_interval.end + timedelta(days=2))


def test_user_timetables_are_stored_by_name_and_rebuilt_only_when_registered() -> None:
    stored = timetable_to_dict(EveryOtherDay())
    assert stored["type"] == "custom" and stored["class"].endswith("EveryOtherDay")
    with pytest.raises(DagDefinitionError, match="not registered by any plugin"):
        timetable_from_dict(stored)
    register_timetable(EveryOtherDay)
    rebuilt = timetable_from_dict(stored)
    assert [i.logical_date for i in runs(rebuilt, start=START, now=utc(2025, 1, 1), count=3)] == [
        START, utc(2024, 1, 3), utc(2024, 1, 5)
    ]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [("not a cron", "invalid cron expression"), (timedelta(0), "must be positive"), (5, "got int")],
)
def test_bad_schedules_are_refused(schedule: object, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        timetable_from_schedule(schedule)


def test_unknown_time_zones_and_types_are_refused() -> None:
    with pytest.raises(DagDefinitionError, match="unknown time zone 'Mars/Base'"):
        CronDataIntervalTimetable("@daily", "Mars/Base")
    with pytest.raises(DagDefinitionError, match="unknown timetable type 'weird'"):
        timetable_from_dict({"type": "weird"})


def test_airflow_2_schedule_arguments_mean_the_schedule() -> None:
    from tradewind.sdk.dag import DAG

    assert isinstance(DAG("a2", schedule_interval="@daily", start_date=START).timetable, CronTriggerTimetable)
    events = EventsTimetable([START])
    assert DAG("a2t", timetable=events, start_date=START).timetable is events
    with pytest.raises(DagDefinitionError, match="pass only one of schedule, schedule_interval"):
        DAG("both", schedule="@daily", schedule_interval="@hourly", start_date=START)
