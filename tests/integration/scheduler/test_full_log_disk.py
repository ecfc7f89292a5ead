"""A full disk under the log folder (issue 18): the log folder is a 512 KiB tmpfs, filled to ENOSPC before the
tries start, and the scheduler's own service log (its stderr) is on it too. Each try still ends as its task
did, its reason says how many log lines were dropped and names the folder (the UI and the API show the
reason), the scheduler goes on scheduling although it cannot write its log, and once there is room again the
try's log says what was lost before going on. (The runner's notice to the service log, naming the folder, is
tested with /dev/full in tests/unit/runner/test_log_capture_no_room.py.)"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.scheduler.conftest import Deployment
from tests.required_tools import missing_tool
from tests.waiting import wait_for
from tradewind.store.tables import TaskInstanceModel

DAGS = """
from datetime import datetime
from tradewind import DAG, BashOperator
SAY = 'for i in $(seq 1 3000); do echo "before $i ................................................."; done'
with DAG("full_fail", schedule=None, start_date=datetime(2026, 1, 1)):
    BashOperator(task_id="talk", bash_command=SAY + "; exit 3")
with DAG("full_then_room", schedule=None, start_date=datetime(2026, 1, 1)):
    BashOperator(
        task_id="talk",
        bash_command=SAY + "; touch {said}; while [ ! -e {freed} ]; do sleep 0.2; done; echo after-room-returned",
    )
"""


@pytest.fixture
def small_logs(tw_home: Path) -> Iterator[Path]:
    """``$TRADEWIND_HOME/logs`` on its own 512 KiB tmpfs, unmounted at the end whatever happens."""
    logs = tw_home / "logs"
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(logs)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        missing_tool(f"cannot mount a small tmpfs for the log folder (needs root): {mounted.stderr.strip()}")
    try:
        yield logs
    finally:
        subprocess.run(["umount", "--lazy", str(logs)], check=False)


@pytest.fixture
def deployment(tw_home: Path, small_logs: Path) -> Iterator[Deployment]:
    dep = Deployment(tw_home, f"sqlite:///{tw_home / 'tradewind.db'}")
    try:
        yield dep
    finally:
        dep.stop_all()  # before the fixture above unmounts the folder


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return filler


def _try(dep: Deployment, dag_id: str) -> TaskInstanceModel:
    with dep.sessions() as session:
        return session.scalars(select(TaskInstanceModel).where(TaskInstanceModel.dag_id == dag_id)).one()


def test_tries_end_as_their_tasks_did_and_say_what_their_log_lost(
    deployment: Deployment, small_logs: Path
) -> None:
    dep = deployment
    said, freed = dep.home / "said", dep.home / "freed"
    dep.write_dag("full", DAGS.format(said=said, freed=freed))
    dep.parse()
    (dep.home / "scheduler.log").symlink_to(small_logs / "scheduler.log")  # the service log on the small disk
    dep.start_scheduler()
    filler = _fill(small_logs)

    failing = dep.tw("dags", "trigger", "full_fail").stdout.strip()
    waiting = dep.tw("dags", "trigger", "full_then_room").stdout.strip()
    assert dep.wait_run("full_fail", failing, timeout=90) == "failed", dep.dump_logs()
    failed = _try(dep, "full_fail")
    assert failed.state == "failed" and failed.try_number == 1
    reason = failed.state_reason or ""
    assert reason.startswith("TaskExecutionError: Bash command failed") and "exit code 3" in reason, reason
    assert "log lines" in reason and f"the log folder {small_logs} could not be written" in reason, reason
    assert "No space left on device" in reason, reason

    wait_for(
        said.exists,
        what="the waiting task to have written its first lines",
        timeout=60,
        details=dep.dump_logs,
    )
    filler.unlink()
    freed.touch()
    assert dep.wait_run("full_then_room", waiting, timeout=90) == "success", dep.dump_logs()
    ended = _try(dep, "full_then_room")
    assert ended.state == "success"
    assert "log lines" in (ended.state_reason or "") and str(small_logs) in (ended.state_reason or ""), ended
    log = next(small_logs.glob("dag_id=full_then_room/run_id=*/task_id=talk/attempt=1.log")).read_text()
    dropped = log.index("log lines (")
    assert "were dropped: the log folder" in log[dropped:] and "No space left on device" in log[dropped:], log
    assert log.index("after-room-returned") > dropped, log

    assert all(proc.poll() is None for proc in dep.procs), dep.dump_logs()
    service_log = small_logs / "scheduler.log"  # written again once there is room
    wait_for(lambda: f"{waiting} of full_then_room finished: success" in service_log.read_text(),
             what="the scheduler's log line for the run that ended after room returned", timeout=30)  # fmt: skip
    assert os.path.ismount(small_logs)
