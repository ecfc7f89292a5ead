"""Settings handed to a child process arrive whole, secrets included, without re-reading the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.config.settings import load_settings
from tradewind.config.settings_handoff import settings_from_payload, settings_payload


def test_payload_round_trip_keeps_every_value_and_secret(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", "postgresql://etl:s3cret@db.internal:5432/tw")
    monkeypatch.setenv("TRADEWIND__EXECUTION_API__JWT_SECRET", "x" * 40)
    monkeypatch.setenv("TRADEWIND__KUBERNETES__NODE_SELECTOR", '{"pool": "etl"}')
    monkeypatch.setenv("TRADEWIND__CORE__PARALLELISM", "3")
    settings = load_settings()
    payload = settings_payload(settings)
    assert payload.endswith("\n") and payload.count("\n") == 1  # one line on a pipe
    # The child's own environment says otherwise: the payload wins, nothing is read again.
    monkeypatch.setenv("TRADEWIND__CORE__PARALLELISM", "99")
    monkeypatch.delenv("TRADEWIND__DATABASE__URL")
    received = settings_from_payload(payload)
    assert received == settings
    assert received.database_url == "postgresql://etl:s3cret@db.internal:5432/tw"
    assert received.core.parallelism == 3
    assert received.kubernetes.node_selector == {"pool": "etl"}
    assert received.home == settings.home
