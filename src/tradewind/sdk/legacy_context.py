"""Airflow 2 context names still found in real DAGs (``execution_date``, ``next_ds``, ``tomorrow_ds`` ...):
computed only when read, with Airflow 2's values, and each read noted once per try in the task log."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import lazy_object_proxy

from tradewind.sdk.schedules import DataInterval, manual_data_interval, next_dagrun

if TYPE_CHECKING:
    from jinja2 import Environment

    from tradewind.sdk.schedules import Timetable

log = logging.getLogger("tradewind.task.context")

#: Deprecated name -> what to use instead (shown in the note; None: Airflow 3 has no equivalent).
DEPRECATED: dict[str, str | None] = {
    "execution_date": "logical_date",
    "next_execution_date": "data_interval_end",
    "next_ds": "{{ data_interval_end | ds }}",
    "next_ds_nodash": "{{ data_interval_end | ds_nodash }}",
    "prev_execution_date": None,
    "prev_ds": None,
    "prev_ds_nodash": None,
    "prev_execution_date_success": "prev_data_interval_start_success",
    "tomorrow_ds": "{{ (logical_date + macros.timedelta(days=1)) | ds }}",
    "tomorrow_ds_nodash": "{{ (logical_date + macros.timedelta(days=1)) | ds_nodash }}",
    "yesterday_ds": "{{ (logical_date - macros.timedelta(days=1)) | ds }}",
    "yesterday_ds_nodash": "{{ (logical_date - macros.timedelta(days=1)) | ds_nodash }}",
}
#: Names computed on first read that are still current in Airflow 3 (no note).
CURRENT_LAZY = frozenset({"prev_start_date_success"})
LAZY_NAMES = frozenset(DEPRECATED) | CURRENT_LAZY


@dataclass(frozen=True)
class PreviousSuccess:
    """The latest successful run before this one: its logical date, and when this task started in it."""

    logical_date: datetime
    task_start_date: datetime | None


@dataclass
class LegacyValues:
    """What the Airflow 2 names are computed from, and which of them this try has read."""

    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    external_trigger: bool
    timetable: Timetable | None
    previous_success: Callable[[], PreviousSuccess | None] = lambda: None
    noted: set[str] = field(default_factory=set)
    _cache: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        if name in DEPRECATED and name not in self.noted:
            self.noted.add(name)
            instead = DEPRECATED[name]
            advice = f"use {instead!r} instead" if instead else "Airflow 3 has no equivalent"
            log.warning("The context name %r is deprecated (an Airflow 2 name); %s", name, advice)
        return self._cached(name)

    def _cached(self, name: str) -> Any:
        if name not in self._cache:
            value = self._compute(name)
            # Airflow 2 gave pendulum DateTimes: ``{{ execution_date }}`` renders as ISO 8601, with a "T".
            self._cache[name] = _pendulum(value) if isinstance(value, datetime) else value
        return self._cache[name]

    def _compute(self, name: str) -> Any:
        if name == "execution_date":
            return self.logical_date
        if name in ("tomorrow_ds", "tomorrow_ds_nodash", "yesterday_ds", "yesterday_ds_nodash"):
            day = self.logical_date + timedelta(days=1 if name.startswith("tomorrow") else -1)
            return _ds(day, nodash=name.endswith("nodash"))
        if name == "next_execution_date":
            return self._next_execution_date()
        if name == "prev_execution_date":
            return self._prev_execution_date()
        if name in ("next_ds", "next_ds_nodash", "prev_ds", "prev_ds_nodash"):
            moment = self._cached(f"{name.split('_')[0]}_execution_date")
            return None if moment is None else _ds(moment, nodash=name.endswith("nodash"))
        previous = self._previous_success()
        if previous is None:
            return None
        return previous.logical_date if name == "prev_execution_date_success" else previous.task_start_date

    def _previous_success(self) -> PreviousSuccess | None:
        if "previous" not in self._cache:
            self._cache["previous"] = self.previous_success()
        found: PreviousSuccess | None = self._cache["previous"]
        return found

    def _next_execution_date(self) -> datetime | None:
        # As Airflow 2: a run triggered by hand has no schedule to follow, so "next" is its own date.
        if self.external_trigger:
            return self.logical_date
        if self.timetable is None:
            return None
        interval = DataInterval(self.data_interval_start, self.data_interval_end)
        info = next_dagrun(
            self.timetable, last_interval=interval, start_date=None, end_date=None, catchup=True,
            now=self.data_interval_end,
        )  # fmt: skip
        return info.logical_date if info is not None else None

    def _prev_execution_date(self) -> datetime | None:
        if self.external_trigger:
            return self.logical_date
        # Only schedules with data intervals have a "previous schedule" in Airflow 2.
        if self.timetable is None or self.data_interval_end <= self.data_interval_start:
            return None
        return manual_data_interval(self.timetable, self.logical_date).start


def _pendulum(value: datetime) -> datetime:
    import pendulum  # only when an Airflow 2 date is read: importing a DAG file stays cheap

    return pendulum.instance(value)


def _ds(value: datetime, *, nodash: bool) -> str:
    return value.strftime("%Y%m%d" if nodash else "%Y-%m-%d")


class TaskContext(dict[str, Any]):
    """The context of one try: a dict whose Airflow 2 names (not stored) are computed when looked up."""

    def __init__(self, values: Mapping[str, Any], legacy: LegacyValues) -> None:
        super().__init__(values)
        self.legacy = legacy

    def __missing__(self, key: str) -> Any:
        if key in LAZY_NAMES:
            return self.legacy.value(key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or key in LAZY_NAMES

    def get(self, key: str, default: Any = None) -> Any:
        if super().__contains__(key):
            return super().__getitem__(key)
        if key in LAZY_NAMES:
            return self.legacy.value(key)
        return default

    def copy(self) -> TaskContext:
        return TaskContext(self, self.legacy)


def context_with(context: Mapping[str, Any], **entries: Any) -> Mapping[str, Any]:
    """``{**context, **entries}`` that keeps the Airflow 2 names of a TaskContext available."""
    if isinstance(context, TaskContext):
        extended = context.copy()
        extended.update(entries)
        return extended
    return {**context, **entries}


def legacy_kwargs(context: Mapping[str, Any], params: Iterable[inspect.Parameter]) -> dict[str, Any]:
    """The Airflow 2 names a Python callable receives: those its signature names, read now; for a callable
    with ``**kwargs``, all of them as lazy proxies that compute (and note) a value only when it is used."""
    if not isinstance(context, TaskContext):
        return {}
    params = list(params)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        legacy = context.legacy
        return {name: lazy_object_proxy.Proxy(_reader(legacy, name)) for name in sorted(LAZY_NAMES)}
    return {p.name: context.legacy.value(p.name) for p in params if p.name in LAZY_NAMES}


def _reader(legacy: LegacyValues, name: str) -> Callable[[], Any]:
    return lambda: legacy.value(name)


_MARKERS = tuple(sorted(LAZY_NAMES))


def template_context(context: Mapping[str, Any], source: str, env: Environment) -> Mapping[str, Any]:
    """The mapping a template renders with: ``context``, plus the Airflow 2 names ``source`` uses (Jinja
    copies the mapping it is given, so names computed on lookup must be put in before)."""
    if not isinstance(context, TaskContext) or not any(marker in source for marker in _MARKERS):
        return context
    from jinja2 import meta  # jinja2 is loaded only once templates render (see templating)

    try:
        used = meta.find_undeclared_variables(env.parse(source)) & LAZY_NAMES
    except Exception:  # a syntax error is reported by the rendering itself
        return context
    if not used:
        return context
    return {**context, **{name: context.legacy.value(name) for name in sorted(used)}}
