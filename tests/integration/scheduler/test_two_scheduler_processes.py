"""Two real scheduler processes on one PostgreSQL database: every task runs, none runs twice."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.integration.scheduler.conftest import Deployment

MANY = """
from datetime import datetime
from pathlib import Path
from tradewind import DAG, PythonOperator

LEDGER = Path(__file__).with_name("ledger.txt")

def record(ti):
    with LEDGER.open("a") as f:  # O_APPEND: one line per write, whole
        f.write(f"{ti.run_id} {ti.task_id} {ti.try_number}\\n")

with DAG("many", schedule=None, start_date=datetime(2026, 1, 1), max_active_tasks=64):
    for i in range(40):
        PythonOperator(task_id=f"t{i}", python_callable=record)
"""


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_scheduler_processes_never_run_a_task_twice(deployment: Deployment) -> None:
    deployment.write_dag("many", MANY)
    deployment.parse()
    deployment.start_scheduler()
    deployment.start_scheduler()
    run_ids = [deployment.tw("dags", "trigger", "many").stdout.strip() for _ in range(3)]
    for run_id in run_ids:
        assert deployment.wait_run("many", run_id, timeout=180) == "success", deployment.dump_logs()
    lines = (deployment.dags / "ledger.txt").read_text().splitlines()
    counts = Counter(tuple(line.split()[:2]) for line in lines)
    assert len(counts) == 3 * 40
    assert set(counts.values()) == {1}, [k for k, n in counts.items() if n > 1]
    with deployment.sessions() as session:
        from tradewind.store import task_instances

        tis, _ = task_instances.list_task_instances(session=session, dag_id="many")
        executors_jobs = Counter(ti.queued_by_job_id for ti in tis)
    assert len(executors_jobs) >= 1
