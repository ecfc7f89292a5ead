"""Timetables: when runs are due and which data interval each covers; their dict form for the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.schedules import (
    CronTimetable,
    DataInterval,
    DeltaTimetable,
    NullTimetable,
    OnceTimetable,
    timetable_from_dict,
    timetable_from_schedule,
)


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


START = utc(2024, 1, 1)


def test_first_cron_run_covers_the_first_interval_and_runs_after_it() -> None:
    info = CronTimetable("@daily").next_dagrun_info(
        last_interval=None, start_date=START, end_date=None, catchup=True, now=utc(2024, 1, 10)
    )
    assert info is not None
    assert info.logical_date == START
    assert info.data_interval == DataInterval(START, utc(2024, 1, 2))
    assert info.run_after == utc(2024, 1, 2)


def test_cron_with_catchup_continues_from_the_last_interval() -> None:
    info = CronTimetable("0 * * * *").next_dagrun_info(
        last_interval=DataInterval(utc(2024, 1, 1, 3), utc(2024, 1, 1, 4)),
        start_date=START,
        end_date=None,
        catchup=True,
        now=utc(2024, 2, 1),
    )
    assert info is not None and info.data_interval == DataInterval(utc(2024, 1, 1, 4), utc(2024, 1, 1, 5))


def test_cron_without_catchup_jumps_to_the_latest_complete_interval() -> None:
    info = CronTimetable("@daily").next_dagrun_info(
        last_interval=None, start_date=START, end_date=None, catchup=False, now=utc(2024, 1, 10, 12)
    )
    assert info is not None and info.data_interval == DataInterval(utc(2024, 1, 9), utc(2024, 1, 10))


def test_cron_stops_after_end_date_and_needs_a_start_date() -> None:
    table = CronTimetable("@daily")
    last = DataInterval(utc(2024, 1, 2), utc(2024, 1, 3))
    assert (
        table.next_dagrun_info(
            last_interval=last,
            start_date=START,
            end_date=utc(2024, 1, 2, 12),
            catchup=True,
            now=utc(2024, 2, 1),
        )
        is None
    )
    assert (
        table.next_dagrun_info(
            last_interval=None, start_date=None, end_date=None, catchup=True, now=utc(2024, 2, 1)
        )
        is None
    )


def test_cron_in_a_time_zone_follows_local_time_across_dst() -> None:
    table = CronTimetable("0 9 * * *", "Europe/Amsterdam")
    winter = table.next_dagrun_info(
        last_interval=None, start_date=utc(2024, 1, 1), end_date=None, catchup=True, now=utc(2024, 1, 5)
    )
    summer = table.next_dagrun_info(
        last_interval=None, start_date=utc(2024, 7, 1), end_date=None, catchup=True, now=utc(2024, 7, 5)
    )
    assert winter is not None and winter.logical_date == utc(2024, 1, 1, 8)
    assert summer is not None and summer.logical_date == utc(2024, 7, 1, 7)


def test_manual_runs_get_the_interval_that_just_ended() -> None:
    assert CronTimetable("@daily").infer_manual_data_interval(utc(2024, 1, 5, 10)) == DataInterval(
        utc(2024, 1, 4), utc(2024, 1, 5)
    )
    assert DeltaTimetable(timedelta(hours=1)).infer_manual_data_interval(utc(2024, 1, 5, 10)) == DataInterval(
        utc(2024, 1, 5, 9), utc(2024, 1, 5, 10)
    )
    assert NullTimetable().infer_manual_data_interval(START) == DataInterval(START, START)


def test_delta_runs_on_a_grid_from_the_start_date() -> None:
    table = DeltaTimetable(timedelta(hours=6))
    first = table.next_dagrun_info(
        last_interval=None, start_date=START, end_date=None, catchup=True, now=utc(2024, 2, 1)
    )
    assert first is not None and first.data_interval == DataInterval(START, utc(2024, 1, 1, 6))
    latest = table.next_dagrun_info(
        last_interval=None, start_date=START, end_date=None, catchup=False, now=utc(2024, 1, 2, 1)
    )
    assert latest is not None and latest.data_interval == DataInterval(utc(2024, 1, 1, 18), utc(2024, 1, 2))


def test_once_runs_once_and_none_never() -> None:
    once = OnceTimetable()
    first = once.next_dagrun_info(
        last_interval=None, start_date=START, end_date=None, catchup=False, now=START
    )
    assert first is not None and first.run_after == START
    assert (
        once.next_dagrun_info(
            last_interval=first.data_interval, start_date=START, end_date=None, catchup=False, now=START
        )
        is None
    )
    assert (
        NullTimetable().next_dagrun_info(
            last_interval=None, start_date=START, end_date=None, catchup=True, now=START
        )
        is None
    )
    assert not once.periodic and not NullTimetable().periodic


@pytest.mark.parametrize(
    "schedule", [None, "@once", "@daily", "@hourly", "*/10 * * * *", timedelta(minutes=30)]
)
def test_timetables_round_trip_through_dicts(schedule: object) -> None:
    table = timetable_from_schedule(schedule, "Asia/Tokyo")
    rebuilt = timetable_from_dict(table.to_dict())
    assert type(rebuilt) is type(table)
    assert rebuilt.to_dict() == table.to_dict()
    assert rebuilt.description == table.description


@pytest.mark.parametrize(
    ("schedule", "message"),
    [("not a cron", "invalid cron expression"), (timedelta(0), "must be positive"), (5, "got int")],
)
def test_bad_schedules_are_refused(schedule: object, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        timetable_from_schedule(schedule)


def test_unknown_time_zones_and_types_are_refused() -> None:
    with pytest.raises(DagDefinitionError, match="unknown time zone 'Mars/Base'"):
        CronTimetable("@daily", "Mars/Base")
    with pytest.raises(DagDefinitionError, match="unknown timetable type 'weird'"):
        timetable_from_dict({"type": "weird"})
