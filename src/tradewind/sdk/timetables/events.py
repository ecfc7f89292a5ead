"""``EventsTimetable``: runs at a fixed list of instants (match days, release dates)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tradewind.sdk.timetables.base import (
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
    evaluation_time,
)


def _aware(value: datetime) -> datetime:
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC)


class EventsTimetable(Timetable):
    """Runs at each of ``event_dates``. With ``restrict_to_events`` a manual run takes the latest event
    at or before its time (the first event, if it is earlier than all), instead of its own time."""

    type_name = "events"

    def __init__(
        self,
        event_dates: Iterable[datetime],
        restrict_to_events: bool = False,
        presorted: bool = False,
        description: str | None = None,
    ) -> None:
        self.event_dates = [_aware(d) for d in event_dates]
        if not presorted:
            self.event_dates.sort()
        self.restrict_to_events = restrict_to_events
        if description is None:
            if self.event_dates:
                first, last = self.event_dates[0].isoformat(), self.event_dates[-1].isoformat()
                self.description = f"{len(self.event_dates)} events between {first} and {last}"
            else:
                self.description = "No events"
            self._summary = f"{len(self.event_dates)} events"
        else:
            self.description = self._summary = description

    @property
    def summary(self) -> str:
        return self._summary

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        earliest = restriction.earliest
        if not restriction.catchup:
            now = evaluation_time()
            if earliest is None or now > earliest:
                earliest = now
        last = last_automated_data_interval
        for event in self.event_dates:
            if earliest is not None and event < earliest:
                continue
            if last is not None and event <= last.end:
                continue
            break
        else:
            return None
        if restriction.latest is not None and event > restriction.latest:
            return None
        return DagRunInfo.exact(event)

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        if not self.restrict_to_events or not self.event_dates:
            return DataInterval.exact(run_after)
        if run_after < self.event_dates[0]:
            return DataInterval.exact(self.event_dates[0])
        latest = max(event for event in self.event_dates if event <= run_after)
        return DataInterval.exact(latest)

    def serialize(self) -> dict[str, Any]:
        return {
            "event_dates": [d.isoformat() for d in self.event_dates],
            "restrict_to_events": self.restrict_to_events,
            "description": self.description,
            "summary": self._summary,
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        timetable = cls(
            [datetime.fromisoformat(d) for d in data["event_dates"]],
            restrict_to_events=bool(data.get("restrict_to_events", False)),
            presorted=True,
            description=data.get("description"),
        )
        timetable._summary = data.get("summary", timetable._summary)
        return timetable
