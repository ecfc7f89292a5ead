"""Where finished tries' logs are kept remotely: the ``LogStore`` interface and its one implementation over the
fsspec filesystems of ``tradewind.sdk.io`` (``s3://`` built in; GCS or Azure Blob are one
``register_filesystem`` call each).

A log's key is its path relative to the local log folder (``core.log_paths``) under
``[logging] remote_base_log_folder``; the credentials come from ``[logging] remote_log_conn_id``, looked up
through whatever the caller can reach (the secrets backends, or the execution API for a runner).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from tradewind.config.settings import Settings
from tradewind.core.redaction import MASK, is_sensitive_name
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ConfigError, ExternalSystemError, NotFoundError
from tradewind.sdk.io.filesystems import get_fs, has_fs, known_schemes
from tradewind.sdk.runtime import InMemoryRuntime, use_runtime

#: conn_id -> the connection's fields (``Connection.to_dict()``'s shape), or None when it is not defined.
ConnectionLookup = Callable[[str], Mapping[str, Any] | None]
#: Filesystem options a scheme needs for writing logs (the local one creates the folders of a new key).
_SCHEME_OPTIONS: dict[str, dict[str, Any]] = {"file": {"auto_mkdir": True}, "local": {"auto_mkdir": True}}


@dataclass(frozen=True, slots=True)
class RemoteSlice:
    """Bytes of a remote log from an offset, and the object's whole size."""

    data: bytes
    size: int


class LogStore(Protocol):
    """A remote home for logs, keyed by their path relative to the log folder."""

    #: Where the store is, for messages (``s3://bucket/prefix``); never holds credentials.
    location: str

    def upload(self, local: Path, relative: PurePosixPath) -> None:
        """Copy the local file to the key ``relative``, replacing what was there."""

    def read(self, relative: PurePosixPath, offset: int, limit: int) -> RemoteSlice | None:
        """Up to ``limit`` bytes from ``offset`` (``limit=-1``: to the end); None when there is no such log."""

    def where(self, relative: PurePosixPath) -> str:
        """The URL of the key ``relative``, for messages."""


