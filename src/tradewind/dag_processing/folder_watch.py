"""Whether anything in the DAG folders changed since the last look, from stat alone (ADR 0012): an idle DAG
processor re-lists its folders every ``dag_dir_list_interval`` without reading a file or asking the database."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tradewind.dag_processing.discovery import example_dags_folder
from tradewind.dag_processing.folder_state import SETTLE_SECONDS

#: Folders never looked into (discovery skips them too).
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".venv", "node_modules"})

#: (path, mtime in ns, size) of every folder and file under the watched roots.
Fingerprint = frozenset[tuple[str, int, int]]


class FolderWatch:
    """``changed()`` is True on the first call, then whenever a folder or file under the roots was added,
    removed, renamed or written (its mtime or size moved) since the previous call, and while a file changed
    too recently for its mtime to tell a later write apart (``folder_state.SETTLE_SECONDS``)."""

    def __init__(self, dags_folder: Path, *, load_examples: bool) -> None:
        self.roots = [Path(os.path.abspath(dags_folder))]
        if load_examples:
            self.roots.append(example_dags_folder())
        self._last: Fingerprint | None = None

    def changed(self) -> bool:
        newest = 0
        entries: set[tuple[str, int, int]] = set()
        for root in self.roots:
            newest = max(newest, _collect(root, entries))
        fingerprint = frozenset(entries)
        settled = time.time_ns() - newest > SETTLE_SECONDS * 1e9
        unchanged = fingerprint == self._last and settled
        self._last = fingerprint
        return not unchanged

    def forget(self) -> None:
        """Look again next time whatever the folders hold (a pass failed, or was asked for)."""
        self._last = None


def _collect(root: Path, entries: set[tuple[str, int, int]]) -> int:
    """Add the stat of ``root`` and everything under it (symlinks followed, each folder once) to ``entries``;
    return the newest mtime seen (ns)."""
    newest = 0
    seen: set[tuple[int, int]] = set()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            stat = os.stat(folder)
        except OSError:
            entries.add((folder, -1, -1))
            continue
        if (stat.st_dev, stat.st_ino) in seen:
            continue
        seen.add((stat.st_dev, stat.st_ino))
        entries.add((folder, stat.st_mtime_ns, 0))
        newest = max(newest, stat.st_mtime_ns)
        try:
            with os.scandir(folder) as scan:
                children = list(scan)
        except OSError:
            continue
        for entry in children:
            try:
                if entry.is_dir():
                    if entry.name not in _SKIPPED_DIRS:
                        stack.append(entry.path)
                    continue
                stat = entry.stat()
            except OSError:
                continue
            entries.add((entry.path, stat.st_mtime_ns, stat.st_size))
            newest = max(newest, stat.st_mtime_ns)
    return newest
