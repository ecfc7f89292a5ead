"""Airflow's own REST clients against a live Tradewind (`tradewind standalone`: uvicorn on a free loopback
port, a real SQLite database, DAG files parsed, the scheduler running the triggered tasks).

apache-airflow-client 2.x drives /api/v1, apache-airflow-client 3.x drives /api/v2 (after logging in
through POST /auth/token), and airflowctl runs a few commands. Each client is installed in its own
virtual environment at test time (tests/external_venvs.py) and runs a script from airflow_clients/; the
tests check what the clients returned and what changed in Tradewind's database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.external_venvs import ensure_venv, run_json
from tests.waiting import wait_for
from tradewind.store import audit, dags
from tradewind.store.connections import get_connection
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.field_cipher import FieldCipher

CLIENTS = Path(__file__).parent / "airflow_clients"
CLIENT_V2 = ("apache-airflow-client==2.10.0",)
CLIENT_V3 = ("apache-airflow-client==3.3.2",)
AIRFLOWCTL = ("apache-airflow-ctl==0.1.5",)
ADMIN, PASSWORD = "admin", "rest-clients-pass-1"
CRON, DELTA, MONTHLY, MANUAL = "rest_cron", "rest_delta", "rest_monthly", "rest_manual"
FERNET_KEY = "x8Qm0k3pS7QeW5zvRkqY2Vb1m9n4cX6hJt0aLdFgH2E="
CONN_PASSWORD = "conn-pass-Rest-4242"

DAG_FILE = """
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from tradewind import DAG, BashOperator

START = datetime(2026, 1, 1)

with DAG("rest_cron", schedule="15 4 * * *", start_date=START, catchup=False, tags=["rest"]):
    BashOperator(task_id="hello", bash_command="echo hello from rest") >> BashOperator(
        task_id="bye", bash_command="echo bye"
    )

with DAG("rest_delta", schedule=timedelta(hours=6), start_date=START, catchup=False):
    BashOperator(task_id="tick", bash_command="echo tick")

with DAG("rest_monthly", schedule=relativedelta(months=1), start_date=START, catchup=False):
    BashOperator(task_id="tock", bash_command="echo tock")

with DAG("rest_manual", schedule=None, start_date=START):
    BashOperator(task_id="only", bash_command="echo only")
