"""NTP steps of minutes, forward and back, on the scheduler's machine (issue 18): the real scheduler, its
execution API, DAG processor and runners all run under Debian's libfaketime, whose offset the test moves
mid-run. No try fails as a zombie, no task token is refused, and the per-minute schedules get every run that
fell due exactly once.

Modelled: an NTP step. ``FAKETIME_DONT_FAKE_MONOTONIC=1`` moves the wall clock (``time.time``,
``datetime.now``) and leaves ``CLOCK_MONOTONIC`` alone, as a stepped system clock does. (Without it the
library moves the monotonic clock by the same offset, which no real clock does.) Debian's 0.9.10 then breaks
``time.sleep`` (EINVAL from an absolute monotonic clock_nanosleep); ``tests/fixtures/faketime_sleep`` puts a
sitecustomize on the faked processes' path that sleeps with ``select`` instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.scheduler.conftest import Deployment
from tests.required_tools import missing_tool
from tests.waiting import wait_for
from tradewind.core.clock import as_utc, utcnow
from tradewind.store.tables import DagRunModel, JobModel, TaskInstanceModel

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
#: A sitecustomize that makes ``time.sleep`` work under libfaketime 0.9.10 with an unfaked monotonic clock.
SLEEP_FIX = Path(__file__).parents[2] / "fixtures" / "faketime_sleep"
MINUTE = timedelta(minutes=1)
#: Well under the steps (a forward step past it failed every running try before ADR 0015), well over what a
#: try's end can take on a loaded machine (the runner stops beating before it reports its end).
ZOMBIE_THRESHOLD = 30

SLEEPY = """
from tradewind import DAG, BashOperator
from datetime import datetime
with DAG("sleepy", schedule=None, start_date=datetime(2026, 1, 1)):
    for i in range(6):
        BashOperator(task_id=f"t{i}", bash_command="sleep 8")
"""

EVERY_MINUTE = """
from datetime import datetime, timedelta, timezone
from tradewind import DAG, EmptyOperator
START = datetime.fromisoformat("{start}")
with DAG("cron_minutely", schedule="* * * * *", start_date=START, catchup=True, max_active_runs=32):
    EmptyOperator(task_id="noop")
with DAG("interval_minutely", schedule=timedelta(minutes=1), start_date=START, catchup=True, max_active_runs=32):
    EmptyOperator(task_id="noop")
"""


@pytest.fixture
def deployment(tw_home: Path) -> Iterator[Deployment]:
    if not LIBFAKETIME.exists():
        missing_tool(f"libfaketime is not installed ({LIBFAKETIME}; apt-get install faketime)")
    dep = Deployment(tw_home, f"sqlite:///{tw_home / 'tradewind.db'}")
    offset = tw_home / "faketime.rc"
    offset.write_text("+0\n")
    dep.env |= {
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME_TIMESTAMP_FILE": str(offset),
        "FAKETIME_CACHE_DURATION": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "PYTHONPATH": str(SLEEP_FIX),
        "TRADEWIND__SCHEDULER__ZOMBIE_THRESHOLD": str(ZOMBIE_THRESHOLD),
        "TRADEWIND__CORE__PARALLELISM": "4",
    }
    try:
        yield dep
    finally:
        dep.stop_all()


def _step(dep: Deployment, seconds: int) -> None:
    """Set the machine's offset from real time (libfaketime re-reads the file within a second). Replaced whole,
    never rewritten in place: a process reading it half-written would get a wild clock."""
    staged = dep.home / "faketime.rc.new"
    staged.write_text(f"{seconds:+d}s\n")
    os.replace(staged, dep.home / "faketime.rc")


def _scheduler_beat(dep: Deployment) -> datetime | None:
    with dep.sessions() as session:
        beat = session.scalar(select(JobModel.latest_heartbeat).where(JobModel.job_type == "scheduler"))
        return as_utc(beat) if beat is not None else None


def _scheduler_on_offset(dep: Deployment, seconds: int) -> None:
    """Wait until the scheduler has heartbeated twice on the new offset (housekeeping runs with each beat)."""

    def beats_near(target: float) -> datetime | None:
        beat = _scheduler_beat(dep)
        return beat if beat is not None and abs((beat - utcnow()).total_seconds() - target) < 30 else None

    first = wait_for(lambda: beats_near(seconds), what=f"a scheduler heartbeat at offset {seconds:+d} s",
                     timeout=60, details=dep.dump_logs)  # fmt: skip
    wait_for(lambda: (b := beats_near(seconds)) is not None and b > first, what="the next scheduler heartbeat",
             timeout=60, details=dep.dump_logs)  # fmt: skip


def _tries(dep: Deployment, dag_id: str) -> list[TaskInstanceModel]:
    with dep.sessions() as session:
        return list(session.scalars(select(TaskInstanceModel).where(TaskInstanceModel.dag_id == dag_id)))


def _logical_dates(dep: Deployment, dag_id: str) -> list[datetime]:
    with dep.sessions() as session:
        dates = session.scalars(select(DagRunModel.logical_date).where(DagRunModel.dag_id == dag_id))
        return sorted(as_utc(d) for d in dates if d is not None)


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def test_steps_forward_and_back_fail_no_try_and_skip_or_double_no_run(deployment: Deployment) -> None:
    dep = deployment
    start = _minute(utcnow()) - 3 * MINUTE
    dep.write_dag("sleepy", SLEEPY)
    dep.write_dag("minutely", EVERY_MINUTE.format(start=start.isoformat()))
    dep.parse()
    dep.start_scheduler()
    run_id = dep.tw("dags", "trigger", "sleepy").stdout.strip()
    wait_for(lambda: sum(t.state == "running" for t in _tries(dep, "sleepy")) >= 3, what="the first tries running",
             timeout=90, details=dep.dump_logs)  # fmt: skip

    _step(dep, +300)  # five minutes forward: every stored heartbeat now looks five minutes old
    _scheduler_on_offset(dep, +300)
    # A try claimed on the forward clock carries a token issued "in the future" once the clock steps back.
    wait_for(
        lambda: any(t.start_date is not None and as_utc(t.start_date) > utcnow() + 4 * MINUTE
                    for t in _tries(dep, "sleepy")),
        what="a try claimed after the forward step", timeout=90, details=dep.dump_logs,
    )  # fmt: skip
    _step(dep, -180)  # eight minutes back, while that try runs
    _scheduler_on_offset(dep, -180)
    assert dep.wait_run("sleepy", run_id, timeout=120) == "success", dep.dump_logs()
    _step(dep, +360)  # forward again, past every run made before the step back
    _scheduler_on_offset(dep, +360)

    tries = _tries(dep, "sleepy")
    assert [(t.task_id, t.state, t.try_number) for t in tries] == [
        (f"t{i}", "success", 1) for i in range(6)
    ], [(t.task_id, t.state, t.try_number, t.state_reason) for t in tries]
    latest_due = _minute(utcnow() + timedelta(seconds=360))
    for dag_id in ("cron_minutely", "interval_minutely"):
        wait_for(lambda d=dag_id: (ds := _logical_dates(dep, d)) and ds[-1] >= latest_due - 2 * MINUTE,
                 what=f"{dag_id}'s runs up to the forward clock", timeout=60, details=dep.dump_logs)  # fmt: skip
        dates = _logical_dates(dep, dag_id)
        assert dates[0] == start, (dag_id, dates)
        assert dates == [start + i * MINUTE for i in range(len(dates))], (dag_id, dates)  # each once, no gap
    assert all(p.poll() is None for p in dep.procs), dep.dump_logs()
    assert "zombie" not in dep.dump_logs()
