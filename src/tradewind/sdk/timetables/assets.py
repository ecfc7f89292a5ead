"""Timetables of DAGs scheduled on assets: ``schedule=[asset, ...]`` or an asset condition, and
``AssetOrTimeSchedule`` (on asset events and on a time-based timetable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tradewind.sdk.assets import BaseAsset, Condition, as_condition, describe_condition
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable


class AssetTriggeredTimetable(Timetable):
    """Runs only when the asset condition is met by new events; the scheduler creates those runs."""

    type_name = "assets"
    periodic = False
    run_ordering: Sequence[str] = ("logical_date",)
    description = "Triggered by assets"

    def __init__(self, condition: BaseAsset | Condition) -> None:
        self.condition: Condition = (
            condition.to_condition() if isinstance(condition, BaseAsset) else dict(condition)
        )

    @property
    def summary(self) -> str:
        return f"Asset: {describe_condition(self.condition)}"

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        return None

    def serialize(self) -> dict[str, Any]:
        return {"condition": self.condition}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(dict(data["condition"]))


class AssetOrTimeSchedule(Timetable):
    """``AssetOrTimeSchedule(timetable=CronTriggerTimetable(...), assets=a & b)``: a run at each time of the
    timetable, and one whenever the asset condition is met."""

    type_name = "asset_or_time"

    def __init__(self, *, timetable: Timetable, assets: object) -> None:
        if not isinstance(timetable, Timetable):
            raise DagDefinitionError(
                f"AssetOrTimeSchedule(timetable=...) takes a Timetable; got {type(timetable).__name__}"
            )
        condition = as_condition(assets)
        if condition is None:
            raise DagDefinitionError(
                f"AssetOrTimeSchedule(assets=...) takes assets or an asset condition; got {assets!r}"
            )
        self._set(timetable, condition.to_condition())

    def _set(self, timetable: Timetable, condition: Condition) -> None:
        self.timetable = timetable
        self.condition: Condition = condition
        self.periodic = timetable.periodic
        self.run_ordering = timetable.run_ordering
        self.description = f"Triggered by assets or {timetable.description}".rstrip()

    @property
    def summary(self) -> str:
        return f"Asset or {self.timetable.summary}"

    def validate(self) -> None:
        self.timetable.validate()

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        return self.timetable.next_dagrun_info(
            last_automated_data_interval=last_automated_data_interval, restriction=restriction
        )

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        return self.timetable.infer_manual_data_interval(run_after=run_after)

    def serialize(self) -> dict[str, Any]:
        """For equality only: the stored form, with the wrapped timetable's own stored form, is written by
        ``tradewind.sdk.schedules.timetable_to_dict`` (which knows every timetable type)."""
        inner = self.timetable
        return {"condition": self.condition, "timetable": [type(inner).__qualname__, inner.serialize()]}

    @classmethod
    def from_parts(cls, timetable: Timetable, condition: Condition) -> AssetOrTimeSchedule:
        """Rebuild from the stored condition and the already rebuilt wrapped timetable."""
        schedule = cls.__new__(cls)
        schedule._set(timetable, dict(condition))
        return schedule


def asset_condition_of(timetable_data: dict[str, Any]) -> Condition | None:
    """The asset condition of a stored timetable (``assets`` or ``asset_or_time``), else None."""
    if timetable_data.get("type") in (AssetTriggeredTimetable.type_name, AssetOrTimeSchedule.type_name):
        condition = timetable_data.get("condition")
        return dict(condition) if isinstance(condition, dict) else None
    return None
