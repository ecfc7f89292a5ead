"""Assets, aliases and asset events: which DAGs produce and consume which assets, recording events (from a
task's success or the API) and queueing them for the DAGs scheduled on them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradewind.core.json_values import to_tagged_json
from tradewind.core.serialized_dag import SerializedDag
from tradewind.sdk.assets import iter_leaves
from tradewind.sdk.errors import NotFoundError
from tradewind.sdk.timetables.assets import asset_condition_of
from tradewind.store.tables import (
    AssetAliasAssetModel,
    AssetAliasModel,
    AssetDagRunQueueModel,
    AssetEventModel,
    AssetModel,
    AssetWatcherModel,
    DagModel,
    DagScheduleAssetAliasModel,
    DagScheduleAssetModel,
    TaskOutletAssetModel,
    TriggerModel,
)


@dataclass(frozen=True, slots=True)
class EventSource:
    """The task try an event came from (None for events created through the API)."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1


# -- assets and aliases ---------------------------------------------------------------------------------
def find_asset(*, session: Session, name: str | None = None, uri: str | None = None) -> AssetModel | None:
    """The asset with this name and/or uri (the oldest, if a uri alone matches several)."""
    stmt = select(AssetModel)
    if name is not None:
        stmt = stmt.where(AssetModel.name == name)
    if uri is not None:
        stmt = stmt.where(AssetModel.uri == uri)
    return session.scalars(stmt.order_by(AssetModel.id).limit(1)).first()


def get_asset(*, session: Session, asset_id: int) -> AssetModel:
    asset = session.get(AssetModel, asset_id)
    if asset is None:
        raise NotFoundError(f"asset {asset_id} does not exist")
    return asset


def get_asset_by_uri(*, session: Session, uri: str) -> AssetModel:
    asset = find_asset(session=session, uri=uri)
    if asset is None:
        raise NotFoundError(f"asset with uri {uri!r} does not exist")
    return asset


def ensure_asset(
    *, session: Session, name: str, uri: str, group: str, extra: Mapping[str, Any] | None, now: datetime
) -> AssetModel:
    """The asset row for (name, uri), created if new; a non-empty ``extra`` replaces the stored one."""
    asset = find_asset(session=session, name=name, uri=uri)
    if asset is None:
        asset = AssetModel(name=name, uri=uri, group=group, extra=dict(extra or {}), created_at=now,
                           updated_at=now)  # fmt: skip
        if _added(session, asset):
            return asset
        # Another process created it meanwhile (two producers, or the DAG processor and a runner).
        found = find_asset(session=session, name=name, uri=uri)
        assert found is not None
        return found
    # Many DAGs name the same asset, most without its extra: only a definition with an extra updates it.
    if extra and (asset.extra != dict(extra) or asset.group != group):
        asset.extra, asset.group, asset.updated_at = dict(extra), group, now
    return asset


def ensure_alias(*, session: Session, name: str, group: str = "asset") -> AssetAliasModel:
    alias = session.scalars(select(AssetAliasModel).where(AssetAliasModel.name == name)).first()
    if alias is None:
        alias = AssetAliasModel(name=name, group=group)
        if not _added(session, alias):
            alias = session.scalars(select(AssetAliasModel).where(AssetAliasModel.name == name)).one()
    return alias


