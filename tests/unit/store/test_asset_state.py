"""The asset state store in the metadata database, through the runner's task runtime."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from tradewind.execution.db_runtime import DbRuntime
from tradewind.sdk.errors import NotFoundError
from tradewind.store import assets
from tradewind.store.engine import make_session_factory, transaction

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_values_are_kept_per_asset_by_name_or_uri(migrated_engine: Engine) -> None:
    sessions = make_session_factory(migrated_engine)
    with transaction(sessions) as session:
        for name in ("orders", "customers"):
            assets.ensure_asset(session=session, name=name, uri=f"s3://w/{name}", group="asset", extra=None,
                                now=NOW)  # fmt: skip
    runtime = DbRuntime(sessions)
    runtime.set_asset_state(name="orders", uri=None, key="watermark", value={"at": "2026-01-01"})
    runtime.set_asset_state(name="orders", uri=None, key="watermark", value={"at": "2026-01-02"})
    runtime.set_asset_state(name="customers", uri=None, key="watermark", value=5)
    assert runtime.get_asset_state(name="orders", uri=None, key="watermark") == {"at": "2026-01-02"}
    assert runtime.get_asset_state(name=None, uri="s3://w/customers", key="watermark") == 5
    assert runtime.get_asset_state(name="unknown", uri=None, key="watermark") is None
    with pytest.raises(NotFoundError, match="no asset with name 'unknown'"):
        runtime.set_asset_state(name="unknown", uri=None, key="k", value=1)
    runtime.delete_asset_state(name="orders", uri=None, key="watermark")
    assert runtime.get_asset_state(name="orders", uri=None, key="watermark") is None
    runtime.clear_asset_state(name="customers", uri=None)
    assert runtime.get_asset_state(name="customers", uri=None, key="watermark") is None
