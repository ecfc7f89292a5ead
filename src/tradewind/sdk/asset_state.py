"""``asset_state_store`` in a task's context: JSON values kept on an asset, shared by every task and run that
names the asset among its inlets or outlets (a watermark a producer advances and a consumer reads).

Every call goes through the installed task runtime, by the asset's name (or uri, for a uri reference).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from tradewind.sdk.assets import Asset, AssetNameRef, AssetUriRef, BaseAsset, normalize_uri
from tradewind.sdk.errors import TaskStateValueError
from tradewind.sdk.runtime import get_runtime


class AssetStateStoreAccessor:
    """The state of one asset: ``get``/``set``/``delete``/``clear`` and their ``a``-prefixed coroutines."""

    def __init__(self, *, name: str | None = None, uri: str | None = None) -> None:
        if not name and not uri:
            raise TaskStateValueError("an asset state store needs the asset's name or uri")
        self._asset = {"name": name or None, "uri": None if name else uri}

    def __repr__(self) -> str:
        label = f"name={self._asset['name']!r}" if self._asset["name"] else f"uri={self._asset['uri']!r}"
        return f"<AssetStateStoreAccessor {label}>"

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default`` when there is none."""
        value = get_runtime().get_asset_state(**self._asset, key=key)
        return default if value is None else value

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON data, not None) under ``key``, replacing what was there."""
        _check_value(key, value)
        get_runtime().set_asset_state(**self._asset, key=key, value=value)

    def delete(self, key: str) -> None:
        get_runtime().delete_asset_state(**self._asset, key=key)

    def clear(self) -> None:
        get_runtime().clear_asset_state(**self._asset)

    # asyncio.to_thread copies the context, so the installed runtime goes with the call.
    async def aget(self, key: str, default: Any = None) -> Any:
        return await asyncio.to_thread(self.get, key, default)

    async def aset(self, key: str, value: Any) -> None:
        _check_value(key, value)
        await asyncio.to_thread(self.set, key, value)

    async def adelete(self, key: str) -> None:
        await asyncio.to_thread(self.delete, key)

    async def aclear(self) -> None:
        await asyncio.to_thread(self.clear)


class AssetStateStoreAccessors:
    """``asset_state_store``: ``asset_state_store[asset]`` for each asset among the task's inlets and outlets;
    a task with exactly one such asset may call ``get``/``set``/... directly."""

    def __init__(self, inlets: Sequence[BaseAsset], outlets: Sequence[BaseAsset]) -> None:
        self._by_name: dict[str, AssetStateStoreAccessor] = {}
        self._by_uri: dict[str, AssetStateStoreAccessor] = {}
        for item in [*inlets, *outlets]:  # aliases are left out: they name no asset until run time
            if isinstance(item, Asset | AssetNameRef) and item.name not in self._by_name:
                self._by_name[item.name] = AssetStateStoreAccessor(name=item.name)
            elif isinstance(item, AssetUriRef) and item.uri not in self._by_uri:
                self._by_uri[normalize_uri(item.uri)] = AssetStateStoreAccessor(uri=normalize_uri(item.uri))

    def __getitem__(self, key: BaseAsset) -> AssetStateStoreAccessor:
        found = None
        if isinstance(key, Asset | AssetNameRef):
            found = self._by_name.get(key.name)
        elif isinstance(key, AssetUriRef):
            found = self._by_uri.get(normalize_uri(key.uri))
        else:
            raise TypeError(f"asset_state_store is keyed by assets and asset references; got {key!r}")
        if found is None:
            raise KeyError(f"{key!r} is not among this task's inlets or outlets")
        return found

    def __len__(self) -> int:
        return len(self._by_name) + len(self._by_uri)

    def _single(self) -> AssetStateStoreAccessor:
        if len(self) != 1:
            raise TaskStateValueError(
                f"the task has {len(self)} assets among its inlets and outlets: "
                "use asset_state_store[asset] to say which"
            )
        return next(iter([*self._by_name.values(), *self._by_uri.values()]))

    def get(self, key: str, default: Any = None) -> Any:
        return self._single().get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._single().set(key, value)

    def delete(self, key: str) -> None:
        self._single().delete(key)

    def clear(self) -> None:
        self._single().clear()

    async def aget(self, key: str, default: Any = None) -> Any:
        return await self._single().aget(key, default)

    async def aset(self, key: str, value: Any) -> None:
        await self._single().aset(key, value)

    async def adelete(self, key: str) -> None:
        await self._single().adelete(key)

    async def aclear(self) -> None:
        await self._single().aclear()


def _check_value(key: str, value: Any) -> None:
    if value is None:
        raise TaskStateValueError(f"asset state store key {key!r}: the value must not be None (use delete)")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TaskStateValueError(
            f"asset state store key {key!r}: {type(value).__name__} is not JSON-serialisable ({exc})"
        ) from None
