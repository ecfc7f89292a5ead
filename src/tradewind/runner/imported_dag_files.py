"""DAG files imported ahead of their tries by a warm parent (ADR 0017): the results a forked try reuses while
the file on disk is still the one that was imported."""

from __future__ import annotations

import os
from pathlib import Path

from tradewind.core.file_stamps import file_stamp
from tradewind.sdk.loading import LoadResult, load_dags_from_file

#: File (absolute path) -> (its modification time and size when imported, what the import found). Filled only
#: in a warm parent, so every try forked from it inherits the imported DAGs; a fresh process finds it empty.
_IMPORTED: dict[Path, tuple[tuple[int, int], LoadResult]] = {}


def import_ahead(path: Path, *, dags_folder: Path | None) -> bool:
    """Import ``path`` now and keep what it defines for the tries forked from this process. A file that fails
    to import is not kept: each try imports it again and reports the error in its own log."""
    path = Path(os.path.abspath(path))
    stamp = file_stamp(path)
    if stamp is None:
        return False
    result = load_dags_from_file(path, dags_folder=dags_folder)
    if result.errors or not result.dags:
        return False
    _IMPORTED[path] = (stamp, result)
    return True


def imported(path: Path) -> LoadResult | None:
    """What importing ``path`` found, when this process imported it ahead and the file has not changed since
    (same modification time and size); None otherwise (the caller imports it)."""
    path = Path(os.path.abspath(path))
    entry = _IMPORTED.get(path)
    if entry is None:
        return None
    stamp, result = entry
    if file_stamp(path) != stamp:
        del _IMPORTED[path]
        return None
    return result
