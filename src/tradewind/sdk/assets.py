"""Assets as DAG files write them: ``Asset`` (Airflow 2's ``Dataset``), ``AssetAlias``, references, and the
conditions ``a & b`` / ``a | b`` a DAG can be scheduled on, with their stored (JSON) form.

A condition's stored form is a small dict: ``{"asset": {...}}``, ``{"alias": {...}}``, ``{"ref": {...}}``,
``{"all": [...]}`` or ``{"any": [...]}``. The scheduler evaluates that form (``evaluate_condition``) against
the assets that have events waiting, without importing DAG files.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tradewind.sdk.errors import DagDefinitionError

#: Longest name, uri or group Tradewind stores.
IDENTIFIER_LEN = 1500
_RESERVED_NAMES = frozenset({"self", "context"})

Condition = dict[str, Any]


def _identifier(kind: str, field_name: str, value: object, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise DagDefinitionError(f"{kind} {field_name} must be a string, got {type(value).__name__}")
    if len(value) > IDENTIFIER_LEN:
        raise DagDefinitionError(f"{kind} {field_name} cannot exceed {IDENTIFIER_LEN} characters")
    if (not value and not allow_empty) or (value and value.isspace()):
        raise DagDefinitionError(f"{kind} {field_name} cannot be empty or only whitespace: {value!r}")
    return value


def normalize_uri(uri: str) -> str:
    """An asset URI in one spelling: scheme lower-cased, no trailing slash, query sorted, no fragment, no
    password. A value without a scheme is not a URI and is kept as written."""
    parsed = urllib.parse.urlsplit(uri)
    if not parsed.scheme and not parsed.netloc:
        return uri
    scheme = parsed.scheme.lower()
    if not scheme or scheme.startswith("x-"):
        return uri
    if scheme == "airflow":
        raise DagDefinitionError(f"asset uri {uri!r}: the scheme 'airflow' is reserved")
    netloc = parsed.netloc.rpartition("@")[2] if parsed.password else parsed.netloc
    query = urllib.parse.urlencode(sorted(urllib.parse.parse_qsl(parsed.query))) if parsed.query else ""
    path = parsed.path.rstrip("/") or "/"
    return urllib.parse.urlunsplit((scheme, netloc, path, query, ""))


class BaseAsset:
    """What ``schedule=`` and ``inlets``/``outlets`` accept: assets, aliases, references and conditions."""

    def __or__(self, other: object) -> BaseAsset:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAny(self, other)

    def __and__(self, other: object) -> BaseAsset:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAll(self, other)

    def to_condition(self) -> Condition:
        """The stored form (see the module docstring)."""
        raise NotImplementedError

    def iter_assets(self) -> Iterator[Asset]:
        """The assets named in full in this condition (not references or aliases)."""
        return iter(())


class AssetWatcher:
    """``AssetWatcher(name="...", trigger=SomeEventTrigger(...))``: the triggerer runs the trigger for as long
    as an active DAG is scheduled on the asset; each event it yields is an asset event (which may start the
    DAG). The trigger must be a ``BaseEventTrigger`` whose ``serialize()`` returns JSON arguments."""

    def __init__(self, name: str, trigger: Any) -> None:
        from tradewind.sdk.triggers.base import BaseEventTrigger

        self.name = _identifier("AssetWatcher", "name", name)
        if not isinstance(trigger, BaseEventTrigger):
            raise DagDefinitionError(
                f"AssetWatcher {name!r}: the trigger must be a BaseEventTrigger, got {type(trigger).__name__}"
            )
        classpath, kwargs = trigger.serialize()
        if not isinstance(classpath, str) or not isinstance(kwargs, dict):
            raise DagDefinitionError(
                f"AssetWatcher {name!r}: {type(trigger).__name__}.serialize() must return (str, dict)"
            )
        try:
            json.dumps(kwargs, allow_nan=False, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise DagDefinitionError(
                f"AssetWatcher {name!r}: the trigger's arguments must be JSON values: {exc}"
            ) from exc
        self.trigger = trigger
        self.classpath: str = classpath
        self.kwargs: dict[str, Any] = kwargs

    def to_dict(self) -> dict[str, Any]:
        """The stored form: ``{"name": ..., "classpath": ..., "kwargs": {...}}``."""
        return {"name": self.name, "classpath": self.classpath, "kwargs": dict(self.kwargs)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AssetWatcher):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        return f"AssetWatcher(name={self.name!r}, trigger={self.trigger!r})"


class Asset(BaseAsset, os.PathLike[str]):
    """``Asset("s3://bucket/key")``, ``Asset(name="orders", uri="s3://...", group="tables", extra={...})``.

    With only one of name and uri, the other is the same text. Two assets are the same asset when name and
    uri are equal; ``extra`` here describes the asset, an event's extra is given when it is produced.
    """

    asset_type: ClassVar[str] = "asset"

    def __init__(
        self,
        name: str | None = None,
        uri: str | os.PathLike[str] | None = None,
        *,
        group: str | None = None,
        extra: Mapping[str, Any] | None = None,
        watchers: list[Any] | None = None,
    ) -> None:
        if name is None and uri is None:
            raise DagDefinitionError(f"{type(self).__name__}() needs a name or a uri")
        if name is None:
            name = str(uri)
        elif uri is None:
            uri = name
        kind = type(self).__name__
        self.name = _identifier(kind, "name", name)
        if self.name in _RESERVED_NAMES:
            raise DagDefinitionError(f"{kind} name {self.name!r} is reserved")
        self.uri = normalize_uri(_identifier(kind, "uri", os.fspath(uri) if uri is not None else ""))
        self.group = _identifier(kind, "group", self.asset_type if group is None else group, allow_empty=True)
        self.extra: dict[str, Any] = dict(extra or {})
        self.watchers: list[AssetWatcher] = list(watchers or [])
        for watcher in self.watchers:
            if not isinstance(watcher, AssetWatcher):
                raise DagDefinitionError(f"{kind} watchers must be AssetWatcher objects, got {watcher!r}")

    @staticmethod
    def ref(*, name: str = "", uri: str = "") -> AssetRef:
        """A reference to an asset defined elsewhere, by name or by uri (not both)."""
        if name and uri:
            raise DagDefinitionError("Asset.ref() takes a name or a uri, not both")
        if name:
            return AssetNameRef(name)
        if uri:
            return AssetUriRef(uri)
        raise DagDefinitionError("Asset.ref() needs name= or uri=")

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.uri)

    def __fspath__(self) -> str:
        return self.uri

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Asset):
            return NotImplemented
        return (self.name, self.uri, self.group, self.extra) == (
            other.name,
            other.uri,
            other.group,
            other.extra,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.uri, self.group, json.dumps(self.extra, sort_keys=True, default=str)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, uri={self.uri!r}, group={self.group!r})"

    def to_condition(self) -> Condition:
        return {"asset": self.to_condition_leaf()}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "uri": self.uri, "group": self.group, "extra": dict(self.extra)}

    def to_condition_leaf(self) -> dict[str, Any]:
        leaf = self.to_dict()
        if self.watchers:
            leaf["watchers"] = [watcher.to_dict() for watcher in self.watchers]
        return leaf

    def iter_assets(self) -> Iterator[Asset]:
        yield self


class Dataset(Asset):
    """Airflow 2's name for an asset: ``Dataset("s3://bucket/key", extra={...})``."""

    asset_type: ClassVar[str] = "asset"

    def __init__(
        self,
        uri: str | os.PathLike[str] | None = None,
        extra: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        group: str | None = None,
    ) -> None:
        super().__init__(name=name, uri=uri, group=group, extra=extra)


