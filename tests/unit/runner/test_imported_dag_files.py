"""A DAG file imported ahead by a warm parent is reused only while the file on disk is the one imported."""

from __future__ import annotations

import os
from pathlib import Path

from tradewind.runner.imported_dag_files import import_ahead, imported
from tradewind.runner.task_loading import load_dag

SOURCE = """
from datetime import datetime
from tradewind import DAG, EmptyOperator

with DAG("ahead", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="{task_id}")
"""


def _write(path: Path, task_id: str, mtime_ns: int) -> None:
    path.write_text(SOURCE.format(task_id=task_id))
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_a_try_reuses_the_import_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "ahead.py"
    _write(path, "first", 1_000_000_000)
    assert import_ahead(path, dags_folder=tmp_path)
    ahead = imported(path)
    assert ahead is not None
    assert load_dag(path, "ahead", dags_folder=tmp_path) is ahead.dags[0]  # not imported again
    _write(path, "second", 2_000_000_000)  # a new version of the file, same size
    assert imported(path) is None
    assert load_dag(path, "ahead", dags_folder=tmp_path).task_ids == ["second"]


def test_a_file_that_fails_to_import_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("raise RuntimeError('not today')\n")
    assert not import_ahead(path, dags_folder=tmp_path)
    assert imported(path) is None
