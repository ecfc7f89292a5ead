"""A stored timetable (the serialized DAG's ``{"type": ...}`` dict) as Airflow's REST APIs show it:
``schedule_interval`` objects for /api/v1 and ``timetable_periodic`` for /api/v2 (its
``timetable_summary`` is ``tradewind.sdk.schedules.schedule_summary``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

CRON_TYPES = frozenset({"cron", "cron_trigger"})
DELTA_TYPES = frozenset({"delta", "delta_trigger"})
#: Schedules Airflow 2 also reported as a "cron expression" holding a preset.
PRESET_BY_TYPE = {"once": "@once", "continuous": "@continuous"}
NOT_PERIODIC = frozenset({"none", "once", "continuous", "events", "assets"})
RELATIVE_FIELDS = ("years", "months", "days", "leapdays", "hours", "minutes", "seconds", "microseconds")
ABSOLUTE_FIELDS = ("year", "month", "day", "hour", "minute", "second", "microsecond")


def _kind(timetable: dict[str, Any] | None) -> str | None:
    kind = (timetable or {}).get("type")
    return str(kind) if kind is not None else None


def _delta_value(timetable: dict[str, Any]) -> float | dict[str, Any] | None:
    """Seconds (a timedelta) or the fields of a relativedelta, however the dict stores them."""
    if "delta" in timetable:
        value = timetable["delta"]
    elif "seconds" in timetable and not any(k in timetable for k in RELATIVE_FIELDS[:2]):
        value = timetable["seconds"]
    else:
        value = {k: v for k, v in timetable.items() if k in RELATIVE_FIELDS + ABSOLUTE_FIELDS}
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return value
    return None


def time_delta(seconds: float) -> dict[str, Any]:
    delta = timedelta(seconds=seconds)
    return {
        "__type": "TimeDelta",
        "days": delta.days,
        "seconds": delta.seconds,
        "microseconds": delta.microseconds,
    }


def relative_delta(fields: dict[str, Any]) -> dict[str, Any]:
    """Every field of Airflow 2's RelativeDelta, all integers. Airflow 2 sends null for an unset absolute
    field (``year``, ``hour``...), which its own 2.x client rejects; Tradewind sends 0 there instead, so
    an absolute 0 (``hour=0``) and "not set" read the same."""
    body: dict[str, Any] = {"__type": "RelativeDelta"}
    body.update({name: int(fields.get(name) or 0) for name in RELATIVE_FIELDS + ABSOLUTE_FIELDS})
    return body


def schedule_interval(timetable: dict[str, Any] | None) -> dict[str, Any] | None:
    """Airflow 2's ``schedule_interval``: a CronExpression, TimeDelta or RelativeDelta object, or None
    for manual-only DAGs and for timetables that have no such form (events, several crons, custom
    classes); their ``timetable_description`` says what they do."""
    kind = _kind(timetable)
    if timetable is None or kind is None:
        return None
    if kind in CRON_TYPES and timetable.get("expression"):
        return {"__type": "CronExpression", "value": str(timetable["expression"])}
    if kind in PRESET_BY_TYPE:
        return {"__type": "CronExpression", "value": PRESET_BY_TYPE[kind]}
    if kind in DELTA_TYPES or kind == "relativedelta":
        value = _delta_value(timetable)
        if isinstance(value, float):
            return time_delta(value)
        if isinstance(value, dict):
            return relative_delta(value)
    return None


def is_periodic(timetable: dict[str, Any] | None) -> bool:
    """Whether runs come on a schedule (what Airflow 3 calls ``timetable_periodic``; backfills need it)."""
    kind = _kind(timetable)
    return kind is not None and kind not in NOT_PERIODIC
