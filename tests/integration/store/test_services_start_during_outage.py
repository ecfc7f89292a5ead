"""Every service started while its PostgreSQL server is down waits for it (one log line naming the server,
never the password) and then does its job; past ``database.outage_timeout`` it exits non-zero naming the
setting (issue 18, ADR 0021).

The server is the module's own (tradewind.testing.private_postgres): stopping it touches no other test."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.cheap_password_hashes import cheap_hash
from tests.conftest import tw_home as _tw_home  # noqa: F401 - the fixture is used through ``deployment``
from tests.integration.scheduler.conftest import TRADEWIND, Deployment
from tests.waiting import wait_for

from tradewind.store import jobs, users
from tradewind.store.engine import make_engine, transaction
from tradewind.store.migrate import HEAD_REVISION, current_revision
from tradewind.store.tables import DagModel, UserModel
from tradewind.testing.private_postgres import PrivatePostgres, available, running_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not available(), reason="needs root and PostgreSQL 15's binaries for a private server"
    ),
]

#: Trust authentication ignores it; it is in the URL so the tests can see it is never printed.
PASSWORD = "pw-never-logged-7f3a"
WAITING = "is waiting for the metadata database at"

DAG = """
from datetime import datetime
from tradewind import DAG, BashOperator
with DAG("after_outage", schedule=None, start_date=datetime(2026, 1, 1)):
    BashOperator(task_id="t", bash_command="true")
