"""Asset events created through the API (external producers), audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradewind.actions.actor import Actor
from tradewind.core.clock import utcnow
from tradewind.core.redaction import redact
from tradewind.sdk.errors import NotFoundError
from tradewind.store import assets
from tradewind.store.audit import record_audit
from tradewind.store.engine import transaction
from tradewind.store.tables import AssetEventModel, AssetModel
from tradewind.store.wakeup import ring


def create_asset_event(
    factory: sessionmaker[Session], actor: Actor, *, asset_id: int, extra: dict[str, Any] | None
) -> tuple[AssetEventModel, AssetModel]:
    """Record an event of a known asset (NotFoundError otherwise) and queue it for its consumers."""
    now = utcnow()
    with transaction(factory) as session:
        asset = assets.get_asset(session=session, asset_id=asset_id)
        leaf = {"ref": {"name": asset.name, "uri": asset.uri}, "extra": dict(extra or {})}
        [event] = assets.record_events(session=session, events=[leaf], source=None, now=now)
        ring(session)  # the DAGs scheduled on the asset may be due a run
        record_audit(
            session=session,
            event="asset_event_create",
            owner=actor.username,
            extra={"asset_id": asset.id, "uri": asset.uri, "extra": redact(dict(extra or {}))},
            now=now,
        )
        session.flush()
        return event, asset


def asset_id_of(session: Session, *, asset_id: int | None, uri: str | None, name: str | None) -> int:
    """The asset an API body names by id, uri or name (NotFoundError if none matches)."""
    if asset_id is not None:
        return assets.get_asset(session=session, asset_id=asset_id).id
    if uri is not None and name is None:
        return assets.get_asset_by_uri(session=session, uri=uri).id
    found = assets.find_asset(session=session, name=name, uri=uri)
    if found is None:
        raise NotFoundError(
            f"no asset with name {name!r}" + (f" and uri {uri!r}" if uri else ""), kind="asset", ident=name
        )
    return found.id
