"""The one read path: local file, then a running worker's live output, then the remote store, else a note
naming where it looked; tokens carry on across reads and say which bytes they count in."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import log_relative_path
from tradewind.logs.reading import MOVED_NOTE, TryLogReader, decode_source_token, encode_token, try_is_running
from tradewind.logs.remote_store import FsspecLogStore
from tradewind.sdk.errors import NotFoundError, ParamValidationError

KEY = TaskInstanceKey("d", "r", "t")


class PodTwin:
    """A live worker kept in memory: its output so far, or None when no worker runs the try."""

    where = "the test worker"

    def __init__(self) -> None:
        self.output: str | None = None

    def read(self, key: TaskInstanceKey, try_number: int) -> str | None:
        return self.output

    def follow(self, key: TaskInstanceKey, try_number: int) -> Iterator[str] | None:
        if self.output is None:
            return None
        return iter(self.output.splitlines(keepends=True))


@pytest.fixture
def remote(tmp_path: Path) -> FsspecLogStore:
    return FsspecLogStore(f"file://{tmp_path}/remote", conn_id=None, lookup=None)


def _local(tmp_path: Path) -> Path:
    path = tmp_path / "logs" / log_relative_path(KEY, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _put_remote(tmp_path: Path, text: str) -> None:
    path = tmp_path / "remote" / log_relative_path(KEY, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_local_file_comes_first_and_the_remote_copy_goes_on_from_the_same_offset(
    tmp_path: Path, remote: FsspecLogStore
) -> None:
    reader = TryLogReader(tmp_path / "logs", remote=remote)
    local = _local(tmp_path)
    local.write_text("one\n")
    first = reader.read(KEY, 1, token=None, running=True)
    assert first.content == "one\n" and first.found and not first.more
    # The try ends, its log is uploaded and the local copy deleted (delete_local_logs).
    _put_remote(tmp_path, "one\ntwo\n")
    local.unlink()
    second = reader.read(KEY, 1, token=first.token, running=False)
    assert second.content == "two\n" and not second.more
    assert reader.read(KEY, 1, token=None, running=False, limit=-1).content == "one\ntwo\n"


def test_a_running_try_without_a_local_file_is_read_from_its_worker_then_from_the_archive(
    tmp_path: Path, remote: FsspecLogStore
) -> None:
    pod = PodTwin()
    reader = TryLogReader(tmp_path / "logs", remote=remote, live=pod)
    waiting = reader.read(KEY, 1, token=None, running=True)
    assert waiting.content == "" and not waiting.found and "no running worker" in waiting.note
    pod.output = "2026-01-01T00:00:00Z started\n"
    first = reader.read(KEY, 1, token=waiting.token, running=True)
    assert first.content == "2026-01-01T00:00:00Z started\n"
    assert decode_source_token(first.token) == ("live", len(first.content))
    pod.output += "2026-01-01T00:00:01Z working ✓\n"
    second = reader.read(KEY, 1, token=first.token, running=True)
    assert second.content == "2026-01-01T00:00:01Z working ✓\n"
    # The try ended; the pod is still there until the executor archives it: the token keeps following it.
    assert reader.read(KEY, 1, token=second.token, running=False).content == ""
    # The pod is gone, its archive uploaded: the archive is read from its start, after a note saying so.
    pod.output = None
    _put_remote(tmp_path, "archived started\narchived working\n")
    moved = reader.read(KEY, 1, token=second.token, running=False)
    assert moved.content == MOVED_NOTE + "archived started\narchived working\n"
    assert decode_source_token(moved.token) == ("file", len("archived started\narchived working\n"))


def test_a_finished_try_is_not_looked_for_on_a_worker(tmp_path: Path) -> None:
    pod = PodTwin()
    pod.output = "stale output of a kept pod\n"
    reader = TryLogReader(tmp_path / "logs", live=pod)
    part = reader.read(KEY, 1, token=None, running=False)
    assert not part.found and part.content == ""


def test_no_log_anywhere_names_every_place_looked_at(tmp_path: Path, remote: FsspecLogStore) -> None:
    part = TryLogReader(tmp_path / "logs", remote=remote, live=PodTwin()).read(
        KEY, 1, token=None, running=True
    )
    assert not part.found
    assert str(tmp_path / "logs") in part.note and "no running worker" in part.note
    assert f"nothing at file://{tmp_path}/remote/{log_relative_path(KEY, 1)}" in part.note
    alone = TryLogReader(tmp_path / "logs").read(KEY, 1, token=None, running=False)
    assert "remote_base_log_folder is empty" in alone.note


def test_an_unreachable_store_is_reported_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    store = FsspecLogStore(f"file://{blocker}/deeper", conn_id=None, lookup=None)
    store_read = TryLogReader(tmp_path / "logs", remote=store).read(KEY, 1, token=None, running=False)
    assert not store_read.found and "the remote store could not be read" in store_read.note


def test_tokens_record_their_source_and_old_tokens_count_in_the_file() -> None:
    assert decode_source_token(encode_token(7)) == ("file", 7)
    assert decode_source_token(encode_token(7, "live")) == ("live", 7)
    with pytest.raises(ParamValidationError):
        decode_source_token(encode_token(7, "elsewhere"))


def test_try_is_running_only_for_the_current_try_while_active() -> None:
    assert try_is_running("running", 2, 2) and try_is_running("queued", 1, 1)
    assert not try_is_running("running", 2, 1) and not try_is_running("success", 1, 1)
    assert not try_is_running(None, 1, 1)


def test_follow_waits_for_the_file_and_stops_after_the_try_ended(tmp_path: Path) -> None:
    path = _local(tmp_path)
    out = io.BytesIO()
    # A scripted try: the file appears, grows twice, then the try ends and writes its last line.
    steps = [
        lambda: None,
        lambda: path.write_bytes(b"started\n"),
        lambda: path.open("ab").write(b"working\n"),
        lambda: path.open("ab").write(b"done\n"),
    ]
    polls = 0

    def fake_sleep(_seconds: float) -> None:
        nonlocal polls
        if polls < len(steps):
            steps[polls]()
        polls += 1

    TryLogReader(tmp_path / "logs").follow(
        KEY, 1, out, try_running=lambda: polls < len(steps), sleep=fake_sleep
    )
    assert out.getvalue() == b"started\nworking\ndone\n"


def test_follow_streams_a_running_worker_and_a_finished_try_without_any_log_is_an_error(
    tmp_path: Path,
) -> None:
    pod = PodTwin()
    pod.output = "a\nb\n"
    out = io.BytesIO()
    TryLogReader(tmp_path / "logs", live=pod).follow(
        KEY, 1, out, try_running=lambda: True, sleep=lambda _s: None
    )
    assert out.getvalue() == b"a\nb\n"
    with pytest.raises(NotFoundError, match="no log for"):
        TryLogReader(tmp_path / "logs").follow(KEY, 1, io.BytesIO(), try_running=lambda: False,
                                               sleep=lambda _s: None)  # fmt: skip


def test_follow_reads_the_remote_copy_of_a_finished_try(tmp_path: Path, remote: FsspecLogStore) -> None:
    _put_remote(tmp_path, "from the store\n")
    out = io.BytesIO()
    TryLogReader(tmp_path / "logs", remote=remote).follow(KEY, 1, out, try_running=lambda: False,
                                                          sleep=lambda _s: None)  # fmt: skip
    assert out.getvalue() == b"from the store\n"