class Model(Asset):
    """An asset of the group ``model`` (Airflow's ``Model``)."""

    asset_type: ClassVar[str] = "model"


@dataclass(frozen=True)
class AssetRef(BaseAsset):
    """A reference to an asset by name or uri; resolved against the stored assets."""

    def to_condition(self) -> Condition:
        raise NotImplementedError


@dataclass(frozen=True)
class AssetNameRef(AssetRef):
    name: str

    def to_condition(self) -> Condition:
        return {"ref": {"name": self.name}}


@dataclass(frozen=True)
class AssetUriRef(AssetRef):
    uri: str

    def to_condition(self) -> Condition:
        return {"ref": {"uri": normalize_uri(self.uri)}}


@dataclass(frozen=True)
class AssetAlias(BaseAsset):
    """A name a task's outlet events can be attached to at run time (``outlet_events[alias].add(asset)``);
    a DAG scheduled on the alias runs on events of the assets it resolved to."""

    name: str
    group: str = "asset"

    def __post_init__(self) -> None:
        _identifier("AssetAlias", "name", self.name)
        _identifier("AssetAlias", "group", self.group, allow_empty=True)

    def to_condition(self) -> Condition:
        return {"alias": {"name": self.name, "group": self.group}}


class _AssetBooleanCondition(BaseAsset):
    kind: ClassVar[str]

    def __init__(self, *objects: BaseAsset) -> None:
        for obj in objects:
            if not isinstance(obj, BaseAsset):
                raise DagDefinitionError(
                    f"{type(self).__name__} takes assets, aliases and asset conditions; got {obj!r}"
                )
        self.objects: list[BaseAsset] = list(objects)

    def to_condition(self) -> Condition:
        return {self.kind: [obj.to_condition() for obj in self.objects]}

    def iter_assets(self) -> Iterator[Asset]:
        for obj in self.objects:
            yield from obj.iter_assets()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _AssetBooleanCondition)
        return self.to_condition() == other.to_condition()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_condition(), sort_keys=True, default=str))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.objects))})"