class FsspecLogStore:
    """A ``LogStore`` on the fsspec filesystem serving the scheme of ``base_url``. The connection is looked
    up each time a filesystem is built, so a store made at start-up sees a connection created later."""

    def __init__(self, base_url: str, *, conn_id: str | None, lookup: ConnectionLookup | None) -> None:
        scheme, sep, root = base_url.partition("://")
        if not sep or not scheme or not root.strip("/"):
            raise ConfigError(
                f"[logging] remote_base_log_folder {base_url!r} is not a URL such as s3://bucket/prefix",
                key="logging.remote_base_log_folder",
            )
        if not has_fs(scheme):
            raise ConfigError(
                f"[logging] remote_base_log_folder {base_url!r}: no filesystem serves {scheme}:// "
                f"(known: {', '.join(known_schemes())}); register one with tradewind.sdk.io.register_filesystem",
                key="logging.remote_base_log_folder",
            )
        self.scheme = scheme
        self.root = root.rstrip("/") if scheme not in ("file", "local") else "/" + root.strip("/")
        self.location = f"{scheme}://{root.rstrip('/')}"
        self.conn_id = conn_id
        self._lookup = lookup

    def pinned(self) -> FsspecLogStore:
        """This store with its connection looked up now and kept (a runner does this while its task token is
        still accepted). A lookup that fails now fails each later use with the same reason."""
        if self.conn_id is None or self._lookup is None:
            return self
        try:
            fields: Mapping[str, Any] | None = self._lookup(self.conn_id)
        except Exception as exc:
            reason = describe_failure(exc)
            return FsspecLogStore(self.location, conn_id=self.conn_id, lookup=_failing(reason))
        return FsspecLogStore(self.location, conn_id=self.conn_id, lookup=lambda _conn_id: fields)

    def where(self, relative: PurePosixPath) -> str:
        return f"{self.location}/{relative}"

    def upload(self, local: Path, relative: PurePosixPath) -> None:
        fields: Mapping[str, Any] = {}
        try:
            fs, fields = self._filesystem()
            fs.put_file(str(local), self._key(relative))
        except Exception as exc:
            raise self._failure("uploading to", relative, exc, fields) from None

    def read(self, relative: PurePosixPath, offset: int, limit: int) -> RemoteSlice | None:
        fields: Mapping[str, Any] = {}
        try:
            fs, fields = self._filesystem()
            key = self._key(relative)
            try:
                size = int(fs.info(key)["size"])
            except FileNotFoundError:
                return None
            end = size if limit < 0 else min(size, offset + limit)
            if offset >= end:
                return RemoteSlice(b"", size)
            return RemoteSlice(bytes(fs.cat_file(key, start=offset, end=end)), size)
        except Exception as exc:
            raise self._failure("reading", relative, exc, fields) from None

    def _failure(
        self, doing: str, relative: PurePosixPath, exc: Exception, fields: Mapping[str, Any]
    ) -> ExternalSystemError:
        return ExternalSystemError(
            f"{doing} {self.where(relative)} failed: {describe_failure(exc, fields)}", conn_id=self.conn_id
        )

    def _key(self, relative: PurePosixPath) -> str:
        return f"{self.root}/{relative}"

    def _filesystem(self) -> tuple[Any, Mapping[str, Any]]:
        """The filesystem, and the connection fields it was built from (to mask them out of errors)."""
        options = _SCHEME_OPTIONS.get(self.scheme, {})
        if self.conn_id is None or self._lookup is None:
            return get_fs(self.scheme, self.conn_id, options), {}
        fields = self._lookup(self.conn_id)
        if fields is None:
            raise NotFoundError(
                f"connection {self.conn_id!r} ([logging] remote_log_conn_id) is not defined",
                kind="connection",
                ident=self.conn_id,
            )
        # The filesystems read their connection as hooks do (environment, then the task runtime): the fields
        # looked up here are that runtime for the moment the filesystem is built.
        runtime = InMemoryRuntime()
        runtime.connections[self.conn_id] = dict(fields)
        with use_runtime(runtime):
            return get_fs(self.scheme, self.conn_id, options), fields


def _failing(reason: str) -> ConnectionLookup:
    def lookup(conn_id: str) -> Mapping[str, Any] | None:
        raise NotFoundError(
            f"connection {conn_id!r} ([logging] remote_log_conn_id) could not be looked up: {reason}",
            kind="connection",
            ident=conn_id,
        )

    return lookup


def remote_log_store(settings: Settings, lookup: ConnectionLookup | None) -> FsspecLogStore | None:
    """The store ``[logging] remote_base_log_folder`` names (None when it is empty)."""
    base = settings.logging.remote_base_log_folder.strip()
    if not base:
        return None
    conn_id = settings.logging.remote_log_conn_id.strip() or None
    return FsspecLogStore(base, conn_id=conn_id, lookup=lookup)


def fields_of(connection: Connection | None) -> dict[str, Any] | None:
    """A connection as a ``ConnectionLookup`` returns it (for lookups built on a secrets backend chain)."""
    return None if connection is None else connection.to_dict(validate=False)


def describe_failure(exc: BaseException, fields: Mapping[str, Any] | None = None) -> str:
    """One line saying why a store operation failed, with the connection's secrets masked."""
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    for secret in _secrets_of(fields or {}):
        text = text.replace(secret, MASK)
    return text


def _secrets_of(fields: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for name, value in fields.items():
        if isinstance(value, Mapping):
            found += _secrets_of(value)
        elif name == "extra" and isinstance(value, str):
            with contextlib.suppress(ValueError):
                extra = json.loads(value)
                if isinstance(extra, dict):
                    found += _secrets_of(extra)
        elif isinstance(value, str) and len(value) >= 4 and is_sensitive_name(name):
            found.append(value)
    return found
