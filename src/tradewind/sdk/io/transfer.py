"""Copying and moving ObjectStoragePaths, within one store (the store does it) or across two (streamed)."""

from __future__ import annotations

import posixpath
import shutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradewind.sdk.io.path import ObjectStoragePath

#: Bytes read and written at a time when streaming between stores.
CHUNK = 8 * 1024 * 1024


def _file_target(source: ObjectStoragePath, target: ObjectStoragePath) -> ObjectStoragePath:
    """Where a single file lands: inside ``target`` when that is a directory (or ends with "/"), else ``target``."""
    if not target.key or target.key.endswith("/") or target.is_dir():
        return target / source.name
    return target


def _stream(source: ObjectStoragePath, target: ObjectStoragePath) -> None:
    if target.protocol == "file":
        target.fs.makedirs(target.parent.path or ".", exist_ok=True)
    with source.open("rb") as reader, target.open("wb") as writer:
        shutil.copyfileobj(reader, writer, CHUNK)


def copy_path(
    source: ObjectStoragePath, target: ObjectStoragePath, *, recursive: bool, **kwargs: Any
) -> ObjectStoragePath:
    """Copy ``source`` (a file, or a directory tree) to ``target``; returns where it went."""
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist")
    if source.is_dir():
        return _copy_tree(source, target, **kwargs)
    target = _file_target(source, target)
    if source.samestore(target):
        source.fs.copy(source.path, target.path, recursive=recursive, **kwargs)
    else:
        _stream(source, target)
    return target


def _copy_tree(source: ObjectStoragePath, target: ObjectStoragePath, **kwargs: Any) -> ObjectStoragePath:
    if target.is_file():
        raise NotADirectoryError(f"cannot copy directory {source} onto file {target}")
    if source.samestore(target):
        source.fs.copy(source.path.rstrip("/") + "/", target.path.rstrip("/") + "/", recursive=True, **kwargs)
        return target
    prefix = source.path.rstrip("/") + "/"
    for found in source.fs.find(source.path):
        relative = (
            str(found)[len(prefix) :] if str(found).startswith(prefix) else posixpath.basename(str(found))
        )
        _stream(source._from_fs_path(str(found)), target / relative)
    return target


def move_path(
    source: ObjectStoragePath, target: ObjectStoragePath, *, recursive: bool, **kwargs: Any
) -> ObjectStoragePath:
    """Move ``source`` to ``target``: the store renames within itself; across stores, copy then delete."""
    was_dir = source.is_dir()
    if source.samestore(target):
        if not was_dir:
            target = _file_target(source, target)
        source.fs.mv(source.path, target.path, recursive=recursive or was_dir, **kwargs)
        return target
    landed = copy_path(source, target, recursive=recursive, **kwargs)
    source.fs.rm(source.path, recursive=was_dir)
    return landed
