"""From a DAG's ``schedule=`` argument to a timetable, and timetables to and from their stored form.

As in Airflow 3, a cron string means a :class:`CronTriggerTimetable` (a run at each tick, logical date = the
tick) and a ``timedelta``/``relativedelta`` a :class:`DeltaTriggerTimetable`, unless the process was told to
create data intervals (``[scheduler] create_cron_data_intervals`` / ``create_delta_data_intervals``, Airflow 2's
meaning). The stored form is a small dict with a ``type`` key, so the scheduler rebuilds a timetable without
importing the DAG file; a user-defined timetable is stored by its qualified class name and rebuilt only if a
plugin registered that class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from tradewind.sdk.assets import as_condition
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.timetables.assets import AssetOrTimeSchedule, AssetTriggeredTimetable
from tradewind.sdk.timetables.base import (
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
    evaluated_at,
    evaluation_time,
)
from tradewind.sdk.timetables.cron import PRESETS
from tradewind.sdk.timetables.events import EventsTimetable
from tradewind.sdk.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from tradewind.sdk.timetables.simple import ContinuousTimetable, NullTimetable, OnceTimetable
from tradewind.sdk.timetables.trigger import (
    CronTriggerTimetable,
    DeltaTriggerTimetable,
    MultipleCronTriggerTimetable,
)

__all__ = [
    "PRESETS",
    "DagRunInfo",
    "DataInterval",
    "ScheduleDefaults",
    "TimeRestriction",
    "Timetable",
    "configure_schedule_defaults",
    "evaluated_at",
    "evaluation_time",
    "next_dagrun",
    "register_timetable",
    "timetable_from_dict",
    "timetable_from_schedule",
    "timetable_to_dict",
]

_BUILT_IN: dict[str, type[Timetable]] = {
    cls.type_name: cls
    for cls in (
        NullTimetable,
        OnceTimetable,
        ContinuousTimetable,
        CronDataIntervalTimetable,
        DeltaDataIntervalTimetable,
        CronTriggerTimetable,
        DeltaTriggerTimetable,
        MultipleCronTriggerTimetable,
        EventsTimetable,
        AssetTriggeredTimetable,
        AssetOrTimeSchedule,
    )
    if cls.type_name is not None
}

#: User timetable classes registered by plugins, by qualified name.
_REGISTERED: dict[str, type[Timetable]] = {}


@dataclass(frozen=True, slots=True)
class ScheduleDefaults:
    """How this process reads a cron string or a delta given as ``schedule=``."""

    cron_data_intervals: bool = False
    delta_data_intervals: bool = False


_defaults = ScheduleDefaults()


def configure_schedule_defaults(defaults: ScheduleDefaults) -> None:
    """Set, for this process, what ``schedule="<cron>"`` and ``schedule=<delta>`` mean (from settings)."""
    global _defaults
    _defaults = defaults


def schedule_defaults() -> ScheduleDefaults:
    return _defaults


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def register_timetable(cls: type[Timetable]) -> None:
    """Let stored DAGs that use ``cls`` be rebuilt in this process (called for each plugin timetable)."""
    if not (isinstance(cls, type) and issubclass(cls, Timetable)):
        raise DagDefinitionError(f"{cls!r} is not a Timetable subclass")
    _REGISTERED[qualified_name(cls)] = cls


def timetable_from_schedule(schedule: object, timezone: Any = "UTC") -> Timetable:
    """Build a timetable from what a DAG author passes as ``schedule=``."""
    if isinstance(schedule, Timetable):
        return schedule
    if schedule is None or schedule == "@none":
        return NullTimetable()
    if schedule == "@once":
        return OnceTimetable()
    if schedule == "@continuous":
        return ContinuousTimetable()
    if isinstance(schedule, timedelta | relativedelta):
        if _defaults.delta_data_intervals:
            return DeltaDataIntervalTimetable(schedule)
        return DeltaTriggerTimetable(schedule)
    condition = as_condition(schedule)
    if condition is not None:
        return AssetTriggeredTimetable(condition)
    if isinstance(schedule, str):
        if _defaults.cron_data_intervals:
            return CronDataIntervalTimetable(schedule, timezone)
        return CronTriggerTimetable(schedule, timezone=timezone)
    if _is_timetable_like(schedule):
        raise DagDefinitionError(
            f"schedule {type(schedule).__name__} is a timetable that does not subclass Tradewind's "
            "Timetable (tradewind.sdk.timetables.base.Timetable, also imported as airflow.timetables.base)"
        )
    raise DagDefinitionError(
        "schedule must be a cron string, a preset, a timedelta, a relativedelta, a Timetable, assets or None; "
        f"got {type(schedule).__name__}"
    )


def _is_timetable_like(value: object) -> bool:
    return hasattr(value, "next_dagrun_info") and hasattr(value, "infer_manual_data_interval")


def timetable_to_dict(timetable: Timetable) -> dict[str, Any]:
    """The stored form: ``{"type": ..., **fields}`` for built-ins, ``{"type": "custom", ...}`` otherwise."""
    cls = type(timetable)
    if isinstance(timetable, AssetOrTimeSchedule):
        inner = timetable_to_dict(timetable.timetable)
        return {"type": AssetOrTimeSchedule.type_name, "condition": timetable.condition, "timetable": inner}
    if cls.type_name is not None and _BUILT_IN.get(cls.type_name) is cls:
        return {"type": cls.type_name, **timetable.serialize()}
    return {
        "type": "custom",
        "class": qualified_name(cls),
        "value": timetable.serialize(),
        "summary": timetable.summary,
        "description": timetable.description,
    }


def timetable_from_dict(data: dict[str, Any]) -> Timetable:
    """Rebuild a timetable from its stored form."""
    kind = data.get("type")
    if kind == "custom":
        name = str(data.get("class"))
        cls = _REGISTERED.get(name)
        if cls is None:
            raise DagDefinitionError(
                f"timetable class {name!r} is not registered by any plugin in this process; "
                "register it in an AirflowPlugin's `timetables` list in the plugins folder"
            )
        return cls.deserialize(dict(data.get("value") or {}))
    if not isinstance(kind, str) or kind not in _BUILT_IN:
        raise DagDefinitionError(f"unknown timetable type {kind!r}")
    if kind == AssetOrTimeSchedule.type_name:
        return AssetOrTimeSchedule.from_parts(timetable_from_dict(dict(data["timetable"])), data["condition"])
    fields = {k: v for k, v in data.items() if k != "type"}
    return _BUILT_IN[kind].deserialize(fields)


def next_dagrun(
    timetable: Timetable,
    *,
    last_interval: DataInterval | None,
    start_date: datetime | None,
    end_date: datetime | None,
    catchup: bool,
    now: datetime,
) -> DagRunInfo | None:
    """The next scheduled run after ``last_interval``, evaluated as if the time were ``now``."""
    with evaluated_at(now):
        return timetable.next_dagrun_info(
            last_automated_data_interval=last_interval,
            restriction=TimeRestriction(start_date, end_date, catchup),
        )


def manual_data_interval(timetable: Timetable, run_after: datetime) -> DataInterval:
    """The data interval of a run triggered by hand at ``run_after``."""
    with evaluated_at(run_after):
        return timetable.infer_manual_data_interval(run_after=run_after)


def schedule_summary(data: dict[str, Any]) -> str | None:
    """The schedule as users wrote it (a cron expression, a period, ``@once``) from the stored form, without
    needing a plugin's class; None for DAGs that only run when triggered."""
    kind = data.get("type")
    if kind in (None, "none"):
        return None
    if kind == "custom":
        return str(data.get("summary") or data.get("class"))
    try:
        return timetable_from_dict(data).summary
    except DagDefinitionError:
        return str(kind)
