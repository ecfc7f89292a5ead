"""Asset events as task code sees them: ``outlet_events`` (extra for the events a try will produce, and
events added through aliases) and ``inlet_events`` (the events stored for an asset, oldest first).

When the try succeeds the runner turns the outlets and ``outlet_events`` into plain event dicts
(``produced_events``) and records them with the success; ``inlet_events`` reads through the task runtime.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, overload

from tradewind.sdk.assets import (
    Asset,
    AssetAlias,
    AssetNameRef,
    AssetUriRef,
    BaseAsset,
    Metadata,
    normalize_uri,
)
from tradewind.sdk.errors import TradewindError
from tradewind.sdk.runtime import get_runtime

_Key = tuple[str, str, str]


def _key(target: object) -> _Key:
    if isinstance(target, Asset):
        return ("asset", target.name, target.uri)
    if isinstance(target, AssetAlias):
        return ("alias", target.name, "")
    if isinstance(target, AssetNameRef):
        return ("name", target.name, "")
    if isinstance(target, AssetUriRef):
        return ("uri", target.uri, "")
    raise KeyError(f"outlet_events and inlet_events are keyed by assets and asset aliases; got {target!r}")


@dataclass
class AliasEvent:
    """An event added through an alias: ``outlet_events[AssetAlias("x")].add(Asset(...), extra={...})``."""

    alias: str
    asset: Asset
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class OutletEventAccessor:
    """One outlet's pending event: set ``extra``; for an alias, ``add()`` the assets it stands for."""

    target: BaseAsset
    extra: dict[str, Any] = field(default_factory=dict)
    alias_events: list[AliasEvent] = field(default_factory=list)

    def add(self, asset: Asset, extra: dict[str, Any] | None = None) -> None:
        if not isinstance(self.target, AssetAlias):
            return
        if not isinstance(asset, Asset):
            raise TradewindError(f"outlet_events[{self.target!r}].add() takes an Asset; got {asset!r}")
        self.alias_events.append(AliasEvent(self.target.name, asset, dict(extra or {})))


class OutletEventAccessors:
    """``outlet_events`` in the context: ``outlet_events[asset].extra = {...}``."""

    def __init__(self) -> None:
        self._accessors: dict[_Key, OutletEventAccessor] = {}

    def __getitem__(self, target: BaseAsset) -> OutletEventAccessor:
        key = _key(target)
        if key not in self._accessors:
            self._accessors[key] = OutletEventAccessor(target)
        return self._accessors[key]

    def __contains__(self, target: object) -> bool:
        try:
            return _key(target) in self._accessors
        except KeyError:
            return False

    def __iter__(self) -> Iterator[BaseAsset]:
        return iter([accessor.target for accessor in self._accessors.values()])

    def __len__(self) -> int:
        return len(self._accessors)

    def get(self, target: BaseAsset) -> OutletEventAccessor | None:
        return self._accessors.get(_key(target))


def drain_metadata(values: Iterator[Any], outlet_events: OutletEventAccessors) -> Any:
    """Run a generator task function to its end, applying each ``Metadata`` it yields to ``outlet_events``;
    returns the generator's return value."""
    while True:
        try:
            item = next(values)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, Metadata):
            outlet_events[item.asset].extra.update(item.extra)
            if item.alias is not None:
                outlet_events[item.alias].add(item.asset, extra=item.extra)
        else:
            print(f"Ignoring a value of type {type(item).__name__} yielded by the task", flush=True)


def consume_generator(result: Any, context: Any) -> Any:
    """``result`` unchanged unless it is a generator: then drained as ``drain_metadata`` does."""
    if not inspect.isgenerator(result):
        return result
    accessors = context.get("outlet_events") if hasattr(context, "get") else None
    return drain_metadata(result, accessors if accessors is not None else OutletEventAccessors())


def produced_events(
    outlets: Sequence[BaseAsset], outlet_events: OutletEventAccessors | None
) -> list[dict[str, Any]]:
    """The events a successful try produces: one per asset outlet (with its ``outlet_events`` extra) and one
    per asset added through an alias outlet. Plain data, as the runner records it."""
    events: list[dict[str, Any]] = []
    for outlet in outlets:
        accessor = outlet_events.get(outlet) if outlet_events is not None else None
        extra = dict(accessor.extra) if accessor is not None else {}
        if isinstance(outlet, Asset):
            events.append({"asset": outlet.to_dict(), "extra": extra, "alias": None})
        elif isinstance(outlet, AssetNameRef | AssetUriRef):
            events.append({"ref": outlet.to_condition()["ref"], "extra": extra, "alias": None})
        elif isinstance(outlet, AssetAlias) and accessor is not None:
            for added in accessor.alias_events:
                events.append(
                    {"asset": added.asset.to_dict(), "extra": dict(added.extra), "alias": added.alias}
                )
    return events


