"""`tradewind dags ...` as a user runs it: listings with JSON keys, trigger validation, pause, backfill,
test, delete, and the exit codes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ON_SQLITE_ONLY
from tests.integration.scheduler.conftest import Deployment

DAILY = """
from datetime import datetime
from tradewind import DAG, BashOperator, Param
with DAG("daily", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False,
         params={"n": Param(3, type="integer", minimum=1)}, tags=["cli"]):
    BashOperator(task_id="echo", bash_command="echo n={{ params.n }} ds={{ ds }}")
"""

BROKEN = "from tradewind import DAG\ndef broken(:\n"


@pytest.fixture
def parsed(deployment: Deployment) -> Deployment:
    deployment.write_dag("daily", DAILY)
    deployment.write_dag("broken", BROKEN)
    deployment.parse()
    return deployment


@ON_SQLITE_ONLY
def test_list_and_import_errors_as_json(parsed: Deployment) -> None:
    dags = json.loads(parsed.tw("dags", "list", "-o", "json").stdout)
    assert [d["dag_id"] for d in dags] == ["daily"]
    assert {"dag_id", "filename", "is_paused"} <= set(dags[0])
    errors = json.loads(parsed.tw("dags", "list-import-errors", "-o", "json").stdout)
    assert len(errors) == 1
    assert errors[0]["filename"].endswith("broken.py")
    assert errors[0]["lineno"] == 2
    assert "SyntaxError" in errors[0]["error"]


@ON_SQLITE_ONLY
def test_trigger_rejects_bad_conf_and_unknown_dag(parsed: Deployment) -> None:
    bad_json = parsed.tw("dags", "trigger", "daily", "--conf", "{not json", check=False)
    assert bad_json.returncode == 2 and "not valid JSON" in bad_json.stderr
    bad_param = parsed.tw("dags", "trigger", "daily", "--conf", '{"n": 0}', check=False)
    assert bad_param.returncode == 2 and "n" in bad_param.stderr
    unknown = parsed.tw("dags", "trigger", "nope", check=False)
    assert unknown.returncode == 1 and "nope" in unknown.stderr
    runs = json.loads(parsed.tw("dags", "list-runs", "daily", "-o", "json").stdout)
    assert runs == []
    assert parsed.tw("dags", "trigger", check=False).returncode == 2


@ON_SQLITE_ONLY
def test_trigger_with_run_id_and_conf_is_listed(parsed: Deployment) -> None:
    out = parsed.tw("dags", "trigger", "daily", "--run-id", "my_run", "--conf", '{"n": 7}')
    assert out.stdout.strip() == "my_run"
    runs = json.loads(parsed.tw("dags", "list-runs", "-d", "daily", "-o", "json").stdout)
    assert runs[0]["run_id"] == "my_run"
    assert runs[0]["state"] == "queued"
    assert runs[0]["conf"] == {"n": 7}
    again = parsed.tw("dags", "trigger", "daily", "--run-id", "my_run", check=False)
    assert again.returncode == 1 and "my_run" in again.stderr


@ON_SQLITE_ONLY
def test_pause_unpause(parsed: Deployment) -> None:
    parsed.tw("dags", "unpause", "daily")
    assert json.loads(parsed.tw("dags", "list", "-o", "json").stdout)[0]["is_paused"] is False
    parsed.tw("dags", "pause", "daily")
    assert json.loads(parsed.tw("dags", "list", "-o", "json").stdout)[0]["is_paused"] is True


def test_backfill_creates_one_run_per_interval_and_the_scheduler_runs_them(parsed: Deployment) -> None:
    parsed.start_scheduler()
    out = parsed.tw("dags", "backfill", "daily", "-s", "2026-01-01", "-e", "2026-01-03", "--wait", "--timeout", "90")
    run_ids = out.stdout.split()
    assert run_ids == [
        "backfill__2026-01-01T00:00:00+00:00",
        "backfill__2026-01-02T00:00:00+00:00",
        "backfill__2026-01-03T00:00:00+00:00",
    ]
    log = parsed.tw("tasks", "logs", "daily", "echo", run_ids[1]).stdout
    assert "n=3 ds=2026-01-02" in log


@ON_SQLITE_ONLY
def test_dags_test_runs_in_process_and_reports(parsed: Deployment) -> None:
    out = parsed.tw("dags", "test", "daily", "2026-02-01")
    # ``ds`` is the logical date given, not the start of the data interval before it (2026-01-31).
    assert "n=3 ds=2026-02-01" in out.stdout
    assert "success" in out.stdout


@ON_SQLITE_ONLY
def test_delete_removes_runs(parsed: Deployment) -> None:
    parsed.tw("dags", "trigger", "daily")
    parsed.tw("dags", "delete", "daily", "--yes")
    assert json.loads(parsed.tw("dags", "list-runs", "-o", "json").stdout) == []
