"""Cron expressions evaluated in a DAG's time zone, with daylight saving handled as Airflow does.

croniter works on naive wall-clock times, so every step goes local -> naive -> croniter -> local -> UTC.
Two rules make that agree with Airflow across clock changes:

- A naive local time is made aware with ``fold=1`` semantics: a wall-clock time that happens twice (the hour
  repeated when clocks go back) means its *second* occurrence, so a daily 02:00 run on the autumn change day
  happens once, at the later 02:00. A time that never happens (skipped when clocks go forward) is moved
  forward by the gap (02:30 becomes 03:30).
- A schedule that fires at least once every hour (``*`` in the hour field) steps by the wall-clock distance
  croniter computed, applied in absolute time, so it also fires in the repeated hour instead of skipping it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tradewind.sdk.errors import DagDefinitionError

if TYPE_CHECKING:
    from croniter import croniter as Croniter

PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def parse_timezone(value: str | tzinfo) -> tzinfo:
    """A time zone from an IANA name, ``UTC``, a ``+HH:MM`` offset, or a tzinfo (zoneinfo or pendulum)."""
    if isinstance(value, tzinfo):
        return value
    if value in ("UTC", "utc", "Z"):
        return UTC
    if value[:1] in "+-" and ":" in value:
        sign = -1 if value[0] == "-" else 1
        hours, minutes = value[1:].split(":", 1)
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    try:
        return ZoneInfo(value)
    except Exception as exc:
        raise DagDefinitionError(f"unknown time zone {value!r}") from exc


def timezone_name(tz: tzinfo) -> str:
    """The stored form of a time zone: its IANA key, ``UTC``, or a ``+HH:MM`` offset."""
    key = getattr(tz, "key", None) or getattr(tz, "name", None)
    if isinstance(key, str) and key and key[:1] not in "+-":
        return "UTC" if key in ("UTC", "Etc/UTC") else key
    if tz is UTC:
        return "UTC"
    offset = tz.utcoffset(None) or timedelta(0)
    if offset == timedelta(0):
        return "UTC"
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    return f"{sign}{abs(total) // 3600:02d}:{abs(total) % 3600 // 60:02d}"


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """A naive wall-clock time in ``tz`` as an aware UTC instant (second occurrence; gaps move forward)."""
    before = naive.replace(tzinfo=tz, fold=0).utcoffset() or timedelta(0)
    after = naive.replace(tzinfo=tz, fold=1).utcoffset() or timedelta(0)
    offset = before if after > before else after
    return (naive - offset).replace(tzinfo=UTC)


def make_naive(value: datetime, tz: tzinfo) -> datetime:
    """The wall-clock reading of an aware instant in ``tz``, without zone and fold."""
    local = value.astimezone(tz)
    return datetime(
        local.year, local.month, local.day, local.hour, local.minute, local.second, local.microsecond
    )


@lru_cache(maxsize=512)
def _is_valid(expression: str) -> bool:
    # Cached: every DAG file on a common schedule asks again at each parse.
    from croniter import croniter

    return bool(croniter.is_valid(expression))


@lru_cache(maxsize=512)
def _describe(expression: str) -> str:
    # Cached: cron_descriptor loads its translations on every call (about 1 ms).
    from cron_descriptor import CasingTypeEnum, ExpressionDescriptor

    descriptor = ExpressionDescriptor(
        expression, casing_type=CasingTypeEnum.Sentence, use_24hour_time_format=True
    )
    return str(descriptor.get_description())


class CronSchedule:
    """A cron expression (or preset) in a time zone: the next and previous ticks around an instant."""

    def __init__(self, expression: str, tz: str | tzinfo = "UTC") -> None:
        self.original = expression
        self.expression = PRESETS.get(expression, expression)
        if not _is_valid(self.expression):
            raise DagDefinitionError(f"invalid cron expression {expression!r} in schedule")
        self.tz = parse_timezone(tz)
        self.timezone = timezone_name(self.tz)

    @cached_property
    def _every_hour(self) -> bool:
        # croniter normalises an hour field that admits every hour to ["*"].
        return bool(self._croniter(datetime(2000, 1, 1)).expanded[1] == ["*"])

    def _croniter(self, start: datetime) -> Croniter:
        from croniter import croniter

        return croniter(self.expression, start_time=start)

    @cached_property
    def description(self) -> str:
        """A readable description ("At 06:30, Monday through Friday"), or "" where none can be made."""
        fields = self.expression.split()
        if len(fields) != 5:
            return ""
        try:
            if fields[2] != "*" and fields[4] != "*":
                # Cron runs when either day field matches: say so.
                by_day = _describe(" ".join([*fields[:4], "*"]))
                by_weekday = _describe(" ".join([*fields[:2], "*", fields[3], fields[4]]))
                return f"{by_day} (or) {by_weekday}"
            return _describe(self.expression)
        except Exception:
            return ""

    def next_after(self, current: datetime) -> datetime:
        """The first tick strictly after ``current`` (aware), in UTC."""
        naive = make_naive(current, self.tz)
        scheduled: datetime = self._croniter(naive).get_next(datetime)
        if not self._every_hour:
            return localize(scheduled, self.tz)
        return current.astimezone(UTC) + (scheduled - naive)

    def prev_before(self, current: datetime) -> datetime:
        """The last tick strictly before ``current`` (aware), in UTC."""
        naive = make_naive(current, self.tz)
        scheduled: datetime = self._croniter(naive).get_prev(datetime)
        if not self._every_hour:
            return localize(scheduled, self.tz)
        return current.astimezone(UTC) - (naive - scheduled)

    def align_to_next(self, current: datetime) -> datetime:
        """``current`` if it is a tick, else the next tick."""
        following = self.next_after(current)
        return current if self.prev_before(following) == current else following

    def align_to_prev(self, current: datetime) -> datetime:
        """``current`` if it is a tick, else the previous tick."""
        preceding = self.prev_before(current)
        return current if self.next_after(preceding) == current else preceding

    def to_dict(self) -> dict[str, Any]:
        return {"expression": self.original, "timezone": self.timezone}


class CronSteps:
    """Stepping by a cron schedule, for the timetables built on one (``self._cron``)."""

    _cron: CronSchedule

    @property
    def expression(self) -> str:
        return self._cron.expression

    @property
    def timezone(self) -> str:
        return self._cron.timezone

    @property
    def summary(self) -> str:
        return self._cron.original

    def _get_next(self, current: datetime) -> datetime:
        return self._cron.next_after(current)

    def _get_prev(self, current: datetime) -> datetime:
        return self._cron.prev_before(current)

    def _align_to_next(self, current: datetime) -> datetime:
        return self._cron.align_to_next(current)

    def _align_to_prev(self, current: datetime) -> datetime:
        return self._cron.align_to_prev(current)
