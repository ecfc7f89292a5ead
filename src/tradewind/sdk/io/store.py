"""Attached object stores: one filesystem per (scheme, connection), built on first use and kept for the process.

``attach("s3", conn_id="lake")`` returns the same ``ObjectStore`` each time it is asked for the same alias; the
store builds its filesystem only when ``.fs`` is first read, so attaching at DAG-parse time needs neither the
network nor the connection. A filesystem that failed to build (a missing connection, say) is tried again on the
next use. Credentials are read once per process: a worker picks up a rotated secret when it restarts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cached_property
from typing import Any, ClassVar

from tradewind.sdk.io.filesystems import get_fs, has_fs


class ObjectStore:
    """A filesystem reached through a connection (``conn_id`` None: the filesystem's own defaults)."""

    __version__: ClassVar[int] = 1

    def __init__(
        self,
        protocol: str,
        conn_id: str | None,
        fs: Any = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.protocol = protocol
        self.conn_id = conn_id
        self.storage_options = dict(storage_options or {})
        if fs is not None:
            self.__dict__["fs"] = fs

    @cached_property
    def fs(self) -> Any:
        """The fsspec filesystem, built from the connection on first read."""
        return get_fs(self.protocol, self.conn_id, self.storage_options)

    @property
    def fsid(self) -> str:
        """An id that says whether two stores reach the same filesystem."""
        try:
            return str(self.fs.fsid)
        except NotImplementedError:
            return f"{self.protocol}-{self.conn_id or 'env'}"

    def serialize(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "conn_id": self.conn_id, "storage_options": self.storage_options}

    @classmethod
    def deserialize(cls, data: Mapping[str, Any], version: int) -> ObjectStore:
        if version > cls.__version__:
            raise ValueError(
                f"cannot read an ObjectStore of version {version} (this one reads {cls.__version__})"
            )
        return attach(
            data["protocol"], data.get("conn_id"), storage_options=data.get("storage_options") or None
        )

    def __str__(self) -> str:
        return f"{self.protocol}-{self.conn_id}" if self.conn_id else self.protocol

    def __repr__(self) -> str:
        return f"ObjectStore(protocol={self.protocol!r}, conn_id={self.conn_id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObjectStore):
            return NotImplemented
        return (self.protocol, self.conn_id, self.storage_options) == (
            other.protocol,
            other.conn_id,
            other.storage_options,
        )

    def __hash__(self) -> int:
        return hash((self.protocol, self.conn_id))


_STORES: dict[str, ObjectStore] = {}


def store_alias(protocol: str, conn_id: str | None, storage_options: Mapping[str, Any] | None = None) -> str:
    alias = f"{protocol}-{conn_id}" if conn_id else protocol
    if storage_options:
        digest = hashlib.sha256(json.dumps(storage_options, sort_keys=True, default=str).encode()).hexdigest()
        alias = f"{alias}-{digest[:16]}"
    return alias


def attach(
    protocol: str | None = None,
    conn_id: str | None = None,
    alias: str | None = None,
    encryption_type: str | None = "",
    fs: Any = None,
    storage_options: Mapping[str, Any] | None = None,
) -> ObjectStore:
    """The store of ``protocol`` through ``conn_id`` (or the one attached earlier under ``alias``).

    ``fs`` attaches a filesystem built by the caller instead of one built from the connection.
    ``encryption_type`` is accepted for Airflow's signature and has no effect.
    """
    if alias and alias in _STORES and fs is None:
        return _STORES[alias]
    if not protocol:
        raise ValueError(
            f"no store is attached as {alias!r}" if alias else "attach() needs a protocol or an alias"
        )
    if not has_fs(protocol) and fs is None:
        get_fs(protocol)  # raises NotFoundError naming the scheme and the known ones
    alias = alias or store_alias(protocol, conn_id, storage_options)
    if fs is None and alias in _STORES:
        return _STORES[alias]
    store = _STORES[alias] = ObjectStore(protocol, conn_id, fs=fs, storage_options=storage_options)
    return store


def detach_all() -> None:
    """Forget every attached store (their filesystems are built again on next use)."""
    _STORES.clear()
