"""Where the log of one task try lives, relative to the base log folder."""

from __future__ import annotations

from pathlib import PurePosixPath

from tradewind.core.keys import TaskInstanceKey


def log_relative_path(key: TaskInstanceKey, try_number: int) -> PurePosixPath:
    path = PurePosixPath(f"dag_id={key.dag_id}", f"run_id={key.run_id}", f"task_id={key.task_id}")
    if key.map_index >= 0:
        path = path / f"map_index={key.map_index}"
    return path / f"attempt={try_number}.log"


def dag_callback_log_relative_path(dag_id: str, run_id: str, callback: str) -> PurePosixPath:
    """Where a DAG-level callback's output goes: beside the run's task logs."""
    return PurePosixPath(f"dag_id={dag_id}", f"run_id={run_id}", f"{callback}.log")
