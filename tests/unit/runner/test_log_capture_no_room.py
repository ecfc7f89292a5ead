"""A log file that cannot be written (``/dev/full`` answers every write with ENOSPC, as a full disk does):
the try's output is drained and counted, never blocks the task, and the service log is told once, naming
the log folder. Recovery when room returns is tested on a real small filesystem
(tests/integration/runner/test_full_log_disk.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
