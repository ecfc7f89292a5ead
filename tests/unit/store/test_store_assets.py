"""Asset rows: one per (name, uri), also when two processes create the same asset at once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from tradewind.store import assets
from tradewind.store.engine import make_session_factory, transaction
from tradewind.store.tables import AssetModel

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_an_asset_created_meanwhile_is_reused_and_the_transaction_goes_on(migrated_engine: Engine) -> None:
    sessions = make_session_factory(migrated_engine)
    with transaction(sessions) as session:
        first = assets.ensure_asset(
            session=session, name="a", uri="s3://a", group="asset", extra=None, now=NOW
        )
    with transaction(sessions) as session:
        # What a second creator that looked before the first committed does: insert the same (name, uri).
        duplicate = AssetModel(
            name="a", uri="s3://a", group="asset", extra={}, created_at=NOW, updated_at=NOW
        )
        assert not assets._added(session, duplicate)
        again = assets.ensure_asset(session=session, name="a", uri="s3://a", group="asset", extra={"k": 1},
                                    now=NOW)  # fmt: skip
        assert again.id == first.id
    with sessions() as session:
        rows = session.scalars(select(AssetModel)).all()
        assert [(r.id, r.extra) for r in rows] == [(first.id, {"k": 1})]
