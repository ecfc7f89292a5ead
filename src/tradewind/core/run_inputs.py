"""What a user may give when triggering a run (run id, logical date, conf): the one rule every door applies
(REST v1 and v2, the trigger form, the CLI, TriggerDagRunOperator)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from tradewind.sdk.errors import RefusedInputError

#: Airflow 3's default ``[scheduler] allowed_run_id_pattern`` for run ids users give.
DEFAULT_ALLOWED_RUN_ID_PATTERN = r"^[A-Za-z0-9_.~:+-]+$"
#: The length of the run_id column (Airflow's too).
MAX_RUN_ID_LENGTH = 250
#: Logical dates whose schedule arithmetic (previous and next interval) stays inside datetime's range.
MIN_LOGICAL_DATE = datetime(2, 1, 1, tzinfo=UTC)
MAX_LOGICAL_DATE = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)
#: Deeper conf is refused before anything walks it recursively (redaction, JSON encoding, templates).
MAX_CONF_DEPTH = 64
_SHOWN = 60


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def check_run_id(
    run_id: str, *, pattern: str = DEFAULT_ALLOWED_RUN_ID_PATTERN, field: str = "dag_run_id"
) -> str:
    """``run_id`` if it may name a run; RefusedInputError otherwise. Control characters are never allowed,
    whatever the pattern, and a run id is at most MAX_RUN_ID_LENGTH characters."""
    if len(run_id) > MAX_RUN_ID_LENGTH:
        raise RefusedInputError(
            f"{field} is {len(run_id)} characters long; at most {MAX_RUN_ID_LENGTH} are allowed", field=field
        )
    if any(unicodedata.category(char) == "Cc" for char in run_id) or not re.match(pattern, run_id):
        raise RefusedInputError(
            f"{field} {_shown(run_id)} is not allowed: it must match {pattern!r} "
            "([scheduler] allowed_run_id_pattern) and hold no control characters",
            field=field,
        )
    return run_id


def check_logical_date(logical_date: datetime, *, field: str = "logical_date") -> datetime:
    aware = logical_date if logical_date.tzinfo is not None else logical_date.replace(tzinfo=UTC)
    if not MIN_LOGICAL_DATE <= aware <= MAX_LOGICAL_DATE:
        raise RefusedInputError(
            f"{field} {logical_date.isoformat()} is out of range: it must lie between "
            f"{MIN_LOGICAL_DATE.isoformat()} and {MAX_LOGICAL_DATE.isoformat()}",
            field=field,
        )
    return logical_date


def check_conf_depth(conf: Any, *, field: str = "conf") -> None:
    """RefusedInputError if ``conf`` nests objects or arrays deeper than MAX_CONF_DEPTH (checked without
    recursion, so any depth is refused cleanly)."""
    stack: list[tuple[Any, int]] = [(conf, 1)]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_CONF_DEPTH:
            raise RefusedInputError(f"{field} is nested deeper than {MAX_CONF_DEPTH} levels", field=field)
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children)
