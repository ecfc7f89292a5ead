"""DAG file for the warm-parent tests: importing it leaves the importing process's pid in a marker, so a
test can count imports; its tasks report their process and its parent, or wait until stopped."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

from tradewind import DAG, PythonOperator

MARKERS = Path(os.environ["TW_TEST_MARKERS"])
with open(MARKERS / "imports", "a") as handle:
    handle.write(f"{os.getpid()}\n")
# A slow import, while a test holds it: the import waits as long as the "hold" marker exists.
_hold_until = time.monotonic() + 60
while (MARKERS / "hold").exists() and time.monotonic() < _hold_until:
    time.sleep(0.02)


def whoami() -> dict[str, int | str | None]:
    return {"pid": os.getpid(), "ppid": os.getppid(), "flavour": os.environ.get("TW_TEST_FLAVOUR")}


def wait_until_stopped() -> None:
    with open(MARKERS / "waiting", "a") as handle:
        handle.write(f"{os.getpid()} {os.getppid()}\n")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)


with DAG("warm_import", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    for i in range(3):
        PythonOperator(task_id=f"whoami_{i}", python_callable=whoami)
    PythonOperator(task_id="wait", python_callable=wait_until_stopped)
