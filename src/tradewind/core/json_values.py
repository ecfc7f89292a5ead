"""Values task code hands over as JSON (XComs, task and asset state): encoded one way, wherever encoded."""

from __future__ import annotations

import json
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
