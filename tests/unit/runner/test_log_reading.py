"""Following a log copies new lines until the try has ended and the file stopped growing."""

from __future__ import annotations

import io
from pathlib import Path

from tradewind.runner.log_reading import copy_log, follow_log


def test_copy_log_from_an_offset(tmp_path: Path) -> None:
    path = tmp_path / "attempt=1.log"
    path.write_bytes(b"one\ntwo\n")
    out = io.BytesIO()
    assert copy_log(path, out, offset=4) == 8
    assert out.getvalue() == b"two\n"


def test_follow_waits_for_the_file_and_stops_after_the_try_ended(tmp_path: Path) -> None:
    path = tmp_path / "attempt=1.log"
    out = io.BytesIO()
    # A scripted try: the file appears, grows twice, then the try ends and writes its last line.
    steps = [
        lambda: None,
        lambda: path.write_bytes(b"started\n"),
        lambda: path.open("ab").write(b"working\n"),
        lambda: path.open("ab").write(b"done\n"),
    ]
    polls = 0

    def try_running() -> bool:
        return polls < len(steps)

    def fake_sleep(_seconds: float) -> None:
        nonlocal polls
        if polls < len(steps):
            steps[polls]()
        polls += 1

    follow_log(path, out, try_running=try_running, sleep=fake_sleep)
    assert out.getvalue() == b"started\nworking\ndone\n"


def test_follow_of_a_finished_try_without_a_file_returns(tmp_path: Path) -> None:
    out = io.BytesIO()
    follow_log(tmp_path / "missing.log", out, try_running=lambda: False, sleep=lambda _s: None)
    assert out.getvalue() == b""
