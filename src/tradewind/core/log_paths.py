"""Where the log of one task try (or DAG callback) lives: relative to the base log folder, and never outside
it, whatever the ids it is built from hold."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from tradewind.core.keys import TaskInstanceKey
from tradewind.sdk.errors import UnsafePathError


def log_relative_path(key: TaskInstanceKey, try_number: int) -> PurePosixPath:
    path = PurePosixPath(f"dag_id={key.dag_id}", f"run_id={key.run_id}", f"task_id={key.task_id}")
    if key.map_index >= 0:
        path = path / f"map_index={key.map_index}"
    return path / f"attempt={try_number}.log"


def dag_callback_log_relative_path(dag_id: str, run_id: str, callback: str) -> PurePosixPath:
    """Where a DAG-level callback's output goes: beside the run's task logs."""
    return PurePosixPath(f"dag_id={dag_id}", f"run_id={run_id}", f"{callback}.log")


def confined(base_folder: Path, relative: PurePosixPath) -> Path:
    """``base_folder / relative`` resolved (symlinks and ``..`` followed); UnsafePathError if that is not
    inside ``base_folder`` (ids holding ``/`` or ``..``, an absolute id, a symlink pointing away)."""
    base = base_folder.resolve()
    path = (base / relative).resolve()
    if path == base or not path.is_relative_to(base):
        raise UnsafePathError(
            f"refusing path {str(relative)!r}: it leaves the folder {str(base)!r}",
            base=str(base),
            path=str(path),
        )
    return path


def task_log_path(base_folder: Path, key: TaskInstanceKey, try_number: int) -> Path:
    return confined(base_folder, log_relative_path(key, try_number))


def dag_callback_log_path(base_folder: Path, dag_id: str, run_id: str, callback: str) -> Path:
    return confined(base_folder, dag_callback_log_relative_path(dag_id, run_id, callback))
