"""DAG files written for Airflow 3 and Airflow 2, unchanged: parsed by the DAG processor, run by `dags test`, and
by the scheduler with real task processes and a DAG callback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for

AIRFLOW3 = '''
"""Written the Airflow 3 way."""
import pendulum

from airflow.configuration import conf
from airflow.exceptions import AirflowSkipException
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param, TriggerRule, chain, task, task_group

with DAG(
    dag_id="airflow3_style",
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Paris"),
    catchup=False,
    default_args={"retries": 0, "retry_delay": pendulum.duration(seconds=1)},
    params={"who": Param("world", type="string")},
    tags=["airflow3"],
):
    hello = BashOperator(task_id="hello", bash_command="echo hello {{ params.who }}")

    def _parallelism():
        print("parallelism is", conf.getint("core", "parallelism"))
        return 7

    py = PythonOperator(task_id="py", python_callable=_parallelism)

    @task
    def skip_me():
        raise AirflowSkipException("not today")

    @task_group
    def group():
        @task
        def double(x: int) -> int:
            from airflow.utils.trigger_rule import TriggerRule as LateImport  # imported while the task runs

            print("doubled", x * 2, LateImport.ALL_SUCCESS.value)
            return x * 2

        return double(py.output)

    end = EmptyOperator(task_id="end", trigger_rule=TriggerRule.NONE_FAILED)
    chain(hello, py, group(), skip_me(), end)
'''

AIRFLOW2 = '''
"""Written the Airflow 2 way."""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models.baseoperator import chain
from airflow.operators.bash import BashOperator
from airflow.operators.dummy import DummyOperator
from airflow.operators.python import BranchPythonOperator, PythonOperator
from airflow.utils.task_group import TaskGroup
from airflow.utils.trigger_rule import TriggerRule

default_args = {"owner": "data", "retries": 1, "retry_delay": timedelta(seconds=1)}

with DAG("airflow2_style", default_args=default_args, schedule=None, start_date=datetime(2023, 1, 1),
         catchup=False) as dag:
    start = DummyOperator(task_id="start")
    branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "left")
    left = BashOperator(task_id="left", bash_command="echo went left")
    right = BashOperator(task_id="right", bash_command="exit 1")
    with TaskGroup("tg") as tg:
        PythonOperator(task_id="inner", python_callable=lambda: print("inner ran"))
    join = DummyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    start >> branch >> [left, right]
    chain([left, right], join, tg)
'''

UNSUPPORTED = """
from airflow import DAG

from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
"""


@pytest.fixture
def parsed(deployment: Deployment) -> Deployment:
    deployment.write_dag("airflow3_style", AIRFLOW3)
    deployment.write_dag("airflow2_style", AIRFLOW2)
    deployment.write_dag("needs_amazon", UNSUPPORTED)
    deployment.parse()
    return deployment


def test_airflow_files_parse_and_an_unsupported_name_is_an_import_error(parsed: Deployment) -> None:
    dags = json.loads(parsed.tw("dags", "list", "-o", "json").stdout)
    assert sorted(d["dag_id"] for d in dags) == ["airflow2_style", "airflow3_style"]
    errors = json.loads(parsed.tw("dags", "list-import-errors", "-o", "json").stdout)
    assert [(e["filename"].rsplit("/", 1)[-1], e["lineno"]) for e in errors] == [("needs_amazon.py", 4)]
    assert "airflow.providers.amazon.aws.operators.s3 is not supported by Tradewind" in errors[0]["error"]
    assert "needs_amazon.py:4" in errors[0]["error"]


def test_airflow3_file_runs_under_dags_test(parsed: Deployment) -> None:
    out = parsed.tw("dags", "test", "airflow3_style", "2024-06-01")
    assert "hello world" in out.stdout
    assert "parallelism is 4" in out.stdout
    assert "doubled 14 all_success" in out.stdout
    states = {line.split()[1]: line.split()[5] for line in out.stdout.splitlines() if line.startswith("│")}
    assert states == {"end": "success", "group.double": "success", "hello": "success", "py": "success",
                      "skip_me": "skipped"}  # fmt: skip
    assert out.stdout.rstrip().endswith(": success")


def test_airflow2_file_runs_under_dags_test(parsed: Deployment) -> None:
    out = parsed.tw("dags", "test", "airflow2_style")
    assert "went left" in out.stdout and "inner ran" in out.stdout
    states = {line.split()[1]: line.split()[5] for line in out.stdout.splitlines() if line.startswith("│")}
    assert states["right"] == "skipped"
    assert states["join"] == states["tg.inner"] == "success"
    assert out.stdout.rstrip().endswith(": success")


SCHEDULED = """
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

OUT = Path({out!r})


def notify(context):
    from airflow.exceptions import AirflowException  # imported in the callback's own process

    OUT.joinpath("callback.txt").write_text(context["reason"] + " " + AirflowException.__name__)


def late_import():
    from airflow.sdk import Variable  # imported while the task runs

    return Variable.__name__


with DAG("airflow_scheduled", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         on_success_callback=notify):
    BashOperator(task_id="hello", bash_command="echo scheduled") >> PythonOperator(
        task_id="late", python_callable=late_import
    )
"""


def test_scheduler_runs_the_tasks_and_the_dag_callback(deployment: Deployment, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    deployment.write_dag("airflow_scheduled", SCHEDULED.format(out=str(out)))
    deployment.parse()
    deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "airflow_scheduled").stdout.strip()
    assert deployment.wait_run("airflow_scheduled", run_id, timeout=90) == "success"
    wait_for(lambda: (out / "callback.txt").exists(), timeout=60, what="the DAG callback",
               details=deployment.dump_logs)  # fmt: skip
    assert (out / "callback.txt").read_text() == "success TradewindError"
