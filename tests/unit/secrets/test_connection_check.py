"""Testing a connection tests the one given, even when an environment variable defines the same id."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.sdk.connection import Connection
from tradewind.secrets.connection_check import check_connection


def test_the_connection_under_test_wins_over_an_environment_variable_of_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND_CONN_WAREHOUSE", f"sqlite:///{tmp_path}/no/such/folder/x.db")
    good = Connection("warehouse", conn_type="sqlite", host=str(tmp_path / "warehouse.db"))
    verdict = check_connection(good)
    assert verdict.ok, verdict.message
    bad = Connection("warehouse", conn_type="sqlite", host=str(tmp_path / "missing" / "x.db"))
    verdict = check_connection(bad)
    assert not verdict.ok
    assert "'warehouse'" in verdict.message and "tradewind_connection_test_" not in verdict.message