"""


@pytest.fixture(scope="module")
def server() -> Iterator[PrivatePostgres]:
    with running_server() as pg:
        yield pg


def _url(server: PrivatePostgres, database: str) -> str:
    return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{server.port}/{database}"


@pytest.fixture
def deployment(tw_home: Path, server: PrivatePostgres) -> Iterator[Deployment]:
    if not server.accepting():
        server.start()
    dep = Deployment(tw_home, _url(server, f"tw_{uuid.uuid4().hex[:10]}"))
    # Long enough for a process to start on a busy machine, wait, and see the server back.
    dep.env["TRADEWIND__DATABASE__OUTAGE_TIMEOUT"] = "40"
    dep.write_dag("after_outage", DAG)
    try:
        yield dep
    finally:
        dep.stop_all()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log(dep: Deployment, name: str) -> str:
    path = dep.home / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def _start_during_outage(
    server: PrivatePostgres, env: dict[str, str], home: Path, *args: str, name: str
) -> subprocess.Popen[bytes]:
    """Stop the server, start ``tradewind ARGS`` (output in HOME/NAME.log), see it wait for the server by
    its address, and start the server."""
    server.stop()
    log = home / f"{name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([TRADEWIND, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    wait_for(lambda: WAITING in log.read_text(errors="replace"), what=f"{name} to say it waits", timeout=60,
             details=lambda: log.read_text(errors="replace"))  # fmt: skip
    assert proc.poll() is None, log.read_text(errors="replace")
    waiting = next(line for line in log.read_text(errors="replace").splitlines() if WAITING in line)
    assert f"127.0.0.1:{server.port}" in waiting and "database.outage_timeout" in waiting, waiting
    server.start()
    return proc


def _start_service(
    dep: Deployment, server: PrivatePostgres, *args: str, name: str
) -> subprocess.Popen[bytes]:
    dep.engine.dispose()
    proc = _start_during_outage(server, dep.env, dep.home, *args, name=name)
    dep.procs.append(proc)
    return proc


def _alive_job(dep: Deployment, job_type: str, pid: int) -> bool:
    from tradewind.core.clock import utcnow

    with dep.sessions() as session:
        alive = jobs.alive_jobs(session=session, job_type=job_type, threshold_seconds=60, now=utcnow())
        return any(job.pid == pid for job in alive)


def _dag_stored(dep: Deployment, dag_id: str) -> bool:
    with dep.sessions() as session:
        return session.scalar(select(DagModel.dag_id).where(DagModel.dag_id == dag_id)) is not None


def test_the_scheduler_started_during_an_outage_runs_a_dag_once_the_database_is_back(
    deployment: Deployment, server: PrivatePostgres
) -> None:
    """Its DAG processor child parses the DAG, and the try runs through its execution API child."""
    proc = _start_service(deployment, server, "scheduler", name="scheduler")
    wait_for(lambda: _alive_job(deployment, "scheduler", proc.pid), what="the scheduler's job", timeout=60,
             details=deployment.dump_logs)  # fmt: skip
    wait_for(lambda: _dag_stored(deployment, "after_outage"), what="the DAG parsed", timeout=60,
             details=deployment.dump_logs)  # fmt: skip
    run_id = deployment.tw("dags", "trigger", "after_outage").stdout.strip()
    assert deployment.wait_run("after_outage", run_id, timeout=90) == "success", deployment.dump_logs()
    assert PASSWORD not in deployment.dump_logs()


def test_the_dag_processor_started_during_an_outage_stores_the_dags(
    deployment: Deployment, server: PrivatePostgres
) -> None:
    _start_service(deployment, server, "dag-processor", name="dag-processor")
    wait_for(lambda: _dag_stored(deployment, "after_outage"), what="the DAG parsed", timeout=60,
             details=deployment.dump_logs)  # fmt: skip
    assert PASSWORD not in deployment.dump_logs()


def test_the_triggerer_started_during_an_outage_registers_and_heartbeats(
    deployment: Deployment, server: PrivatePostgres
) -> None:
    proc = _start_service(deployment, server, "triggerer", name="triggerer")
    wait_for(lambda: _alive_job(deployment, "triggerer", proc.pid), what="the triggerer's job", timeout=60,
             details=deployment.dump_logs)  # fmt: skip
    assert PASSWORD not in deployment.dump_logs()


def test_the_webserver_serves_health_during_an_outage_and_answers_once_the_database_is_back(
    deployment: Deployment, server: PrivatePostgres
) -> None:
    """It listens at once: /health answers 200 saying the database is unhealthy (a liveness or readiness
    probe keeps the pod), routes that need the database answer 503 with Retry-After, then 200."""
    with transaction(deployment.sessions) as session:
        users.create_user(session=session, username="admin", password_hash=cheap_hash("admin-pw-1"),
                          role="admin")  # fmt: skip
    port = _free_port()
    deployment.engine.dispose()
    server.stop()
    deployment.start("webserver", "--port", str(port), log_name="webserver")
    base = f"http://127.0.0.1:{port}"
    health = wait_for(lambda: httpx.get(f"{base}/health", timeout=30), what="/health to answer", timeout=60,
                      ignoring=(httpx.TransportError,), details=deployment.dump_logs)  # fmt: skip
    assert health.status_code == 200 and health.json()["metadatabase"]["status"] == "unhealthy"
    dags = httpx.get(f"{base}/api/v2/dags", auth=("admin", "admin-pw-1"), timeout=30)
    assert dags.status_code == 503 and int(dags.headers["Retry-After"]) > 0, dags.text
    server.start()

    def dags_listed() -> bool:
        return httpx.get(f"{base}/api/v2/dags", auth=("admin", "admin-pw-1"), timeout=30).status_code == 200

    wait_for(dags_listed, what="the API to answer again", timeout=60, details=deployment.dump_logs)
    assert httpx.get(f"{base}/health", timeout=30).json()["metadatabase"]["status"] == "healthy"
    assert PASSWORD not in deployment.dump_logs()


def test_standalone_started_during_an_outage_serves_and_schedules_once_the_database_is_back(
    deployment: Deployment, server: PrivatePostgres
) -> None:
    port = _free_port()
    deployment.env |= {"TRADEWIND__CORE__LOAD_EXAMPLES": "false", "TRADEWIND_ADMIN_PASSWORD": "admin-pw-1"}
    _start_service(deployment, server, "standalone", "--port", str(port), "--no-triggerer", name="standalone")

    def scheduler_healthy() -> bool:
        report = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).json()
        return bool(
            report["metadatabase"]["status"] == "healthy" and report["scheduler"]["status"] == "healthy"
        )

    wait_for(scheduler_healthy, what="standalone's webserver and scheduler", timeout=90,
             ignoring=(httpx.TransportError,), details=deployment.dump_logs)  # fmt: skip
    with deployment.sessions() as session:
        assert session.scalar(select(UserModel.username)) == "admin"
    assert PASSWORD not in deployment.dump_logs()


def test_db_migrate_started_during_an_outage_migrates_once_the_database_is_back(
    tw_home: Path, server: PrivatePostgres
) -> None:
    """As the chart's migration job does while its PostgreSQL starts."""
    if not server.accepting():
        server.start()
    database = f"tw_{uuid.uuid4().hex[:10]}"
    server.create_database(database)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")},
           "TRADEWIND_HOME": str(tw_home), "TRADEWIND__DATABASE__URL": _url(server, database),
           "TRADEWIND__DATABASE__OUTAGE_TIMEOUT": "40"}  # fmt: skip
    proc = _start_during_outage(server, env, tw_home, "db", "migrate", name="migrate")
    try:
        assert proc.wait(timeout=90) == 0, (tw_home / "migrate.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    engine = make_engine(_url(server, database))
    try:
        assert current_revision(engine) == HEAD_REVISION
    finally:
        engine.dispose()
    assert PASSWORD not in (tw_home / "migrate.log").read_text()


def test_a_service_gives_up_at_the_end_of_the_window_naming_the_setting(
    deployment: Deployment, server: PrivatePostgres
) -> None:
    deployment.env["TRADEWIND__DATABASE__OUTAGE_TIMEOUT"] = "2"
    deployment.engine.dispose()
    server.stop()
    done = subprocess.run([TRADEWIND, "triggerer"], env=deployment.env, capture_output=True, text=True,
                          timeout=90)  # fmt: skip
    assert done.returncode == 1, done.stderr
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("error: the triggerer gave up") and "database.outage_timeout" in error, (
        done.stderr
    )
    assert f"127.0.0.1:{server.port}" in error
    assert WAITING in done.stderr and PASSWORD not in done.stderr
    assert "Traceback" not in done.stderr
