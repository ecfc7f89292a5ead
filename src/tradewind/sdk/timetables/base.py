"""What every timetable shares: data intervals, run infos, the restriction a DAG puts on its runs, the clock.

The interface is Airflow's (``next_dagrun_info(*, last_automated_data_interval, restriction)`` and
``infer_manual_data_interval(*, run_after)``), so a timetable written for Airflow plugs in unchanged. Where
Airflow's built-in timetables read the wall clock, Tradewind's read :func:`evaluation_time`, which the
scheduler sets to the ``now`` of its tick: a frozen clock in tests, one instant for a whole tick in service.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple

_evaluation_time: ContextVar[datetime | None] = ContextVar("tradewind_timetable_now", default=None)


def evaluation_time() -> datetime:
    """The instant timetables treat as "now": the scheduler's tick time, else the wall clock (UTC)."""
    pinned = _evaluation_time.get()
    return pinned if pinned is not None else datetime.now(UTC)


@contextmanager
def evaluated_at(now: datetime) -> Iterator[None]:
    """Evaluate timetables as if the time were ``now`` (aware) inside the block."""
    token = _evaluation_time.set(now.astimezone(UTC))
    try:
        yield
    finally:
        _evaluation_time.reset(token)


class DataInterval(NamedTuple):
    """The span of data a run covers: ``[start, end)``; both aware, in UTC."""

    start: datetime
    end: datetime

    @classmethod
    def exact(cls, at: datetime) -> DataInterval:
        return cls(at, at)


class TimeRestriction(NamedTuple):
    """What a DAG allows: runs no earlier than ``earliest`` nor later than ``latest`` (both inclusive, may
    be None), and with ``catchup`` False no missed runs before the current time."""

    earliest: datetime | None
    latest: datetime | None
    catchup: bool


class DagRunInfo(NamedTuple):
    """A run a timetable asks for: created once ``run_after`` has passed, covering ``data_interval``."""

    run_after: datetime
    data_interval: DataInterval

    @classmethod
    def exact(cls, at: datetime) -> DagRunInfo:
        """A run at one instant, with an empty data interval there."""
        return cls(at, DataInterval.exact(at))

    @classmethod
    def interval(cls, start: datetime, end: datetime) -> DagRunInfo:
        """A run for ``[start, end)``, created when the interval ends."""
        return cls(end, DataInterval(start, end))

    @property
    def logical_date(self) -> datetime:
        """The run's logical date: the start of its data interval (Airflow's meaning)."""
        return self.data_interval.start


class Timetable:
    """Base of every timetable: when scheduled runs are due, and the data interval of a manual run.

    Subclasses implement :meth:`next_dagrun_info`; ``serialize``/``deserialize`` let the scheduler rebuild
    the timetable from the stored DAG without importing the DAG file.
    """

    description: str = ""
    periodic: bool = True
    can_be_scheduled: bool = True
    run_ordering: Sequence[str] = ("data_interval_end", "logical_date")
    active_runs_limit: int | None = None
    #: The ``type`` key this class is stored under; None for user classes (stored by qualified name).
    type_name: ClassVar[str | None] = None

    @property
    def summary(self) -> str:
        """A short text for the DAG list (the cron expression, the delta, a preset)."""
        return type(self).__name__

    def validate(self) -> None:
        """Raise a DagDefinitionError if the timetable cannot work (checked when the DAG is defined)."""

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        """The next scheduled run after the last automated one (None: there was none), or None if no more."""
        raise NotImplementedError

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        """The data interval of a run triggered by hand at ``run_after``."""
        return DataInterval.exact(run_after)

    def serialize(self) -> dict[str, Any]:
        return {}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Timetable)
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(sorted(self.serialize().items()))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.summary})"
