"""``days_ago``: midnight UTC today, n days back (Airflow 2's start-date helper)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tradewind.sdk.dates import days_ago


def test_days_ago_is_midnight_utc_n_days_back() -> None:
    before = datetime.now(UTC)
    value = days_ago(2)
    after = datetime.now(UTC)
    assert value.tzinfo is UTC
    assert (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
    assert value.date() in {(before - timedelta(days=2)).date(), (after - timedelta(days=2)).date()}
    assert days_ago(0, hour=6).hour == 6
