"""Reading local log files in chunks: continuation tokens, whole lines and characters, the log folder boundary."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.core.keys import TaskInstanceKey
from tradewind.logs.reading import decode_token, encode_token, log_path, read_chunk
from tradewind.sdk.errors import NotFoundError, ParamValidationError


def test_tokens_round_trip_and_garbage_is_refused() -> None:
    assert decode_token(encode_token(1234)) == 1234
    assert decode_token(None) == 0
    for bad in ("%%%", encode_token(-1), "eyJvZmYiOiAxfQ"):
        with pytest.raises(ParamValidationError):
            decode_token(bad)


def test_chunks_end_on_whole_lines_and_resume_where_they_stopped(tmp_path: Path) -> None:
    path = tmp_path / "attempt=1.log"
    path.write_text("".join(f"line {i}\n" for i in range(100)))
    first = read_chunk(path, 0, limit=50)
    assert first.content.endswith("\n") and first.content.startswith("line 0\n")
    rest = read_chunk(path, first.offset, limit=-1)
    assert first.content + rest.content == path.read_text()


def test_a_character_being_written_is_left_for_the_next_read(tmp_path: Path) -> None:
    path = tmp_path / "attempt=1.log"
    path.write_bytes("ok ✓".encode()[:-1])  # the writer is halfway through the check mark
    chunk = read_chunk(path, 0)
    assert chunk.content == "ok "
    path.write_bytes("ok ✓\n".encode())
    assert read_chunk(path, chunk.offset).content == "✓\n"


def test_a_missing_log_reads_as_empty(tmp_path: Path) -> None:
    chunk = read_chunk(tmp_path / "nope.log", 0)
    assert chunk.content == "" and chunk.exists is False


def test_ids_cannot_climb_out_of_the_log_folder(tmp_path: Path) -> None:
    assert log_path(tmp_path, TaskInstanceKey("d", "r", "t"), 1).is_relative_to(tmp_path)
    with pytest.raises(NotFoundError):
        log_path(tmp_path / "logs", TaskInstanceKey("../../..", "..", ".."), 1)