"""
BROKEN_FILE = "from tradewind import DAG\n\nwith DAG(dag_id='broken'\n"


@dataclass
class LiveServer:
    url: str
    home: Path

    def db(self) -> Any:
        return make_session_factory(make_engine(f"sqlite:///{self.home / 'tradewind.db'}"))

    def payload(self, **extra: Any) -> dict[str, Any]:
        return {"url": self.url, "username": ADMIN, "password": PASSWORD, **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("rest_clients") / "tw_home"
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "rest_clients.py").write_text(DAG_FILE)
    (home / "dags" / "broken_rest.py").write_text(BROKEN_FILE)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWIND", "AIRFLOW"))}
    env.update(
        TRADEWIND_HOME=str(home),
        TRADEWIND_ADMIN_USER=ADMIN,
        TRADEWIND_ADMIN_PASSWORD=PASSWORD,
        TRADEWIND__SCHEDULER__LOOP_INTERVAL="0.2",
        TRADEWIND__SCHEDULER__DAG_DIR_LIST_INTERVAL="1",
        TRADEWIND__CORE__FERNET_KEY=FERNET_KEY,
        TRADEWIND__CORE__TEST_CONNECTION="enabled",
    )
    log = (home / "standalone.log").open("w")
    command = [
        sys.executable,
        "-m",
        "tradewind.cli.main",
        "standalone",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    auth = (ADMIN, PASSWORD)
    try:
        wait_for(lambda: (
                httpx.get(f"{url}/api/v1/dags/{MANUAL}", auth=auth).status_code == 200
                and httpx.get(f"{url}/api/v1/importErrors", auth=auth).json()["total_entries"] >= 1
            ), timeout=90, what="the DAG files to be parsed",
            ignoring=(httpx.HTTPError, KeyError, ValueError), interval=0.25)
        yield LiveServer(url=url, home=home)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def stored_password(live: LiveServer, conn_id: str) -> str | None:
    with live.db()() as session:
        return get_connection(session=session, conn_id=conn_id, cipher=FieldCipher(FERNET_KEY)).password


def paused(live: LiveServer, dag_id: str) -> bool:
    with live.db()() as session:
        return bool(dags.get_dag(session=session, dag_id=dag_id).is_paused)


def cleared_task_ids(live: LiveServer, run_id: str) -> list[list[str]]:
    """What the audit log says was cleared in this run, by whom (the scheduler may rerun it at once)."""
    with live.db()() as session:
        entries, _ = audit.list_audit(session=session, event="clear")
        return [[e.owner or "", *e.extra["task_ids"]] for e in entries if e.run_id == run_id and e.extra]


def test_airflow_2_client_reads_and_changes_tradewind_through_api_v1(live: LiveServer) -> None:
    python = ensure_venv(CLIENT_V2)
    assert paused(live, MANUAL)
    out = run_json(
        python,
        str(CLIENTS / "client_v2.py"),
        live.payload(
            cron_dag=CRON,
            delta_dag=DELTA,
            manual_dag=MANUAL,
            run_id="from_client_2",
            conn_password=CONN_PASSWORD,
        ),
    )

    # Schedules in Airflow 2's shapes; the client's model names the "__type" key "type".
    assert out["cron_schedule"] == {"type": "CronExpression", "value": "15 4 * * *"}
    assert out["delta_schedule"] == {"type": "TimeDelta", "days": 0, "seconds": 6 * 3600, "microseconds": 0}
    assert out["dags"][MANUAL] is None
    assert out["dags"][MONTHLY]["type"] == "RelativeDelta" and out["dags"][MONTHLY]["months"] == 1
    assert out["cron_has_import_errors"] is False and out["details_timezone"] == "UTC"

    # Unpausing went through to the database.
    assert out["patched_is_paused"] is False
    assert not paused(live, MANUAL)

    assert out["triggered"] == {"run_id": "from_client_2", "state": "queued", "conf": {"source": "v2"}}
    assert out["run_state"] == "success"
    assert "from_client_2" in out["listed_run_ids"]
    assert out["task_instances"] == {"hello": "success", "bye": "success"}
    assert out["hello"]["try_number"] == 1 and out["hello"]["state"] == "success"
    assert "hello from rest" in out["hello_log"]

    # Clearing "bye" went through to the database; a dry run changes nothing.
    assert out["cleared"] == ["bye"]
    assert cleared_task_ids(live, "from_client_2") == [[ADMIN, "bye"]]
    assert "hello" in out["dry_run_clear"]

    assert any(name.endswith("broken_rest.py") for name in out["import_errors"])
    assert out["variable"] == "two" and "rest_v2_var" in out["variable_keys"]
    assert out["pool_slots"] == 5 and "rest_v2_pool" in out["pool_names"]
    # Connections: the password only written, secret-looking extra values masked, the test run through the hook.
    assert out["connection"] == {
        "host": "api.example.com", "port": 443, "login": "bot", "extra": '{"token": "***", "verify": true}'
    }  # fmt: skip
    assert "rest_v2_conn" in out["connection_ids"] and CONN_PASSWORD not in json.dumps(out)
    assert out["connection_test"]["status"] is False and "no_hook_type" in out["connection_test"]["message"]
    assert stored_password(live, "rest_v2_conn") == CONN_PASSWORD
    assert out["health"] == "healthy" and out["version"]


def test_airflow_3_client_reads_and_changes_tradewind_through_api_v2(live: LiveServer) -> None:
    python = ensure_venv(CLIENT_V3)
    out = run_json(
        python,
        str(CLIENTS / "client_v3.py"),
        live.payload(cron_dag=CRON, manual_dag=MANUAL, run_id="from_client_3", conn_password=CONN_PASSWORD),
    )

    assert out["dags"][CRON] == "15 4 * * *" and out["dags"][DELTA] == "6:00:00"
    assert out["dags"][MANUAL] is None
    assert out["cron"] == {"periodic": True, "tags": ["rest"]}
    assert out["patched_is_paused"] is True
    assert paused(live, MANUAL)

    # Triggered with a null logical_date, as Airflow 3 clients do; Tradewind uses the trigger time.
    assert out["triggered"] == {"run_id": "from_client_3", "state": "queued", "conf": {"source": "v3"}}
    assert out["triggering_user"] == ADMIN
    assert out["run_state"] == "success"
    assert "from_client_3" in out["listed_run_ids"]
    assert out["task_instances"] == {"hello": "success", "bye": "success"}
    assert out["hello"]["try_number"] == 1 and len(out["hello"]["id"]) == 36
    assert "hello from rest" in out["hello_log"]

    assert out["cleared"] == ["bye"]
    assert cleared_task_ids(live, "from_client_3") == [[ADMIN, "bye"]]
    assert "hello" in out["dry_run_clear"]
    assert any(name.endswith("broken_rest.py") for name in out["import_errors"])
    # A JSON value is stored as its JSON text, as Airflow 3 does.
    assert out["variable"] == '{"n": 2}' and "rest_v3_var" in out["variable_keys"]
    assert out["pool"] == {"slots": 4, "description": "from the 3.x client"}
    assert "rest_v3_pool" in out["pool_names"]
    assert out["connection"] == {
        "host": "example.com", "login": "svc", "port": 443, "password": "***", "extra": '{"api_key": "***", "timeout": 5}'
    }  # fmt: skip
    assert out["connection_ids"][0] == "rest_v3_conn" and CONN_PASSWORD not in json.dumps(out)
    assert out["connection_test"]["status"] is False
    assert stored_password(live, "rest_v3_conn") == CONN_PASSWORD
    assert out["health"] == "healthy" and out["version"]


def test_airflowctl_logs_in_with_a_password_and_runs_commands(live: LiveServer, tmp_path: Path) -> None:
    python = ensure_venv(AIRFLOWCTL)
    with httpx.Client(base_url=live.url, auth=(ADMIN, PASSWORD)) as client:
        assert client.patch(f"/api/v2/dags/{MANUAL}", json={"is_paused": False}).status_code == 200
    assert not paused(live, MANUAL)

    out = run_json(
        python,
        str(CLIENTS / "airflowctl_cli.py"),
        live.payload(airflow_home=str(tmp_path / "airflow_home"), manual_dag=MANUAL),
    )

    assert "Login successful" in out["login"]
    assert {CRON, DELTA, MONTHLY, MANUAL} <= set(out["dags"])
    assert "default_pool" in out["pools"]
    assert "pause successful" in out["pause"]
    assert paused(live, MANUAL)
    assert "'version'" in out["version"]


def test_auth_token_refuses_a_wrong_password_and_its_token_works(live: LiveServer) -> None:
    wrong = httpx.post(f"{live.url}/auth/token", json={"username": ADMIN, "password": "not-it"})
    assert wrong.status_code == 401
    issued = httpx.post(f"{live.url}/auth/token", json={"username": ADMIN, "password": PASSWORD})
    assert issued.status_code == 201
    headers = {"authorization": f"Bearer {issued.json()['access_token']}"}
    assert httpx.get(f"{live.url}/api/v2/dags/{CRON}", headers=headers).json()["dag_id"] == CRON
    assert httpx.get(f"{live.url}/api/v2/dags/{CRON}").status_code == 401
