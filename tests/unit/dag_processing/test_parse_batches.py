"""Parse results gathered into lists for a caller that pays per list: fuller lists, yet never held for long
behind a slow file, and never lost when parsing is stopped."""

from __future__ import annotations

import threading
from pathlib import Path

from tradewind.dag_processing.discovery import DagFileRef
from tradewind.dag_processing.isolated_import import ParsedFile, parse_batches

QUICK = """
from datetime import datetime
from tradewind import DAG, EmptyOperator

with DAG({dag_id!r}, start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="only")
"""
SLOW = "import time\ntime.sleep({seconds})\n" + QUICK


def _files(folder: Path, *specs: tuple[str, float]) -> list[DagFileRef]:
    """One file per (name, seconds it sleeps at import)."""
    refs = []
    for name, seconds in specs:
        path = folder / f"{name}.py"
        body = SLOW.format(seconds=seconds, dag_id=name) if seconds else QUICK.format(dag_id=name)
        path.write_text(body)
        refs.append(DagFileRef(path, path.name))
    return refs


def _names(lists: list[list[ParsedFile]]) -> list[list[str]]:
    return [[parsed.ref.relative_fileloc.removesuffix(".py") for parsed in batch] for batch in lists]


def test_results_are_gathered_into_lists_of_at_least_the_asked_size(tmp_path: Path) -> None:
    refs = _files(tmp_path, *[(f"quick_{i}", 0.0) for i in range(7)])

    lists = list(parse_batches(refs, timeout=30, processes=2, gather=3, gather_for=60))

    assert [name for batch in _names(lists) for name in batch] == [f"quick_{i}" for i in range(7)]
    assert all(len(batch) >= 3 for batch in lists[:-1])
    assert len(lists) < 7
    assert all(not parsed.errors and parsed.dags for batch in lists for parsed in batch)


def test_a_result_waits_at_most_gather_for_behind_a_slow_file(tmp_path: Path) -> None:
    refs = _files(tmp_path, ("first", 0.0), ("slow", 3.0), ("after", 0.0))

    lists = list(parse_batches(refs, timeout=30, processes=2, gather=25, gather_for=0.2))

    # "first" did not wait for the slow file; "after" could not come before it (results keep their order).
    assert _names(lists) == [["first"], ["slow", "after"]]


def test_gathered_results_are_yielded_when_parsing_is_stopped(tmp_path: Path) -> None:
    refs = _files(tmp_path, ("first", 0.0), ("endless", 600.0))
    stop = threading.Event()
    timer = threading.Timer(2.5, stop.set)
    timer.start()
    try:
        lists = list(parse_batches(refs, timeout=600, processes=2, stop=stop, gather=25, gather_for=600))
    finally:
        timer.cancel()

    assert _names(lists) == [["first"]]
