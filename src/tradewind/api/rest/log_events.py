"""A task log's text as Airflow 3's structured log messages: one ``{"timestamp", "event"}`` per line."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def log_events(text: str) -> list[dict[str, Any]]:
    """Lines that open with an ISO timestamp (as the runner writes them) carry it apart; other lines
    (tracebacks, a task's own prints) are events without one."""
    events: list[dict[str, Any]] = []
    for line in text.splitlines():
        stamp, _, rest = line.partition(" ")
        try:
            when: datetime | None = datetime.fromisoformat(stamp)
        except ValueError:
            when, rest = None, line
        events.append({"timestamp": when, "event": rest})
    return events
