"""Stored timetables as Airflow 2's ``schedule_interval`` objects, whatever timetable type the DAG has."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.api.ui.schedule_shapes import is_periodic, schedule_interval

CRON = {"__type": "CronExpression", "value": "15 4 * * *"}


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({"type": "cron", "expression": "15 4 * * *", "timezone": "UTC"}, CRON),
        ({"type": "cron_trigger", "expression": "15 4 * * *", "timezone": "UTC", "interval": 0.0}, CRON),
        ({"type": "cron", "expression": "@daily"}, {"__type": "CronExpression", "value": "@daily"}),
        ({"type": "once"}, {"__type": "CronExpression", "value": "@once"}),
        ({"type": "continuous"}, {"__type": "CronExpression", "value": "@continuous"}),
        (
            {"type": "delta", "seconds": 90061.5},
            {"__type": "TimeDelta", "days": 1, "seconds": 3661, "microseconds": 500000},
        ),
        (
            {"type": "delta_trigger", "delta": 21600.0, "interval": 0.0},
            {"__type": "TimeDelta", "days": 0, "seconds": 21600, "microseconds": 0},
        ),
        ({"type": "none"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_schedules_with_an_airflow_2_shape(stored: dict[str, Any] | None, expected: Any) -> None:
    assert schedule_interval(stored) == expected


def test_a_calendar_delta_sends_every_relativedelta_field_as_an_integer() -> None:
    shown = schedule_interval({"type": "delta_trigger", "delta": {"months": 1, "days": 2}, "interval": 0.0})
    assert shown is not None
    assert shown["__type"] == "RelativeDelta" and shown["months"] == 1 and shown["days"] == 2
    fields = set(shown) - {"__type"}
    assert len(fields) == 15 and all(isinstance(shown[f], int) for f in fields)
    assert schedule_interval({"type": "relativedelta", "years": 1})["years"] == 1  # type: ignore[index]


@pytest.mark.parametrize(
    "stored",
    [
        {"type": "multi_cron_trigger", "expressions": ["0 1 * * *", "0 2 * * *"], "timezone": "UTC"},
        {"type": "events", "event_dates": ["2026-01-01T00:00:00+00:00"]},
        {"type": "custom", "class": "plugins.my_timetable.Weekdays", "summary": "weekdays"},
        {"type": "something_new"},
    ],
)
def test_timetables_without_an_airflow_2_shape_are_null(stored: dict[str, Any]) -> None:
    """Airflow 2 has no schedule_interval object for these; ``timetable_description`` says what they do."""
    assert schedule_interval(stored) is None


def test_periodic_timetables() -> None:
    assert is_periodic({"type": "cron_trigger", "expression": "0 1 * * *"})
    assert is_periodic({"type": "custom", "class": "x.Y"})
    assert not is_periodic({"type": "none"}) and not is_periodic({"type": "once"}) and not is_periodic(None)
