"""A log file that cannot be written (``/dev/full`` answers every write with ENOSPC, as a full disk does):
the try's output is drained and counted, never blocks the task, and the service log is told once, naming
the log folder. Recovery when room returns is tested on a real small filesystem
(tests/integration/scheduler/test_full_log_disk.py), and below, with RLIMIT_FSIZE, for the lines that come
in the last second before the try ends."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import subprocess
    from pathlib import Path
    from tradewind.runner.log_capture import LogCapture

    capture = LogCapture(Path("/dev/full"), folder=Path("/dev"))
    capture.start()
    for i in range(3000):  # 300 KB: far more than a pipe holds, so a reader that stopped would block this
        print(f"line {i:04d} " + "x" * 90)
    subprocess.run(["sh", "-c", "echo from a subprocess"], check=True)
    capture.stop()
    print("SUMMARY", capture.loss.summary())
    """
)


def test_output_to_a_full_log_is_counted_and_never_blocks_the_task() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    notices = [line for line in result.stderr.splitlines() if line.startswith("tradewind:")]
    assert notices[0] == (
        "tradewind: cannot write the task log /dev/full: the log folder /dev could not be written "
        "([Errno 28] No space left on device); the try goes on and its log lines are dropped until there is "
        "room again"
    )
    assert "3001 log lines" in notices[-1]
    assert result.stdout.startswith("SUMMARY 3001 log lines (") and result.stdout.rstrip().endswith(
        "bytes) were dropped: the log folder /dev could not be written ([Errno 28] No space left on device); "
        "the log file is /dev/full"
    ), result.stdout


HELD = textwrap.dedent(
    """
    import resource
    import signal
    import sys
    import time
    from pathlib import Path
    from tradewind.runner.log_capture import LogCapture

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG instead
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))  # no room for a single byte in any file
    folder = Path(sys.argv[1])
    capture = LogCapture(folder / "attempt.log", folder=folder)
    capture.start()
    print("into the void", flush=True)
    time.sleep(0.2)  # the reader has met the failure: its next attempt waits a second
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # room again
    print("last words", flush=True)  # within that second, and then the try ends
    capture.stop()
    """
)


def test_lines_that_come_just_before_the_end_are_written_once_the_folder_has_room(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", HELD, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "attempt.log").read_text()
    notice = log.index("1 log lines (")
    assert "were dropped: the log folder" in log[notice:], log
    assert log.index("last words") > notice, log
    assert "into the void" not in log, log
