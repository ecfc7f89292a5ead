"""Fixed-length (``timedelta``) and calendar (``relativedelta``) steps between runs, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from dateutil.relativedelta import relativedelta, weekday

from tradewind.sdk.errors import DagDefinitionError

Delta: TypeAlias = timedelta | relativedelta


def check_positive(delta: Delta, what: str = "schedule") -> None:
    reference = datetime(2000, 1, 1)
    if reference + delta <= reference:
        raise DagDefinitionError(f"{what} interval must be positive, not {delta!r}")


def step_forward(current: datetime, delta: Delta) -> datetime:
    moved: datetime = current.astimezone(UTC) + delta
    return moved.astimezone(UTC)


def step_back(current: datetime, delta: Delta) -> datetime:
    moved: datetime = current.astimezone(UTC) - delta
    return moved.astimezone(UTC)


def delta_summary(delta: Delta) -> str:
    return str(delta)


def encode_delta(delta: Delta) -> float | dict[str, Any]:
    """Seconds for a timedelta; the non-empty fields for a relativedelta (weekday as ``[day, n]``)."""
    if isinstance(delta, timedelta):
        return delta.total_seconds()
    encoded: dict[str, Any] = {k: v for k, v in vars(delta).items() if not k.startswith("_") and v}
    if delta.weekday is not None:
        encoded["weekday"] = [delta.weekday.weekday, delta.weekday.n] if delta.weekday.n else [
            delta.weekday.weekday
        ]
    return encoded


def decode_delta(value: float | int | dict[str, Any]) -> Delta:
    if isinstance(value, dict):
        fields = dict(value)
        if "weekday" in fields:
            fields["weekday"] = weekday(*fields["weekday"])
        return relativedelta(**fields)
    return timedelta(seconds=float(value))


class DeltaSteps:
    """Stepping by a fixed or calendar delta (``self._delta``); every instant is on the grid."""

    _delta: Delta

    @property
    def delta(self) -> Delta:
        return self._delta

    @property
    def summary(self) -> str:
        return delta_summary(self._delta)

    def _get_next(self, current: datetime) -> datetime:
        return step_forward(current, self._delta)

    def _get_prev(self, current: datetime) -> datetime:
        return step_back(current, self._delta)

    def _align_to_next(self, current: datetime) -> datetime:
        return current

    def _align_to_prev(self, current: datetime) -> datetime:
        return current
