"""A DAG's schedule as the UI shows it: the expression as written (once), a sentence saying when it runs
("At 06:30, Monday through Friday", "Every 6 hours"), and the time zone its times are read in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tradewind.sdk.schedules import schedule_summary
from tradewind.store.tables import DagModel

_DELTA_KINDS = ("delta", "delta_trigger")
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
_CRON_KINDS = ("cron", "cron_trigger", "multi_cron_trigger")


@dataclass(frozen=True, slots=True)
class ReadableSchedule:
    #: What the DAG file says (a cron expression, a preset such as ``@daily``); None when a sentence is all
    #: there is to show (periods, manual-only DAGs).
    expression: str | None
    #: When it runs, in words; "" when nothing more can be said than the expression.
    description: str
    #: The zone a cron schedule's times are in (the DAG's own), None for schedules without wall-clock times.
    timezone: str | None


def period_text(seconds: float) -> str:
    """``Every 6 hours``, ``Every 1 day, 30 minutes``: a timedelta schedule in words."""
    left = round(seconds)
    parts = []
    for unit, size in _UNITS:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return "Every " + (", ".join(parts) if parts else f"{seconds:g} seconds")


def _delta_seconds(timetable: dict[str, Any]) -> float | None:
    value = timetable.get("delta")
    return float(value) if isinstance(value, int | float) else None


def readable_schedule(dag: DagModel) -> ReadableSchedule:
    timetable: dict[str, Any] = dag.timetable or {}
    kind = timetable.get("type")
    expression = schedule_summary(timetable)
    description = dag.schedule_description or ""
    zone: str | None = None
    seconds = _delta_seconds(timetable)
    if kind in _DELTA_KINDS and seconds is not None:
        expression, description = None, period_text(seconds)
    elif kind in (None, "none"):
        expression, description = None, description or "Never, external triggers only"
    elif kind in _CRON_KINDS:
        zone = str(timetable.get("timezone") or "UTC")
    if description.strip() == (expression or "").strip():
        description = ""  # the expression is shown once, never repeated as its own description
    return ReadableSchedule(expression=expression, description=description, timezone=zone)


def dag_timezone(timetable: dict[str, Any] | None, dag_zone: str | None) -> str:
    """The DAG's own zone: its schedule's (from the serialized DAG), else the zone of its start date."""
    zone = (timetable or {}).get("timezone")
    return str(zone or dag_zone or "UTC")
