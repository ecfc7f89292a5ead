"""Which fsspec filesystem serves which URL scheme, and building one from a connection.

Two sources, as for hooks: the filesystems Tradewind ships (named as ``"module:function"`` strings, imported only
when a path of that scheme is first used, so the ``s3`` one in ``tradewind.providers`` loads s3fs only then), and
factories registered at run time with ``register_filesystem``. A factory is called as
``factory(conn_id, storage_options)`` and returns an fsspec ``AbstractFileSystem``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

from tradewind.sdk.errors import NotFoundError

FilesystemFactory = Callable[[str | None, Mapping[str, Any]], Any]

#: scheme -> "module:function" of the filesystems Tradewind ships.
BUILTIN_FILESYSTEMS: dict[str, str] = {
    "file": "tradewind.sdk.io.filesystems:local_filesystem",
    "local": "tradewind.sdk.io.filesystems:local_filesystem",
    "memory": "tradewind.sdk.io.filesystems:memory_filesystem",
    "s3": "tradewind.providers.amazon.aws.fs.s3:get_fs",
    "s3a": "tradewind.providers.amazon.aws.fs.s3:get_fs",
}

_REGISTERED: dict[str, FilesystemFactory] = {}


def local_filesystem(conn_id: str | None, storage_options: Mapping[str, Any]) -> Any:
    """The machine's own files; a connection is not needed and is ignored."""
    from fsspec.implementations.local import LocalFileSystem

    return LocalFileSystem(**storage_options)


def memory_filesystem(conn_id: str | None, storage_options: Mapping[str, Any]) -> Any:
    """fsspec's in-memory filesystem: one tree per process, gone when the process ends."""
    from fsspec.implementations.memory import MemoryFileSystem

    return MemoryFileSystem(**storage_options)


def register_filesystem(scheme: str, factory: FilesystemFactory) -> None:
    """Serve ``scheme`` with ``factory`` (it wins over a built-in one of the same scheme)."""
    _REGISTERED[scheme] = factory


def known_schemes() -> list[str]:
    return sorted(set(BUILTIN_FILESYSTEMS) | set(_REGISTERED))


def has_fs(scheme: str) -> bool:
    """Whether a filesystem is known for ``scheme``."""
    return scheme in _REGISTERED or scheme in BUILTIN_FILESYSTEMS


def _factory(scheme: str) -> FilesystemFactory:
    factory = _REGISTERED.get(scheme)
    if factory is not None:
        return factory
    target = BUILTIN_FILESYSTEMS.get(scheme)
    if target is None:
        raise NotFoundError(
            f"no filesystem is known for scheme {scheme!r} (known: {', '.join(known_schemes())})",
            kind="filesystem",
            ident=scheme,
        )
    module_name, _, attribute = target.partition(":")
    built_in: FilesystemFactory = getattr(import_module(module_name), attribute)
    return built_in


def get_fs(scheme: str, conn_id: str | None = None, storage_options: Mapping[str, Any] | None = None) -> Any:
    """A new fsspec filesystem for ``scheme``, configured from connection ``conn_id`` and ``storage_options``."""
    return _factory(scheme)(conn_id, dict(storage_options or {}))
