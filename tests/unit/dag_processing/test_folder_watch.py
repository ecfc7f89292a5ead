"""The DAG processor's idle look at its folder (ADR 0012): stat alone tells whether a pass is needed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tradewind.dag_processing.folder_watch import FolderWatch


def _age(*paths: Path) -> None:
    """Move mtimes a minute back: a file changed just now is always looked at again (SETTLE_SECONDS)."""
    past = time.time() - 60
    for path in paths:
        os.utime(path, (past, past))


def test_a_pass_is_needed_only_when_a_file_or_folder_changed(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    (dags / "team").mkdir(parents=True)
    first, nested = dags / "first.py", dags / "team" / "nested.py"
    first.write_text("# dag\n")
    nested.write_text("# dag\n")
    _age(first, nested, dags / "team", dags)
    watch = FolderWatch(dags, load_examples=False)
    assert watch.changed()  # the first look always passes
    assert not watch.changed()

    nested.write_text("# dag, edited\n")
    _age(nested)
    assert watch.changed()  # its size moved
    assert not watch.changed()

    (dags / "second.py").write_text("# dag\n")
    assert watch.changed()
    _age(dags / "second.py", dags)
    assert watch.changed()  # the folder's mtime was moved back: still a change
    assert not watch.changed()

    first.unlink()
    assert watch.changed()


def test_a_file_written_just_now_is_looked_at_until_it_settles(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "fresh.py").write_text("# dag\n")
    watch = FolderWatch(dags, load_examples=False)
    assert watch.changed() and watch.changed()  # a same-size rewrite within the mtime's tick would hide
    watch.forget()
    assert watch.changed()
