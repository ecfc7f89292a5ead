"""Uploading a finished log: a failure keeps the local copy and says why; delete_local_logs after success."""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

import pytest

from tradewind.logs.remote_store import FsspecLogStore
from tradewind.logs.upload import upload_log

KEY = PurePosixPath("dag_id=d/run_id=r/task_id=t/attempt=1.log")


def test_an_uploaded_log_can_replace_the_local_copy(tmp_path: Path) -> None:
    store = FsspecLogStore(f"file://{tmp_path}/remote", conn_id=None, lookup=None)
    local = tmp_path / "local.log"
    local.write_text("hello\n")
    assert upload_log(store, local, KEY, delete_local=False) is True
    assert local.exists()
    assert upload_log(store, local, KEY, delete_local=True) is True
    assert not local.exists() and (tmp_path / "remote" / KEY).read_text() == "hello\n"


def test_a_failed_upload_keeps_the_local_copy_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "remote"
    blocker.write_text("a file where the store's folder should be")
    store = FsspecLogStore(f"file://{blocker}", conn_id=None, lookup=None)
    local = tmp_path / "local.log"
    local.write_text("hello\n")
    with caplog.at_level(logging.WARNING, logger="tradewind.logs"):
        assert upload_log(store, local, KEY, delete_local=True) is False
    assert local.exists() and local.read_text().startswith("hello\n")
    note = local.read_text().splitlines()[-1]
    assert "could not upload the log" in note and f"file://{blocker}/{KEY}" in note and "kept" in note
    assert any("could not upload the log" in r.getMessage() for r in caplog.records)


def test_a_missing_local_file_is_not_uploaded(tmp_path: Path) -> None:
    store = FsspecLogStore(f"file://{tmp_path}/remote", conn_id=None, lookup=None)
    assert upload_log(store, tmp_path / "never-written.log", KEY) is False
    assert not (tmp_path / "remote").exists()
