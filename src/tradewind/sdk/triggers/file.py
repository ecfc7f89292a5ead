"""File triggers: fire when a file matching a path or glob exists (FileTrigger), or take it away when it
appears (FileDeleteTrigger and DirectoryFileDeleteTrigger, what asset watchers use).

DirectoryFileDeleteTrigger scans its directory on its own: Airflow's "shared stream" (one scan per directory
and interval for all the watchers of that directory) is not implemented; each watcher lists the directory
once per ``poke_interval``."""

from __future__ import annotations

import asyncio
import glob
import os
from collections.abc import AsyncIterator
from typing import Any

from tradewind.sdk.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent, classpath_of


def _first_file(pattern: str, recursive: bool) -> str | None:
    """The first regular file matching ``pattern``, or inside a matching folder (with ``recursive``)."""
    for path in glob.glob(pattern, recursive=recursive):
        if os.path.isfile(path):
            return path
        if recursive and os.path.isdir(path):
            for root, _dirs, files in os.walk(path):
                if files:
                    return os.path.join(root, files[0])
    return None


class FileTrigger(BaseTrigger):
    """Fires (payload True) once a file matches ``filepath`` (a path or a glob; ``**`` with ``recursive``),
    looking every ``poke_interval`` seconds."""

    def __init__(
        self, filepath: str, recursive: bool = False, poke_interval: float = 5.0, **kwargs: Any
    ) -> None:
        super().__init__()
        self.filepath = str(filepath)
        self.recursive = recursive
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return classpath_of(FileTrigger), {
            "filepath": self.filepath,
            "recursive": self.recursive,
            "poke_interval": self.poke_interval,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            found = await asyncio.to_thread(_first_file, self.filepath, self.recursive)
            if found is not None:
                self.log.info("found %s", found)
                yield TriggerEvent(True)
                return
            await asyncio.sleep(self.poke_interval)


class FileDeleteTrigger(BaseEventTrigger):
    """Waits for the file ``filepath``, deletes it and fires (payload True): each file that lands is one
    event."""

    def __init__(self, filepath: str, poke_interval: float = 5.0, **kwargs: Any) -> None:
        super().__init__()
        self.filepath = str(filepath)
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return classpath_of(FileDeleteTrigger), {
            "filepath": self.filepath,
            "poke_interval": self.poke_interval,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            if os.path.isfile(self.filepath):
                os.remove(self.filepath)
                self.log.info("found and deleted %s", self.filepath)
                yield TriggerEvent(True)
                return
            await asyncio.sleep(self.poke_interval)


def _take(directory: str, filename: str) -> str | None:
    """Delete ``directory/filename`` if it is a file in the directory's listing; its path, or None."""
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return None  # not there (yet): keep watching
    if filename not in names:
        return None
    path = os.path.join(directory, filename)
    if not os.path.isfile(path):
        return None
    try:
        os.remove(path)
    except FileNotFoundError:  # someone else took it between the listing and now
        return None
    return path


class DirectoryFileDeleteTrigger(BaseEventTrigger):
    """Lists ``directory`` every ``poke_interval`` seconds; when ``filename`` is there, deletes it and fires
    with ``{"filepath": path}``. A missing directory is waited for."""

    def __init__(self, *, directory: str, filename: str, poke_interval: float = 5.0, **kwargs: Any) -> None:
        super().__init__()
        if not filename or os.sep in filename or filename in (".", ".."):
            raise ValueError(f"filename must be a plain file name, got {filename!r}")
        self.directory = str(directory)
        self.filename = str(filename)
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return classpath_of(DirectoryFileDeleteTrigger), {
            "directory": self.directory,
            "filename": self.filename,
            "poke_interval": self.poke_interval,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            path = await asyncio.to_thread(_take, self.directory, self.filename)
            if path is not None:
                self.log.info("found and deleted %s", path)
                yield TriggerEvent({"filepath": path})
                return
            await asyncio.sleep(self.poke_interval)
