"""How the UI words a schedule: the expression once, a sentence, and the zone of cron schedules."""

from __future__ import annotations

from datetime import timedelta

from tradewind.api.ui.schedule_display import dag_timezone, period_text, readable_schedule
from tradewind.sdk.schedules import timetable_from_schedule, timetable_to_dict
from tradewind.store.tables import DagModel


def dag_with(schedule: object, tz: str = "UTC") -> DagModel:
    timetable = timetable_from_schedule(schedule, tz)
    return DagModel(
        dag_id="d", timetable=timetable_to_dict(timetable), schedule_description=timetable.description
    )


def test_cron_is_shown_once_with_its_description_and_zone() -> None:
    shown = readable_schedule(dag_with("30 6 * * 1-5", "Europe/Paris"))
    assert (shown.expression, shown.description, shown.timezone) == (
        "30 6 * * 1-5",
        "At 06:30, Monday through Friday",
        "Europe/Paris",
    )
    preset = readable_schedule(dag_with("@daily"))
    assert (preset.expression, preset.description) == ("@daily", "At 00:00")


def test_periods_and_manual_dags_are_sentences() -> None:
    assert readable_schedule(dag_with(timedelta(hours=6))).description == "Every 6 hours"
    assert readable_schedule(dag_with(timedelta(hours=6))).expression is None
    assert period_text(timedelta(days=1, minutes=30).total_seconds()) == "Every 1 day, 30 minutes"
    assert period_text(1) == "Every 1 second"
    manual = readable_schedule(dag_with(None))
    assert (manual.expression, manual.description, manual.timezone) == (
        None,
        "Never, external triggers only",
        None,
    )
    once = readable_schedule(dag_with("@once"))
    assert (once.expression, once.description) == ("@once", "Once, as soon as possible")


def test_the_dags_zone_is_its_schedules() -> None:
    assert dag_timezone({"type": "cron_trigger", "timezone": "Asia/Tokyo"}, "UTC") == "Asia/Tokyo"
    assert dag_timezone({"type": "delta_trigger"}, "Europe/Paris") == "Europe/Paris"
    assert dag_timezone(None, None) == "UTC"
