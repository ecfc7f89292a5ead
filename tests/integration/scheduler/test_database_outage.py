"""A scheduler whose database connections are cut keeps running and schedules the next run."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL
from tests.integration.scheduler.conftest import Deployment

CHAIN = """
from datetime import datetime
from tradewind import DAG, BashOperator
with DAG("chain", schedule=None, start_date=datetime(2026, 1, 1)):
    BashOperator(task_id="a", bash_command="echo a") >> BashOperator(task_id="b", bash_command="echo b")
"""


def _cut_connections(database: str, *, for_seconds: float) -> int:
    """Terminate every server process on ``database`` again and again (as a PostgreSQL failover or a
    proxy restart would), so some die in the middle of a scheduler transaction."""
    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg", "postgresql")
    cut = 0
    deadline = time.monotonic() + for_seconds
    with psycopg.connect(admin, autocommit=True) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchall()
            cut += len(rows)
    return cut


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_scheduler_rides_out_cut_database_connections(deployment: Deployment, db_url: str) -> None:
    deployment.write_dag("chain", CHAIN)
    deployment.parse()
    scheduler = deployment.start_scheduler()
    first = deployment.tw("dags", "trigger", "chain").stdout.strip()
    assert deployment.wait_run("chain", first, timeout=60) == "success", deployment.dump_logs()

    assert _cut_connections(db_url.rsplit("/", 1)[1], for_seconds=3.0) > 0
    assert scheduler.poll() is None, deployment.dump_logs()

    second = deployment.tw("dags", "trigger", "chain").stdout.strip()
    assert deployment.wait_run("chain", second, timeout=60) == "success", deployment.dump_logs()
    assert scheduler.poll() is None, "the scheduler is still the same process"
