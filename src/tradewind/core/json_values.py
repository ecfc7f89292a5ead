"""Values task code hands over as JSON (XComs, task and asset state, trigger arguments and events): encoded one
way, wherever encoded."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from tradewind.sdk.errors import TradewindError


def encode_xcom_value(value: Any, *, task_id: str, key: str) -> str:
    """``value`` as JSON text; a TradewindError naming the task and key when it is not JSON-serialisable."""
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TradewindError(
            f"XCom {key!r} of task {task_id!r} is not JSON-serialisable ({type(value).__name__}): {exc}"
        ) from None


#: The key marking an encoded non-JSON value in ``to_tagged_json``'s output.
TYPE_TAG = "__tradewind_type__"


def to_tagged_json(value: Any) -> Any:
    """``value`` as JSON data, with datetimes, dates, times and timedeltas (and tuples, as lists) encoded as
    tagged objects ``from_tagged_json`` turns back: trigger arguments and events cross processes this way.
    TypeError for anything else JSON cannot hold."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise TypeError(f"{value!r} cannot be stored as JSON")
        return value
    if isinstance(value, datetime):
        return {TYPE_TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {TYPE_TAG: "date", "value": value.isoformat()}
    if isinstance(value, time):
        return {TYPE_TAG: "time", "value": value.isoformat()}
    if isinstance(value, timedelta):
        return {TYPE_TAG: "timedelta", "value": value.total_seconds()}
    if isinstance(value, list | tuple):
        return [to_tagged_json(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"only str keys can be stored as JSON; got {sorted(map(repr, value))[:3]}")
        return {k: to_tagged_json(v) for k, v in value.items()}
    raise TypeError(f"a {type(value).__name__} cannot be stored as JSON: {value!r}")


def from_tagged_json(value: Any) -> Any:
    """The values ``to_tagged_json`` encoded."""
    if isinstance(value, list):
        return [from_tagged_json(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(TYPE_TAG)
    if kind is None or set(value) != {TYPE_TAG, "value"}:
        return {k: from_tagged_json(v) for k, v in value.items()}
    raw = value["value"]
    if kind == "datetime":
        return datetime.fromisoformat(raw)
    if kind == "date":
        return date.fromisoformat(raw)
    if kind == "time":
        return time.fromisoformat(raw)
    if kind == "timedelta":
        return timedelta(seconds=raw)
    return {k: from_tagged_json(v) for k, v in value.items()}
