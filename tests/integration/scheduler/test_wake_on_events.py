"""A sleeping scheduler wakes on events (ADR 0012): a trigger through the REST API or the CLI and an unpause
start a run within seconds although ``loop_interval`` and ``idle_poll_interval`` are far longer; a scheduled
run is created when due while it sleeps; a write that rings nobody is found by the safety poll.

The deadlines are much shorter than the configured intervals, so meeting them proves the wake-up; they are
not timings of its speed (that is bench/idle_cost.py and the trigger benchmarks)."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta

import pytest

from tests.cheap_password_hashes import cheap_hash
from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for
from tradewind.api.app import create_app
from tradewind.core.clock import utcnow
from tradewind.core.states import DagRunType
from tradewind.store import dag_runs, dags, users
from tradewind.store.engine import transaction
from tradewind.store.new_runs import create_run
from tradewind.store.tables import DagRunModel

# Starlette suggests another client package; httpx is the one this project uses.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

#: Far longer than any deadline below: a run started within a deadline was woken, not polled.
LONG = "120"
#: Start to success of a one-task run on a loaded machine, with the wake-up working.
PROMPT = 25.0

ONE_TASK = """
from datetime import datetime
from tradewind import DAG, BashOperator

with DAG("{dag_id}", schedule=None, start_date=datetime(2026, 1, 1)):
    BashOperator(task_id="hello", bash_command="echo hello")
"""

EVERY_FEW_SECONDS = """
from datetime import datetime, timedelta
from tradewind import DAG, BashOperator

with DAG("ticking", schedule=timedelta(seconds=4), start_date=datetime(2026, 1, 1), catchup=False):
    BashOperator(task_id="hello", bash_command="echo hello")
"""


def _sleepy(deployment: Deployment, *, idle_poll: str = LONG) -> None:
    deployment.env["TRADEWIND__SCHEDULER__LOOP_INTERVAL"] = LONG
    deployment.env["TRADEWIND__SCHEDULER__IDLE_POLL_INTERVAL"] = idle_poll


def _start(deployment: Deployment, *dag_ids: str) -> None:
    for dag_id in dag_ids:
        deployment.write_dag(dag_id, ONE_TASK.format(dag_id=dag_id))
    deployment.parse()
    deployment.start_scheduler()


def _runs(deployment: Deployment, dag_id: str) -> list[DagRunModel]:
    with deployment.sessions() as session:
        return list(dag_runs.list_dag_runs(session=session, dag_id=dag_id)[0])


def test_a_trigger_through_the_rest_api_wakes_a_sleeping_scheduler(deployment: Deployment) -> None:
    _sleepy(deployment)
    _start(deployment, "rest_woken")
    settings = deployment.settings()
    with transaction(deployment.sessions) as session:
        users.create_user(
            session=session, username="op", password_hash=cheap_hash("op-pass-123"), role="op"
        )
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        client.post(
            "/login",
            data={"username": "op", "password": "op-pass-123", "csrf_token": token.group(1), "next": "/dags"},
            follow_redirects=False,
        )
        page = client.get("/dags", headers={"accept": "text/html"})
        csrf = re.search(r'data-csrf="([^"]+)"', page.text)
        assert csrf is not None
        response = client.post(
            "/api/v1/dags/rest_woken/dagRuns",
            json={"dag_run_id": "from_rest", "conf": {}},
            headers={"x-csrf-token": csrf.group(1)},
        )
        assert response.status_code == 200, response.text
    assert deployment.wait_run("rest_woken", "from_rest", timeout=PROMPT) == "success"


def test_a_cli_trigger_wakes_a_sleeping_scheduler(deployment: Deployment) -> None:
    _sleepy(deployment)
    _start(deployment, "cli_woken")
    deployment.tw("dags", "trigger", "cli_woken", "--run-id", "from_cli")
    assert deployment.wait_run("cli_woken", "from_cli", timeout=PROMPT) == "success"


def test_unpausing_a_due_dag_wakes_a_sleeping_scheduler(deployment: Deployment) -> None:
    _sleepy(deployment)
    deployment.write_dag("ticking", EVERY_FEW_SECONDS)
    deployment.parse()
    deployment.tw("dags", "pause", "ticking")
    deployment.start_scheduler()
    # Paused past several due moments: no run while paused.
    wait_for(lambda: _next_run_computed(deployment, "ticking"), what="the next run computed", timeout=30)
    assert _runs(deployment, "ticking") == []
    deployment.tw("dags", "unpause", "ticking")
    wait_for(
        lambda: any(r.state == "success" for r in _runs(deployment, "ticking")),
        what="a run after unpausing",
        timeout=PROMPT,
        details=deployment.dump_logs,
    )


def test_a_scheduled_run_is_created_when_due_while_the_scheduler_sleeps(deployment: Deployment) -> None:
    _sleepy(deployment)
    deployment.write_dag("ticking", EVERY_FEW_SECONDS)
    deployment.parse()
    deployment.start_scheduler()
    # Every 4 s, with nothing else happening: three scheduled runs within 30 s can only come from the
    # scheduler waking at each due moment (loop_interval and idle_poll_interval are 120 s).
    wait_for(
        lambda: len([r for r in _runs(deployment, "ticking") if r.run_type == "scheduled"]) >= 3,
        what="three scheduled runs",
        timeout=30 + PROMPT,
        details=lambda: deployment.dump_logs() + _dag_row(deployment, "ticking"),
    )


def test_a_write_that_rings_nobody_is_found_by_the_safety_poll(deployment: Deployment) -> None:
    deployment.env["TRADEWIND__SCHEDULER__LOOP_INTERVAL"] = "1"
    deployment.env["TRADEWIND__SCHEDULER__IDLE_POLL_INTERVAL"] = "3"
    _start(deployment, "unrung")
    now = utcnow()
    with transaction(deployment.sessions) as session:  # create_run rings nobody: only the scheduler uses it
        sdag = dags.get_serialized_dag(session=session, dag_id="unrung")
        create_run(
            session=session, sdag=sdag, run_type=DagRunType.MANUAL, logical_date=now,
            data_interval=None, now=now, run_id="unrung_run",
        )  # fmt: skip
    assert deployment.wait_run("unrung", "unrung_run", timeout=PROMPT) == "success"


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_sleeping_schedulers_on_postgresql_keep_running_triggered_runs(deployment: Deployment) -> None:
    _sleepy(deployment)
    _start(deployment, "ha_woken")
    deployment.start_scheduler()
    for n in range(3):
        deployment.tw("dags", "trigger", "ha_woken", "--run-id", f"ha_{n}")
    for n in range(3):
        assert deployment.wait_run("ha_woken", f"ha_{n}", timeout=PROMPT) == "success"


def _next_run_computed(deployment: Deployment, dag_id: str) -> bool:
    with deployment.sessions() as session:
        dag = dags.get_dag(session=session, dag_id=dag_id)
        return (
            dag.next_dagrun_create_after is not None
            and dag.next_dagrun_create_after < utcnow() + timedelta(seconds=5)
        )


def _dag_row(deployment: Deployment, dag_id: str) -> str:
    with deployment.sessions() as session:
        dag = dags.get_dag(session=session, dag_id=dag_id)
        return f"\nactive {dag.is_active} paused {dag.is_paused} next {dag.next_dagrun_create_after}"
