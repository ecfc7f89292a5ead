"""A metadata database that goes away (restart, failover to a new primary) while a batch of tries runs costs
only a delay: every task runs exactly once, the run succeeds, and no try is failed for the outage (issue 18).

The PostgreSQL server is the test module's own (tradewind.testing.private_postgres), so stopping it touches no
other test."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import tw_home as _tw_home  # noqa: F401 - the fixture is used through ``deployment``
from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for
from tradewind.store.tables import TaskInstanceModel
from tradewind.testing.private_postgres import PrivatePostgres, available, running_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not available(), reason="needs root and PostgreSQL 15's binaries for a private server"
    ),
]

TASKS = 12

BATCH = """
from datetime import datetime
from tradewind import DAG, BashOperator
with DAG("batch", schedule=None, start_date=datetime(2026, 1, 1)):
    for i in range({tasks}):
        BashOperator(task_id=f"t{{i:02d}}", bash_command="echo {{{{ ti.task_id }}}} >> {out}; sleep {sleep}")
"""


@pytest.fixture(scope="module")
def server() -> Iterator[PrivatePostgres]:
    with running_server() as pg:
        yield pg


@pytest.fixture
def deployment(tw_home: Path, server: PrivatePostgres) -> Iterator[Deployment]:
    if not server.accepting():
        server.start()
    dep = Deployment(tw_home, server.url(f"tw_{uuid.uuid4().hex[:10]}"))
    dep.env |= {
        "TRADEWIND__CORE__PARALLELISM": "8",
        "TRADEWIND__DATABASE__OUTAGE_TIMEOUT": "60",
        "TRADEWIND__SCHEDULER__ZOMBIE_THRESHOLD": "20",
    }
    try:
        yield dep
    finally:
        dep.stop_all()


def _lines(out: Path) -> list[str]:
    return out.read_text().split() if out.exists() else []


def _batch_through(dep: Deployment, outage: Callable[[], None], *, sleep: float) -> None:
    out = dep.home / "ran.txt"
    dep.write_dag("batch", BATCH.format(tasks=TASKS, out=out, sleep=sleep))
    dep.parse()
    dep.start_scheduler()
    run_id = dep.tw("dags", "trigger", "batch").stdout.strip()
    wait_for(lambda: len(_lines(out)) >= 3, what="the first tries to run", timeout=60, details=dep.dump_logs)
    outage()
    assert dep.wait_run("batch", run_id, timeout=150) == "success", dep.dump_logs()
    ran = _lines(out)
    assert sorted(ran) == [f"t{i:02d}" for i in range(TASKS)], f"each task once: {sorted(ran)}"
    with dep.sessions() as session:
        tis = (
            session.execute(select(TaskInstanceModel).where(TaskInstanceModel.run_id == run_id))
            .scalars()
            .all()
        )
    assert {ti.state for ti in tis} == {"success"}
    assert [ti.try_number for ti in tis] == [1] * TASKS, "no try was failed and retried for the outage"
    assert not [ti.state_reason for ti in tis if ti.state_reason], "no reason names a database error"


def test_a_database_outage_and_failover_mid_batch_cost_only_a_delay(
    deployment: Deployment, server: PrivatePostgres
) -> None:
    """Down for several seconds, then back as a different server (a copy of the data folder): every
    connection any component held is dead, and the new ones reach a server none has seen."""
    _batch_through(deployment, lambda: server.failover(down_for=4.0), sleep=0.5)


@pytest.mark.slow
def test_an_outage_longer_than_a_try_costs_only_a_delay(
    deployment: Deployment, server: PrivatePostgres
) -> None:
    def long_outage() -> None:
        server.stop()
        time.sleep(12)  # the outage itself: several tries end, and new ones would start, while it lasts
        server.start()

    _batch_through(deployment, long_outage, sleep=1.0)


@pytest.mark.slow
def test_the_execution_api_killed_mid_batch_costs_only_a_delay(deployment: Deployment) -> None:
    """The scheduler's execution API child is SIGKILLed while tries claim, heartbeat and end through it: the
    scheduler starts another on the same socket and the runners' calls are retried into it."""

    def kill_api() -> None:
        api = _execution_api_child(deployment.procs[0].pid)
        os.kill(api, signal.SIGKILL)
        wait_for(
            lambda: _execution_api_child(deployment.procs[0].pid, other_than=api),
            what="a new execution API child",
            timeout=60,
            details=deployment.dump_logs,
        )

    _batch_through(deployment, kill_api, sleep=0.5)


def _execution_api_child(scheduler_pid: int, other_than: int | None = None) -> int | None:
    # Children are listed under the thread that started them (the watcher thread starts the new one).
    children = [int(pid) for task in Path(f"/proc/{scheduler_pid}/task").iterdir()
                for pid in (task / "children").read_text().split()]  # fmt: skip
    for pid in children:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"execution-api" in cmdline and pid != other_than:
            return pid
    return None
