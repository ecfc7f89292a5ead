"""WeekDay: the days of the week as ISO numbers (Monday 1 ... Sunday 7), and reading them from names."""

from __future__ import annotations

import enum
from collections.abc import Iterable


@enum.unique
class WeekDay(enum.IntEnum):
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7

    @classmethod
    def get_weekday_number(cls, week_day_str: str) -> WeekDay:
        """The day named ``week_day_str`` in any case (``"monday"``, ``"Sunday"``); AttributeError if none."""
        name = week_day_str.upper()
        if name not in cls.__members__:
            raise AttributeError(
                f"Invalid week day {week_day_str!r}; expected one of {', '.join(cls.__members__)}"
            )
        return cls[name]

    @classmethod
    def convert(cls, day: str | WeekDay) -> int:
        """The ISO number of a day given as a WeekDay or a name."""
        if isinstance(day, WeekDay):
            return day
        return cls.get_weekday_number(day)

    @classmethod
    def validate_week_day(cls, week_day: str | WeekDay | Iterable[str | WeekDay]) -> set[int]:
        """One day or several (a set, list ...) as a set of ISO numbers."""
        if isinstance(week_day, WeekDay | str):
            return {cls.convert(week_day)}
        if not isinstance(week_day, Iterable):
            raise TypeError(
                f"week_day must be a day name, a WeekDay or an iterable of them; got {type(week_day).__name__}"
            )
        return {cls.convert(day) for day in week_day}
