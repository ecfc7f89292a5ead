"""The pipe between the triggerer service and its trigger child: one JSON object per line.

Service -> child (the child's stdin): first the task settings (``config.settings_handoff``), then
``{"op": "run", "id": 7, "classpath": "...", "kwargs": {...}}`` and ``{"op": "cancel", "id": 7}``.
Child -> service (a pipe of its own, so what trigger code prints never mixes in):
``{"op": "event", "id": 7, "payload": ...}``, ``{"op": "failed", "id": 7, "traceback": ["..."]}`` and
``{"op": "blocked", "name": "trigger 7 (...)", "ms": 1520, "ongoing": false}``. Trigger code reads
connections, variables and other DAGs' states through the service, which holds the database: the child asks
``{"op": "call", "rid": 3, "method": "get_connection", "kwargs": {...}}`` and the service answers on stdin
``{"op": "reply", "rid": 3, "value": ...}`` or ``{"op": "reply", "rid": 3, "error": "..."}``. Values are
tagged JSON (``core.json_values``). Nothing here imports SQLAlchemy: the child has no database.
"""

from __future__ import annotations

import json
from typing import Any

RUN = "run"
CANCEL = "cancel"
EVENT = "event"
FAILED = "failed"
BLOCKED = "blocked"
CALL = "call"
REPLY = "reply"
#: What trigger code may read through the service (the read-only part of ``sdk.runtime.TaskRuntime``).
CALLABLE = frozenset(
    {"get_connection", "get_variable", "dag_run_states", "task_instance_states", "dag_run_state"}
)
#: Longest line either side accepts (a trigger's arguments or an event's payload).
MAX_LINE = 16 * 1024 * 1024


def encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n").encode()


def decode(line: bytes | str) -> dict[str, Any]:
    message = json.loads(line)
    if not isinstance(message, dict) or "op" not in message:
        raise ValueError(f"not a message: {line[:200]!r}")
    return message
