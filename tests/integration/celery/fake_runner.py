"""A stand-in for `tradewind tasks run` used until tests can run the real runner: it keeps the runner's
contract in the small (claim the try once with compare-and-set, then work, exit 0 on success) and records
what happened in a journal directory so tests can see which worker ran what, and when.

Behaviour is chosen by the task id: ``sleep_<seconds>`` works that long (and starts a child process in its
group, as a BashOperator would), ``exit_<code>`` exits with that code, anything else succeeds at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

JOURNAL = Path(os.environ["FAKE_RUNNER_JOURNAL"])


def record(event: str, **fields: Any) -> None:
    line = json.dumps({"event": event, "tag": os.environ.get("FAKE_WORKER_TAG"), "pid": os.getpid(),
                       "time": time.time(), **fields})
    with open(JOURNAL / "journal.jsonl", "a") as fh:
        fh.write(line + "\n")


def main(argv: list[str]) -> int:
    assert argv[:2] == ["tasks", "run"], argv
    dag_id, task_id, run_id = argv[2:5]
    try_number = argv[argv.index("--try-number") + 1]
    key = f"{dag_id}.{task_id}.{run_id}.{try_number}"
    claims = JOURNAL / "claims"
    claims.mkdir(exist_ok=True)
    # The real runner moves queued -> running with a conditional UPDATE; mkdir is the same kind of
    # compare-and-set: exactly one process wins.
    try:
        (claims / key).mkdir()
    except FileExistsError:
        record("claim_failed", key=key)
        return 0
    record("start", key=key, task_id=task_id)

    def on_term(signum: int, frame: object) -> None:
        record("terminated", key=key)
        sys.exit(143)

    signal.signal(signal.SIGTERM, on_term)
    if task_id.startswith("sleep_"):
        child = subprocess.Popen(["sleep", "1000"])
        record("child", key=key, child_pid=child.pid)
        time.sleep(float(task_id.split("_", 1)[1]))
        child.kill()
    elif task_id.startswith("exit_"):
        record("end", key=key, code=int(task_id.split("_", 1)[1]))
        return int(task_id.split("_", 1)[1])
    record("end", key=key, code=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
