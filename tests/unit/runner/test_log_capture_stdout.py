"""``[logging] task_output_to_stdout``: every line of the try's log also goes to the process's stdout (a worker
pod's container log), stamped and redacted the same; a broken stdout never fails the try."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ECHOING = textwrap.dedent(
    """
    import logging, os, subprocess, sys
    from pathlib import Path
    from tradewind.runner.log_capture import LogCapture
    from tradewind.runner.secrets_masking import SecretsMasker

    if sys.argv[2] == "broken":  # stdout is a pipe nobody reads any more: writes fail with EPIPE
        read_end, write_end = os.pipe()
        os.close(read_end)
        os.dup2(write_end, 1)
    capture = LogCapture(Path(sys.argv[1]), redact=SecretsMasker(["hunter22"]).redact_text, echo_to_stdout=True)
    capture.start()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    logging.info("runner line")
    print("task output, password hunter22")
    subprocess.run(["sh", "-c", "echo from a subprocess"], check=True)
    capture.stop()
    sys.stderr.write("stopped cleanly\\n")
    """
)


def run(log_file: Path, mode: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-c", ECHOING, str(log_file), mode], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def test_the_log_lines_also_go_to_stdout(tmp_path: Path) -> None:
    log_file = tmp_path / "attempt=1.log"
    result = run(log_file, "ok")
    file_lines = log_file.read_text().splitlines()
    assert [line.split(" ", 1)[1] for line in file_lines] == [
        "INFO runner line", "task output, password ***", "from a subprocess"]
    assert result.stdout.splitlines() == file_lines  # same lines, same timestamps, secrets masked
    assert result.stderr == "stopped cleanly\n"


def test_a_broken_stdout_does_not_fail_the_try(tmp_path: Path) -> None:
    log_file = tmp_path / "attempt=1.log"
    result = run(log_file, "broken")
    assert "stopped cleanly" in result.stderr
    assert [line.split(" ", 1)[1] for line in log_file.read_text().splitlines()] == [
        "INFO runner line", "task output, password ***", "from a subprocess"]


def test_without_the_setting_stdout_stays_empty(tmp_path: Path) -> None:
    script = ECHOING.replace("echo_to_stdout=True", "echo_to_stdout=False")
    log_file = tmp_path / "attempt=1.log"
    result = subprocess.run([sys.executable, "-c", script, str(log_file), "ok"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout == ""
    assert len(log_file.read_text().splitlines()) == 3