def _added(session: Session, row: object) -> bool:
    """Insert ``row`` in a savepoint; False if a unique constraint says it exists already."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def _asset_of_leaf(session: Session, leaf: Mapping[str, Any], now: datetime) -> AssetModel | None:
    if "asset" in leaf:
        a = leaf["asset"]
        return ensure_asset(session=session, name=a["name"], uri=a["uri"], group=a.get("group", "asset"),
                            extra=a.get("extra"), now=now)  # fmt: skip
    if "ref" in leaf:
        return find_asset(session=session, name=leaf["ref"].get("name"), uri=leaf["ref"].get("uri"))
    return None


def resolve_leaf(*, session: Session, leaf: Mapping[str, Any]) -> set[int]:
    """The ids of the assets a stored condition leaf stands for (an alias: the assets it resolved to)."""
    if "alias" in leaf:
        stmt = (
            select(AssetAliasAssetModel.asset_id)
            .join(AssetAliasModel, AssetAliasModel.id == AssetAliasAssetModel.alias_id)
            .where(AssetAliasModel.name == leaf["alias"]["name"])
        )
        return set(session.scalars(stmt))
    spec = leaf.get("asset") or leaf.get("ref") or {}
    asset = find_asset(session=session, name=spec.get("name"), uri=spec.get("uri"))
    return set() if asset is None else {asset.id}


# -- what the DAG processor stores ----------------------------------------------------------------------
def sync_dag_references(*, session: Session, sdags: Sequence[SerializedDag], now: datetime) -> None:
    """Store the assets and aliases each DAG is scheduled on and the assets its tasks produce, replacing
    what an earlier parse stored for these DAGs."""
    dag_ids = [sdag.dag_id for sdag in sdags]
    if not dag_ids:
        prune_watchers(session=session)
        return
    watchers: dict[int, dict[str, Any]] = {}
    for model in (DagScheduleAssetModel, DagScheduleAssetAliasModel, TaskOutletAssetModel):
        session.execute(delete(model).where(model.dag_id.in_(dag_ids)))
    for sdag in sdags:
        schedule: set[int] = set()
        aliases: set[int] = set()
        condition = asset_condition_of(sdag.timetable)
        for leaf in iter_leaves(condition) if condition is not None else ():
            if "alias" in leaf:
                aliases.add(ensure_alias(session=session, name=leaf["alias"]["name"],
                                         group=leaf["alias"].get("group", "asset")).id)  # fmt: skip
            elif (asset := _asset_of_leaf(session, leaf, now)) is not None:
                schedule.add(asset.id)
                if "asset" in leaf:
                    specs = watchers.setdefault(asset.id, {})
                    for spec in leaf["asset"].get("watchers") or ():
                        specs[_watcher_key(spec)] = spec
        session.add_all(DagScheduleAssetModel(dag_id=sdag.dag_id, asset_id=i) for i in schedule)
        session.add_all(DagScheduleAssetAliasModel(dag_id=sdag.dag_id, alias_id=i) for i in aliases)
        for task in sdag.tasks:
            extra = task.model_extra or {}
            produced: set[int] = set()
            for leaf in [*extra.get("outlets", []), *extra.get("inlets", [])]:
                asset = _asset_of_leaf(session, leaf, now)
                if asset is not None and leaf in extra.get("outlets", []):
                    produced.add(asset.id)
                if "alias" in leaf:
                    ensure_alias(session=session, name=leaf["alias"]["name"])
            session.add_all(
                TaskOutletAssetModel(dag_id=sdag.dag_id, task_id=task.task_id, asset_id=i) for i in produced
            )
    session.flush()
    for asset_id, specs in watchers.items():
        _sync_asset_watchers(session, asset_id, specs, now)
    prune_watchers(session=session)


# -- asset watchers -------------------------------------------------------------------------------------
def _watcher_key(spec: Mapping[str, Any]) -> str:
    """What identifies a watcher of an asset: its name and its trigger (class path and arguments)."""
    import json

    return json.dumps(
        [spec.get("name"), spec.get("classpath"), to_tagged_json(spec.get("kwargs") or {})], sort_keys=True
    )


def _sync_asset_watchers(session: Session, asset_id: int, specs: Mapping[str, Any], now: datetime) -> None:
    """The asset's watchers become those of ``specs`` (its definition in the DAGs just parsed): a watcher
    unchanged keeps its trigger row (a running trigger is not restarted), a removed one loses it."""
    rows = session.execute(
        select(
            AssetWatcherModel.trigger_id, AssetWatcherModel.name, TriggerModel.classpath, TriggerModel.kwargs
        )
        .join(TriggerModel, TriggerModel.id == AssetWatcherModel.trigger_id)
        .where(AssetWatcherModel.asset_id == asset_id)
    ).all()
    kept: set[str] = set()
    for trigger_id, name, classpath, kwargs in rows:
        key = _watcher_key({"name": name, "classpath": classpath, "kwargs": kwargs})
        if key in specs and key not in kept:
            kept.add(key)
            continue
        _delete_watcher_trigger(session, trigger_id)
    for key, spec in specs.items():
        if key in kept:
            continue
        trigger = TriggerModel(classpath=str(spec["classpath"]), kwargs=to_tagged_json(spec.get("kwargs") or {}),
                               created_date=now, triggerer_id=None)  # fmt: skip
        session.add(trigger)
        session.flush()
        session.add(AssetWatcherModel(asset_id=asset_id, trigger_id=trigger.id, name=str(spec["name"])))
    session.flush()


def _delete_watcher_trigger(session: Session, trigger_id: int) -> None:
    session.execute(delete(AssetWatcherModel).where(AssetWatcherModel.trigger_id == trigger_id))
    session.execute(delete(TriggerModel).where(TriggerModel.id == trigger_id))


def prune_watchers(*, session: Session) -> int:
    """Delete the watchers (and their triggers) of assets no active DAG is scheduled on any more."""
    scheduled = exists().where(
        DagScheduleAssetModel.asset_id == AssetWatcherModel.asset_id,
        DagScheduleAssetModel.dag_id == DagModel.dag_id,
        DagModel.is_active.is_(True),
    )
    stale = list(session.scalars(select(AssetWatcherModel.trigger_id).where(~scheduled)))
    for trigger_id in stale:
        _delete_watcher_trigger(session, trigger_id)
    return len(stale)


def watched_asset_ids(*, session: Session, trigger_id: int) -> list[int]:
    """The assets a trigger watches (none: the trigger belongs to deferred tasks)."""
    return list(
        session.scalars(
            select(AssetWatcherModel.asset_id)
            .where(AssetWatcherModel.trigger_id == trigger_id)
            .order_by(AssetWatcherModel.asset_id)
        )
    )


def record_watcher_events(
    *, session: Session, asset_ids: Iterable[int], payload: Any, now: datetime
) -> list[AssetEventModel]:
    """A watcher's trigger fired: one asset event per watched asset (extra ``{"from_trigger": True,
    "payload": ...}``, as Airflow records them), queued for the DAGs scheduled on the asset."""
    stored = []
    for asset_id in asset_ids:
        asset = session.get(AssetModel, asset_id)
        if asset is None:
            continue
        asset.updated_at = now
        row = AssetEventModel(asset_id=asset_id, extra={"from_trigger": True, "payload": payload},
                              source_map_index=-1, timestamp=now)  # fmt: skip
        session.add(row)
        session.flush()
        _queue_for_consumers(session, row, now)
        stored.append(row)
    return stored


# -- events ---------------------------------------------------------------------------------------------
def record_events(
    *, session: Session, events: Iterable[Mapping[str, Any]], source: EventSource | None, now: datetime
) -> list[AssetEventModel]:
    """Store events as ``tradewind.sdk.asset_events.produced_events`` describes them and queue each for
    the active, unpaused DAGs scheduled on its asset (directly or through an alias it came through or the
    asset resolved to). A reference to an unknown asset is skipped."""
    stored = []
    for event in events:
        asset = _asset_of_leaf(session, event, now) if ("asset" in event or "ref" in event) else None
        if asset is None:
            continue
        if "asset" in event:
            # The definition as the producer knows it does not overwrite the asset's extra.
            asset.updated_at = now
        alias_name = event.get("alias")
        if alias_name:
            _link_alias(session, ensure_alias(session=session, name=str(alias_name)), asset)
        row = AssetEventModel(
            asset_id=asset.id,
            extra=dict(event.get("extra") or {}),
            source_dag_id=source.dag_id if source else None,
            source_task_id=source.task_id if source else None,
            source_run_id=source.run_id if source else None,
            source_map_index=source.map_index if source else -1,
            source_alias_name=str(alias_name) if alias_name else None,
            timestamp=now,
        )
        session.add(row)
        session.flush()
        _queue_for_consumers(session, row, now)
        stored.append(row)
    return stored


def _link_alias(session: Session, alias: AssetAliasModel, asset: AssetModel) -> None:
    if session.get(AssetAliasAssetModel, (alias.id, asset.id)) is None:
        _added(session, AssetAliasAssetModel(alias_id=alias.id, asset_id=asset.id))


def _queue_for_consumers(session: Session, event: AssetEventModel, now: datetime) -> None:
    direct = select(DagScheduleAssetModel.dag_id).where(DagScheduleAssetModel.asset_id == event.asset_id)
    via_alias = (
        select(DagScheduleAssetAliasModel.dag_id)
        .join(AssetAliasAssetModel, AssetAliasAssetModel.alias_id == DagScheduleAssetAliasModel.alias_id)
        .where(AssetAliasAssetModel.asset_id == event.asset_id)
    )
    consumers = select(DagModel.dag_id).where(
        DagModel.dag_id.in_(direct.union(via_alias).scalar_subquery()),
        DagModel.is_active.is_(True),
        DagModel.is_paused.is_(False),
    )
    for dag_id in session.scalars(consumers):
        session.add(AssetDagRunQueueModel(target_dag_id=dag_id, event_id=event.id, asset_id=event.asset_id,
                                          created_at=now))  # fmt: skip


def event_dict(event: AssetEventModel, asset: AssetModel) -> dict[str, Any]:
    """An event as data (the task runtime's ``asset_events`` shape)."""
    return {
        "id": event.id,
        "name": asset.name,
        "uri": asset.uri,
        "group": asset.group,
        "extra": dict(event.extra or {}),
        "timestamp": event.timestamp.isoformat(),
        "source_dag_id": event.source_dag_id,
        "source_task_id": event.source_task_id,
        "source_run_id": event.source_run_id,
        "source_map_index": event.source_map_index,
        "source_alias_name": event.source_alias_name,
    }


def events_for(
    *, session: Session, name: str | None = None, uri: str | None = None, alias: str | None = None
) -> list[dict[str, Any]]:
    """The events of an asset (by name and/or uri), or those added through an alias, oldest first."""
    stmt = select(AssetEventModel, AssetModel).join(AssetModel, AssetModel.id == AssetEventModel.asset_id)
    if alias is not None:
        stmt = stmt.where(AssetEventModel.source_alias_name == alias)
    if name is not None:
        stmt = stmt.where(AssetModel.name == name)
    if uri is not None:
        stmt = stmt.where(AssetModel.uri == uri)
    rows = session.execute(stmt.order_by(AssetEventModel.timestamp, AssetEventModel.id)).all()
    return [event_dict(event, asset) for event, asset in rows]


def list_events(
    *,
    session: Session,
    asset_id: int | None = None,
    source_dag_id: str | None = None,
    source_task_id: str | None = None,
    source_run_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
    newest_first: bool = False,
) -> tuple[list[tuple[AssetEventModel, AssetModel]], int]:
    """A page of events with their assets, and the total count."""
    stmt = select(AssetEventModel, AssetModel).join(AssetModel, AssetModel.id == AssetEventModel.asset_id)
    filters = {
        AssetEventModel.asset_id: asset_id,
        AssetEventModel.source_dag_id: source_dag_id,
        AssetEventModel.source_task_id: source_task_id,
        AssetEventModel.source_run_id: source_run_id,
    }
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(column == value)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (AssetEventModel.timestamp.desc(), AssetEventModel.id.desc()) if newest_first else (
        AssetEventModel.timestamp, AssetEventModel.id)  # fmt: skip
    rows = session.execute(stmt.order_by(*order).limit(limit).offset(offset)).all()
    return [(event, asset) for event, asset in rows], int(total)


def list_assets(
    *, session: Session, uri_pattern: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[AssetModel], int]:
    stmt = select(AssetModel)
    if uri_pattern:
        stmt = stmt.where(AssetModel.uri.contains(uri_pattern, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AssetModel.uri, AssetModel.name).limit(limit).offset(offset))
    return list(rows), int(total)


def consuming_dags(*, session: Session, asset_ids: Iterable[int]) -> dict[int, list[str]]:
    """asset id -> the active DAGs scheduled on it (directly or through an alias it resolved to)."""
    ids = list(asset_ids)
    found: dict[int, set[str]] = {i: set() for i in ids}
    direct = select(DagScheduleAssetModel.asset_id, DagScheduleAssetModel.dag_id).where(
        DagScheduleAssetModel.asset_id.in_(ids), DagScheduleAssetModel.dag_id.in_(_active_dag_ids())
    )
    via_alias = (
        select(AssetAliasAssetModel.asset_id, DagScheduleAssetAliasModel.dag_id)
        .join(
            DagScheduleAssetAliasModel, DagScheduleAssetAliasModel.alias_id == AssetAliasAssetModel.alias_id
        )
        .where(
            AssetAliasAssetModel.asset_id.in_(ids), DagScheduleAssetAliasModel.dag_id.in_(_active_dag_ids())
        )
    )
    for asset_id, dag_id in [*session.execute(direct), *session.execute(via_alias)]:
        found[asset_id].add(dag_id)
    return {i: sorted(d) for i, d in found.items()}


def producing_tasks(*, session: Session, asset_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """asset id -> the (dag_id, task_id) of the tasks of active DAGs with the asset among their outlets."""
    ids = list(asset_ids)
    found: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    stmt = (
        select(TaskOutletAssetModel)
        .where(TaskOutletAssetModel.asset_id.in_(ids), TaskOutletAssetModel.dag_id.in_(_active_dag_ids()))
        .order_by(TaskOutletAssetModel.dag_id, TaskOutletAssetModel.task_id)
    )
    for row in session.scalars(stmt):
        found[row.asset_id].append((row.dag_id, row.task_id))
    return found


def _active_dag_ids() -> Any:
    # Deleted and deactivated DAGs keep their reference rows until parsed again: leave them out.
    return select(DagModel.dag_id).where(DagModel.is_active.is_(True)).scalar_subquery()
