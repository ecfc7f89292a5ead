"""``days_ago``: Airflow 2's start-date helper, still found in many DAG files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def days_ago(n: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0) -> datetime:
    """Today at ``hour:minute:second`` UTC, ``n`` days back. It moves with every parse: as in Airflow, a
    fixed ``start_date`` is the better choice."""
    today = datetime.now(UTC).replace(hour=hour, minute=minute, second=second, microsecond=microsecond)
    return today - timedelta(days=n)
