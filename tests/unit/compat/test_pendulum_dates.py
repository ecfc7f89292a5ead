"""pendulum datetimes and durations, as Airflow DAG files write them, wherever Tradewind takes a datetime."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tradewind.config.settings import Settings
from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.sdk.loading import load_dags_from_file

AIRFLOW_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

default_args = {
    "retries": 2,
    "retry_delay": pendulum.duration(seconds=30),
    "execution_timeout": pendulum.duration(minutes=5),
}
with DAG(
    dag_id="paris_daily",
    schedule="30 6 * * *",
    start_date=pendulum.datetime(2024, 3, 1, tz="Europe/Paris"),
    end_date=pendulum.datetime(2024, 12, 31, tz="Europe/Paris"),
    dagrun_timeout=pendulum.duration(hours=1),
    default_args=default_args,
    catchup=False,
):
    BashOperator(task_id="report", bash_command="echo {{ ds }}")

with DAG(
    dag_id="every_six_hours",
    schedule=pendulum.duration(hours=6),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
):
    BashOperator(task_id="tick", bash_command="true")
"""


def _stored(airflow_names: Settings, tmp_path: Path) -> dict[str, SerializedDag]:
    path = tmp_path / "pendulum_dag.py"
    path.write_text(textwrap.dedent(AIRFLOW_DAG))
    result = load_dags_from_file(path)
    assert result.errors == []
    stored = {}
    for dag in result.dags:
        json = serialize_dag(dag, fileloc=str(path), relative_fileloc=path.name).to_json()
        stored[dag.dag_id] = SerializedDag.from_json(json)
    return stored


def test_pendulum_time_zone_becomes_the_dag_time_zone(airflow_names: Settings, tmp_path: Path) -> None:
    dag = _stored(airflow_names, tmp_path)["paris_daily"]
    assert dag.timezone == "Europe/Paris"
    assert dag.start_date == datetime(2024, 2, 29, 23, 0, tzinfo=UTC)
    assert dag.end_date == datetime(2024, 12, 30, 23, 0, tzinfo=UTC)
    assert dag.dagrun_timeout == timedelta(hours=1).total_seconds()
    task = dag.tasks[0]
    assert (task.retries, task.retry_delay, task.execution_timeout) == (2, 30.0, 300.0)


def test_pendulum_duration_is_a_schedule(airflow_names: Settings, tmp_path: Path) -> None:
    dag = _stored(airflow_names, tmp_path)["every_six_hours"]
    assert dag.timezone == "UTC"
    assert dag.schedule_description == "every 6 hours"
