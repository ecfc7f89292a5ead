"""The asset state store: JSON values kept on an asset under keys, read and written by tasks."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tradewind.sdk.errors import NotFoundError
from tradewind.store.assets import find_asset
from tradewind.store.tables import AssetModel, AssetStateModel


def _asset(session: Session, name: str | None, uri: str | None) -> AssetModel | None:
    return find_asset(session=session, name=name, uri=uri) if (name or uri) else None


def get_asset_state(*, session: Session, name: str | None, uri: str | None, key: str) -> Any:
    """The value under ``key`` of the asset (by name, else uri), or None."""
    asset = _asset(session, name, uri)
    if asset is None:
        return None
    stmt = select(AssetStateModel.value).where(
        AssetStateModel.asset_id == asset.id, AssetStateModel.key == key
    )
    stored = session.scalar(stmt)
    return None if stored is None else json.loads(stored)


def set_asset_state(
    *, session: Session, name: str | None, uri: str | None, key: str, value: Any, now: datetime
) -> None:
    """Store ``value`` under ``key``; NotFoundError if no such asset is known (parsed or produced)."""
    asset = _asset(session, name, uri)
    if asset is None:
        raise NotFoundError(
            f"no asset with name {name!r}" if name else f"no asset with uri {uri!r}", kind="asset"
        )
    row = session.scalars(
        select(AssetStateModel).where(AssetStateModel.asset_id == asset.id, AssetStateModel.key == key)
    ).first()
    if row is None:
        session.add(AssetStateModel(asset_id=asset.id, key=key, value=json.dumps(value), updated_at=now))
    else:
        row.value, row.updated_at = json.dumps(value), now


def delete_asset_state(
    *, session: Session, name: str | None, uri: str | None, key: str | None = None
) -> None:
    """Remove ``key`` of the asset (every key when ``key`` is None)."""
    asset = _asset(session, name, uri)
    if asset is None:
        return
    stmt = delete(AssetStateModel).where(AssetStateModel.asset_id == asset.id)
    if key is not None:
        stmt = stmt.where(AssetStateModel.key == key)
    session.execute(stmt)