@dataclass(frozen=True)
class AssetEvent:
    """One stored event, as ``inlet_events[asset]`` gives it."""

    id: int
    asset: Asset
    extra: dict[str, Any]
    timestamp: datetime | None
    source_dag_id: str | None = None
    source_task_id: str | None = None
    source_run_id: str | None = None
    source_map_index: int = -1
    source_alias_name: str | None = None

    @property
    def uri(self) -> str:
        return self.asset.uri

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AssetEvent:
        ts = data.get("timestamp")
        return cls(
            id=int(data["id"]),
            asset=Asset(name=data["name"], uri=data["uri"], group=data.get("group")),
            extra=dict(data.get("extra") or {}),
            timestamp=datetime.fromisoformat(ts) if isinstance(ts, str) else ts,
            source_dag_id=data.get("source_dag_id"),
            source_task_id=data.get("source_task_id"),
            source_run_id=data.get("source_run_id"),
            source_map_index=int(data.get("source_map_index", -1)),
            source_alias_name=data.get("source_alias_name"),
        )


class LazyAssetEvents(Sequence[AssetEvent]):
    """The events of one asset or alias, oldest first, read from the runtime on first use."""

    def __init__(self, query: dict[str, str]) -> None:
        self._query = query
        self._events: list[AssetEvent] | None = None

    def _load(self) -> list[AssetEvent]:
        if self._events is None:
            rows = get_runtime().asset_events(**self._query)
            self._events = [AssetEvent.from_dict(row) for row in rows]
        return self._events

    @overload
    def __getitem__(self, index: int) -> AssetEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[AssetEvent]: ...

    def __getitem__(self, index: int | slice) -> AssetEvent | Sequence[AssetEvent]:
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return repr(list(self._load()))


class InletEventAccessors:
    """``inlet_events`` in the context: ``inlet_events[asset][-1].extra``; in templates also
    ``inlet_events.for_asset(uri=...)`` / ``for_asset(name=...)`` and ``for_alias(name=...)``."""

    def __getitem__(self, target: BaseAsset) -> LazyAssetEvents:
        kind, first, second = _key(target)
        if kind == "asset":
            return LazyAssetEvents({"name": first, "uri": second})
        if kind == "alias":
            return LazyAssetEvents({"alias": first})
        return LazyAssetEvents({kind: first})

    def for_asset(self, *, name: str = "", uri: str = "") -> LazyAssetEvents:
        query = {k: v for k, v in (("name", name), ("uri", normalize_uri(uri) if uri else "")) if v}
        if not query:
            raise TradewindError("inlet_events.for_asset() needs name= or uri=")
        return LazyAssetEvents(query)

    def for_alias(self, *, name: str) -> LazyAssetEvents:
        return LazyAssetEvents({"alias": name})


class TriggeringAssetEvents(Mapping[Asset, list[AssetEvent]]):
    """``triggering_asset_events`` (Airflow 2: ``triggering_dataset_events``): the events the run consumed,
    by asset, oldest first; read from the runtime on first use. A key may also be the asset's uri."""

    def __init__(self, *, dag_id: str, run_id: str) -> None:
        self._run = {"dag_id": dag_id, "run_id": run_id}
        self._by_key: dict[tuple[str, str], tuple[Asset, list[AssetEvent]]] | None = None

    def _load(self) -> dict[tuple[str, str], tuple[Asset, list[AssetEvent]]]:
        if self._by_key is None:
            self._by_key = {}
            for row in get_runtime().consumed_asset_events(**self._run):
                event = AssetEvent.from_dict(row)
                entry = self._by_key.setdefault(event.asset.key, (event.asset, []))
                entry[1].append(event)
        return self._by_key

    def __getitem__(self, key: object) -> list[AssetEvent]:
        found = self._load()
        if isinstance(key, Asset):
            return found[key.key][1]
        if isinstance(key, str):
            matches = [events for (_, uri), (_, events) in found.items() if uri == normalize_uri(key)]
            if matches:
                return [event for events in matches for event in events]
        raise KeyError(key)

    def __iter__(self) -> Iterator[Asset]:
        return iter([asset for asset, _ in self._load().values()])

    def __len__(self) -> int:
        return len(self._load())
