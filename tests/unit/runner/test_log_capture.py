"""Everything a try writes to stdout and stderr (its own, Python's and subprocesses') lands in the log file,
in order, one ISO-8601 UTC timestamp per line, with secrets masked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import logging, subprocess, sys
    from pathlib import Path
    from tradewind.runner.log_capture import LogCapture
    from tradewind.runner.secrets_masking import SecretsMasker

    masker = SecretsMasker(["hunter22"])
    capture = LogCapture(Path(sys.argv[1]), redact=masker.redact_text)
    capture.start()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    logging.info("runner line one")
    print("printed by task code")
    subprocess.run(["sh", "-c", "echo from a subprocess; echo subprocess stderr >&2"], check=True)
    print("the password is hunter22")
    sys.stdout.write("no trailing newline")
    capture.stop()
    print("after stop goes to the real stdout")
    """
)


def test_fd_level_capture_into_a_timestamped_file(tmp_path: Path) -> None:
    log_file = tmp_path / "dag_id=d" / "run_id=r" / "task_id=t" / "attempt=1.log"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log_file)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "after stop goes to the real stdout\n"
    lines = log_file.read_text().splitlines()
    messages = [line.split(" ", 1)[1] for line in lines]
    assert messages == [
        "INFO runner line one",
        "printed by task code",
        "from a subprocess",
        "subprocess stderr",
        "the password is ***",
        "no trailing newline",
    ]
    for line in lines:
        stamp = datetime.fromisoformat(line.split(" ", 1)[0])
        assert stamp.utcoffset() == UTC.utcoffset(None)
        assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60
