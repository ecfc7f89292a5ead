"""DAG-level on_success_callback / on_failure_callback with the real scheduler, DAG processor and LocalExecutor:
each runs once per ended run, with Airflow's context (reason, dag_run.state, ds ...), in its own process,
its output and traceback in a log file beside the run's task logs, secrets masked."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for
from tradewind.store.tables import DagCallbackRequestModel

CALLBACKS = """
from datetime import datetime
from pathlib import Path
from tradewind import DAG, BashOperator, Variable

OUT = Path({out!r})

def record(context):
    line = "|".join([context["dag"].dag_id, context["run_id"], context["reason"], context["dag_run"].state,
                     context["ds"]])
    with open(OUT / "calls.txt", "a") as fh:
        fh.write(line + "\\n")
    print("told the team, token", Variable.get("slack_token"))

def explode(context):
    raise RuntimeError("the pager is down for " + context["run_id"])

with DAG("cb_fails", schedule=None, start_date=datetime(2026, 1, 1),
         on_failure_callback=record, on_success_callback=record):
    BashOperator(task_id="boom", bash_command="exit 3")

with DAG("cb_succeeds", schedule=None, start_date=datetime(2026, 1, 1), on_success_callback=[record]):
    BashOperator(task_id="fine", bash_command="true")

with DAG("cb_explodes", schedule=None, start_date=datetime(2026, 1, 1), on_failure_callback=explode):
    BashOperator(task_id="boom", bash_command="exit 3")
"""


def _pending(dep: Deployment) -> int:
    with dep.sessions() as session:
        return session.scalar(select(func.count()).select_from(DagCallbackRequestModel)) or 0


def _calls(out: Path) -> list[str]:
    path = out / "calls.txt"
    return path.read_text().splitlines() if path.exists() else []


def test_dag_callbacks_run_once_per_ended_run_with_their_context(deployment: Deployment, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    deployment.write_dag("callbacks", CALLBACKS.format(out=str(out)))
    deployment.tw("variables", "set", "slack_token", "xoxb-very-secret-value")
    deployment.parse()
    deployment.start_scheduler()
    failed = deployment.tw("dags", "trigger", "cb_fails").stdout.strip()
    succeeded = deployment.tw("dags", "trigger", "cb_succeeds").stdout.strip()
    exploded = deployment.tw("dags", "trigger", "cb_explodes").stdout.strip()
    assert deployment.wait_run("cb_fails", failed) == "failed"
    assert deployment.wait_run("cb_succeeds", succeeded) == "success"
    assert deployment.wait_run("cb_explodes", exploded) == "failed"

    wait_for(lambda: len(_calls(out)) >= 2 and _pending(deployment) == 0, timeout=60,
               what="the callbacks to run", details=deployment.dump_logs)
    ds = failed.split("__")[1][:10]
    assert sorted(_calls(out)) == sorted([
        f"cb_fails|{failed}|task_failure|failed|{ds}",
        f"cb_succeeds|{succeeded}|success|success|{succeeded.split('__')[1][:10]}",
    ])  # once each: the requests are gone, and nothing ran twice

    logs = deployment.settings().base_log_folder
    fail_log = (logs / "dag_id=cb_fails" / f"run_id={failed}" / "on_failure_callback.log").read_text()
    assert "told the team, token ***" in fail_log
    assert "xoxb-very-secret-value" not in fail_log
    explode_log = (logs / "dag_id=cb_explodes" / f"run_id={exploded}" / "on_failure_callback.log").read_text()
    assert f"RuntimeError: the pager is down for {exploded}" in explode_log
    assert "Traceback" in explode_log
    wait_for(lambda: "on_failure_callback of DAG cb_explodes" in deployment.dump_logs(), timeout=30,
               what="the processor to report the failed callback")
    assert "failed (exit 1" in deployment.dump_logs()
