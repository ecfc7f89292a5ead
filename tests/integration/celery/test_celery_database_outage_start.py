"""A Celery deployment brought up while its PostgreSQL server is down (a node restart, a Helm install whose
database pod still starts): the worker comes up (it needs no database), the scheduler waits for the
database, and once the server is back a run's tries go through the worker and succeed (issue 18).

The server is the test's own (tradewind.testing.private_postgres): stopping it touches no other test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.celery.celery_harness import Broker, StartWorker
from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for

from tradewind.testing.private_postgres import PrivatePostgres, available, running_server

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not available(), reason="needs root and PostgreSQL 15's binaries for a private server"
    ),
]

DAG = """
from datetime import datetime
from tradewind import BashOperator, DAG
with DAG("outage_start", schedule=None, start_date=datetime(2026, 1, 1)):
    BashOperator(task_id="t", bash_command="echo ran on $WORKER_TAG")
"""


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    with running_server() as pg:
        yield pg


def test_a_celery_worker_and_scheduler_started_during_an_outage_run_tries_once_the_database_is_back(
    tw_home: Path, server: PrivatePostgres, redis_broker: Broker, start_worker: StartWorker
) -> None:
    dep = Deployment(tw_home, server.url(f"tw_{uuid.uuid4().hex[:10]}"))
    dep.env |= {**redis_broker.env, "TRADEWIND__CORE__EXECUTOR": "celery",
                "TRADEWIND__DATABASE__OUTAGE_TIMEOUT": "40"}  # fmt: skip
    dep.write_dag("outage_start", DAG)
    try:
        dep.engine.dispose()
        server.stop()
        # As a worker of a real deployment, it has no database credentials.
        env = {name: value for name, value in dep.env.items() if name != "TRADEWIND__DATABASE__URL"}
        start_worker(redis_broker, tag="w", queues=[redis_broker.settings.default_queue], runner="fork",
                     extra_env={**env, "WORKER_TAG": "w"}, without_env=("TRADEWIND__DATABASE__URL",))  # fmt: skip
        scheduler = dep.start("scheduler")
        log = dep.home / "scheduler.log"
        wait_for(lambda: "is waiting for the metadata database" in log.read_text(errors="replace"),
                 what="the scheduler to wait for the database", timeout=60, details=dep.dump_logs)  # fmt: skip
        assert scheduler.poll() is None
        server.start()
        wait_for(lambda: dep._scheduler_running(scheduler.pid), what="the scheduler's job", timeout=60,
                 details=dep.dump_logs)  # fmt: skip
        wait_for(lambda: dep.tw("dags", "list", "-o", "plain", check=False).stdout.count("outage_start"),
                 what="the DAG parsed", timeout=60, details=dep.dump_logs)  # fmt: skip
        run_id = dep.tw("dags", "trigger", "outage_start").stdout.strip()
        assert dep.wait_run("outage_start", run_id, timeout=90) == "success", dep.dump_logs()
        logs = dep.tw("tasks", "logs", "outage_start", "t", run_id, check=False).stdout
        assert "ran on w" in logs
    finally:
        dep.stop_all()
