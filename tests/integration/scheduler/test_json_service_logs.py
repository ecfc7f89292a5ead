"""``[logging] log_format = "json"``: real service processes (the scheduler with its DAG processor and
execution API children, the webserver with uvicorn's own lines, the triggerer, a Celery worker) write one
JSON object per line on stderr, with the try's keys on lines about a try."""

from __future__ import annotations

import json
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ON_SQLITE_ONLY
from tests.integration.scheduler.conftest import TRADEWIND, Deployment
from tests.waiting import wait_for
from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import TaskInstanceState
from tradewind.store import jobs, task_instances

FIELDS = {"timestamp", "level", "logger", "message", "process"}


def _json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a service's output, each parsed as JSON (a line that is not fails the test)."""
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise AssertionError(f"{path.name} line {number} is not JSON: {line!r}") from None
        assert isinstance(record, dict) and set(record) >= FIELDS, line
        records.append(record)
    return records


def _start(dep: Deployment, *args: str, name: str) -> subprocess.Popen[bytes]:
    """A service with its stderr (the service log) in ``name``.err, apart from its stdout."""
    err = open(dep.home / f"{name}.err", "ab")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen([TRADEWIND, *args], env=dep.env, stdout=subprocess.DEVNULL, stderr=err)
    dep.procs.append(proc)
    return proc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def json_deployment(deployment: Deployment) -> Deployment:
    deployment.env["TRADEWIND__LOGGING__LOG_FORMAT"] = "json"
    return deployment


@ON_SQLITE_ONLY
def test_the_scheduler_and_its_children_log_json_lines(json_deployment: Deployment) -> None:
    dep = json_deployment
    dep.write_dag("crashy", """
        from datetime import datetime
        from tradewind import DAG, BashOperator
        with DAG("crashy", schedule=None, start_date=datetime(2026, 1, 1)):
            BashOperator(task_id="ok", bash_command="echo fine") >> BashOperator(
                task_id="dies", bash_command="kill -9 $PPID", trigger_rule="all_done")
    """)  # fmt: skip
    dep.parse()
    proc = _start(dep, "scheduler", name="scheduler")
    wait_for(lambda: dep._scheduler_running(proc.pid), timeout=30, what="scheduler job registered")
    # for the DAG processor child to report ("DAG" in it: files without the word are not parsed)
    dep.write_dag("broken", "from tradewind import DAG\nraise RuntimeError('broken on purpose')\n")

    def reported() -> bool:
        return "broken.py" in dep.tw("dags", "list-import-errors", "-o", "json", check=False).stdout

    wait_for(reported, timeout=30, what="the import error of broken.py", details=dep.dump_logs)
    run_id = dep.tw("dags", "trigger", "crashy").stdout.strip()
    assert dep.wait_run("crashy", run_id) == "failed", dep.dump_logs()
    with dep.sessions() as session:
        ti = task_instances.get_task_instance(session=session, key=TaskInstanceKey("crashy", run_id, "dies"))
        assert ti.state == TaskInstanceState.FAILED
    dep.stop_all()

    records = _json_lines(dep.home / "scheduler.err")
    loggers = {r["logger"] for r in records}
    assert "tradewind.scheduler.service" in loggers
    assert any(r["logger"].startswith("tradewind.dag_processing") for r in records), "the DAG processor child"
    assert len({r["process"] for r in records}) >= 2, "the children's lines are JSON too"
    (about_try,) = [r for r in records if r.get("task_id") == "dies" and r["level"] == "ERROR"]
    assert about_try["dag_id"] == "crashy" and about_try["run_id"] == run_id and about_try["try_number"] == 1
    assert all(r["timestamp"].endswith("+00:00") for r in records)


@ON_SQLITE_ONLY
def test_the_webserver_logs_json_lines_uvicorns_included(json_deployment: Deployment) -> None:
    port = _free_port()
    _start(json_deployment, "webserver", "--port", str(port), name="webserver")

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout=30, what="the webserver to answer", details=json_deployment.dump_logs)
    json_deployment.stop_all()
    records = _json_lines(json_deployment.home / "webserver.err")
    assert any(r["logger"].startswith("uvicorn") for r in records), records
    assert all("color_message" not in r for r in records)


@ON_SQLITE_ONLY
def test_the_triggerer_logs_json_lines(json_deployment: Deployment) -> None:
    _start(json_deployment, "triggerer", name="triggerer")

    def registered() -> bool:
        with json_deployment.sessions() as session:
            return bool(jobs.alive_jobs(session=session, job_type="triggerer", threshold_seconds=60,
                                        now=utcnow()))  # fmt: skip

    wait_for(registered, timeout=30, what="the triggerer job", details=json_deployment.dump_logs)
    json_deployment.stop_all()
    records = _json_lines(json_deployment.home / "triggerer.err")
    assert any(r["logger"].startswith("tradewind.triggerer") for r in records), records


@pytest.mark.redis
@ON_SQLITE_ONLY
def test_a_celery_worker_logs_json_lines(json_deployment: Deployment) -> None:
    dep = json_deployment
    dep.env["TRADEWIND__CORE__EXECUTOR"] = "celery"
    dep.env["TRADEWIND__CELERY__BROKER_URL"] = "redis://127.0.0.1:6379/11"
    dep.env["TRADEWIND__CELERY__DEFAULT_QUEUE"] = f"json-{uuid.uuid4().hex[:8]}"
    name = f"json-{uuid.uuid4().hex[:8]}@test"
    _start(dep, "celery", "worker", "-c", "1", "-H", name, name="worker")

    def answers() -> bool:
        status = dep.tw("celery", "status", "-o", "json", "--timeout", "1", check=False)
        return status.returncode == 0 and name in status.stdout

    wait_for(answers, timeout=60, what="the Celery worker to answer", details=dep.dump_logs)
    dep.stop_all()
    records = _json_lines(dep.home / "worker.err")  # its banner goes to stdout
    assert any(r["logger"].startswith("celery") for r in records), records
    assert any("starting Celery worker" in r["message"] for r in records)