class AssetAny(_AssetBooleanCondition):
    """True when any of its parts is (``a | b``)."""

    kind = "any"

    def __or__(self, other: object) -> BaseAsset:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAny(*self.objects, other)


class AssetAll(_AssetBooleanCondition):
    """True when all of its parts are (``a & b``; also what a list given as ``schedule=`` means)."""

    kind = "all"

    def __and__(self, other: object) -> BaseAsset:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAll(*self.objects, other)


@dataclass
class Metadata:
    """What a task yields to attach ``extra`` to the event of one of its outlets (optionally via an alias)."""

    asset: Asset
    extra: dict[str, Any] = field(default_factory=dict)
    alias: AssetAlias | None = None


def as_condition(schedule: object) -> BaseAsset | None:
    """The asset condition a ``schedule=`` value stands for (a list means all of them), or None."""
    if isinstance(schedule, BaseAsset):
        return schedule
    if isinstance(schedule, list | tuple | set | frozenset) and schedule:
        items = list(schedule)
        if all(isinstance(item, BaseAsset) for item in items):
            return items[0] if len(items) == 1 else AssetAll(*items)
        bad = next(item for item in items if not isinstance(item, BaseAsset))
        raise DagDefinitionError(f"a schedule given as a list must hold only assets; got {bad!r}")
    return None


def condition_from_dict(data: Mapping[str, Any]) -> BaseAsset:
    """Rebuild authoring objects from a stored condition."""
    if "asset" in data:
        a = data["asset"]
        return Asset(name=a["name"], uri=a["uri"], group=a.get("group"), extra=a.get("extra"))  # watchers: stored
    if "alias" in data:
        return AssetAlias(data["alias"]["name"], data["alias"].get("group", "asset"))
    if "ref" in data:
        ref = data["ref"]
        return AssetNameRef(ref["name"]) if "name" in ref else AssetUriRef(ref["uri"])
    if "all" in data:
        return AssetAll(*(condition_from_dict(item) for item in data["all"]))
    if "any" in data:
        return AssetAny(*(condition_from_dict(item) for item in data["any"]))
    raise DagDefinitionError(f"unknown asset condition {dict(data)!r}")


def evaluate_condition(data: Mapping[str, Any], is_updated: Callable[[Mapping[str, Any]], bool]) -> bool:
    """Whether a stored condition holds; ``is_updated(leaf)`` answers for one ``asset``/``alias``/``ref``."""
    if "all" in data:
        return all(evaluate_condition(item, is_updated) for item in data["all"])
    if "any" in data:
        return any(evaluate_condition(item, is_updated) for item in data["any"])
    return is_updated(data)


def iter_leaves(data: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The ``asset``/``alias``/``ref`` leaves of a stored condition."""
    for kind in ("all", "any"):
        if kind in data:
            for item in data[kind]:
                yield from iter_leaves(item)
            return
    yield data


def describe_condition(data: Mapping[str, Any]) -> str:
    """A short text for the DAG list: ``Asset: s3://a & (s3://b | alias:x)``."""

    def text(node: Mapping[str, Any], nested: bool) -> str:
        for kind, sep in (("all", " & "), ("any", " | ")):
            if kind in node:
                inner = sep.join(text(item, True) for item in node[kind])
                return f"({inner})" if nested and len(node[kind]) > 1 else inner
        if "asset" in node:
            return str(node["asset"]["uri"])
        if "alias" in node:
            return f"alias:{node['alias']['name']}"
        ref = node.get("ref", {})
        return f"ref:{ref.get('name') or ref.get('uri')}"

    return text(data, False)


def outlet_list(values: Iterable[object] | object | None, where: str) -> list[BaseAsset]:
    """``inlets``/``outlets`` of a task as assets and aliases; other objects (Airflow lineage entities)
    are refused with the task named."""
    if values is None:
        return []
    items = list(values) if isinstance(values, list | tuple | set | frozenset) else [values]
    for item in items:
        if not isinstance(item, BaseAsset):
            raise DagDefinitionError(
                f"{where}: inlets and outlets take assets and asset aliases; got {item!r}"
            )
    return list(items)  # type: ignore[arg-type]
