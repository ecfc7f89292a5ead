"""Sensors and cross-DAG operators with the real scheduler, LocalExecutor and runner processes: a FileSensor in
reschedule mode frees its slot until a file lands (across a scheduler killed meanwhile), an ExternalTaskSensor waits for another DAG's run that a
TriggerDagRunOperator starts and waits for, and clearing an ExternalTaskMarker clears the other DAG's task."""

from __future__ import annotations

import signal
from pathlib import Path
from urllib.parse import quote

from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for
from tradewind.core.keys import TaskInstanceKey
from tradewind.store import task_instances, task_reschedules, xcom

FILE_SENSOR = """
from datetime import datetime
from tradewind import DAG, BashOperator
from tradewind.sdk.sensors.filesystem import FileSensor

with DAG("landing", schedule=None, start_date=datetime(2026, 1, 1)):
    wait = FileSensor(task_id="wait", filepath="{path}/*.csv", mode="reschedule", poke_interval=1,
                      timeout=300)
    wait >> BashOperator(task_id="load", bash_command="echo loaded")
"""

CROSS_DAG = """
from datetime import datetime
from tradewind import DAG, BashOperator
from tradewind.sdk.operators.trigger_dagrun import TriggerDagRunOperator
from tradewind.sdk.sensors.external_task import ExternalTaskMarker, ExternalTaskSensor

START = datetime(2026, 1, 1)

with DAG("parent", schedule=None, start_date=START):
    load = BashOperator(task_id="load", bash_command="echo parent {{ dag_run.conf['day'] }}")
    load >> ExternalTaskMarker(task_id="marker", external_dag_id="child", external_task_id="wait")

with DAG("child", schedule=None, start_date=START):
    wait = ExternalTaskSensor(task_id="wait", external_dag_id="parent", external_task_id="load",
                              mode="reschedule", poke_interval=1, timeout=300, failed_states=["failed"])
    wait >> BashOperator(task_id="use", bash_command="echo child")

with DAG("controller", schedule=None, start_date=START):
    TriggerDagRunOperator(task_id="trigger", trigger_dag_id="parent", trigger_run_id="from-{{ run_id }}",
                          logical_date="{{ logical_date.isoformat() }}", conf={"day": "{{ ds }}"},
                          wait_for_completion=True, poke_interval=1)
"""

LOGICAL = "2026-02-03T00:00:00+00:00"


def ti(deployment: Deployment, dag_id: str, run_id: str, task_id: str) -> object:
    with deployment.sessions() as session:
        return task_instances.get_task_instance(session=session, key=TaskInstanceKey(dag_id, run_id, task_id))


def test_file_sensor_in_reschedule_mode_waits_for_a_file_created_later(
    deployment: Deployment, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    deployment.write_dag("landing", FILE_SENSOR.replace("{path}", str(landing)))
    deployment.parse()
    first = deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "landing").stdout.strip()
    key = TaskInstanceKey("landing", run_id, "wait")

    def rescheduled_more_than(count: int) -> bool:
        with deployment.sessions() as session:
            return len(task_reschedules.list_reschedules(session=session, key=key)) > count

    def rescheduled_twice() -> bool:
        return rescheduled_more_than(1)

    wait_for(rescheduled_twice, timeout=60, what="two reschedules", details=deployment.dump_logs)
    wait_for(lambda: ti(deployment, "landing", run_id, "wait").state == "up_for_reschedule",  # type: ignore[attr-defined]
               timeout=30, what="the sensor between pokes")  # fmt: skip
    assert ti(deployment, "landing", run_id, "wait").try_number == 1  # type: ignore[attr-defined]
    # A scheduler killed while the sensor waits between pokes: the next one picks the wait up from the database.
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    deployment.start_scheduler()
    with deployment.sessions() as session:
        before = len(task_reschedules.list_reschedules(session=session, key=key))
    wait_for(lambda: rescheduled_more_than(before), timeout=60, what="a poke by the new scheduler",
               details=deployment.dump_logs)  # fmt: skip
    (landing / "orders.csv").write_text("id\n1\n")
    assert deployment.wait_run("landing", run_id) == "success", deployment.dump_logs()
    assert ti(deployment, "landing", run_id, "wait").try_number == 1  # type: ignore[attr-defined]
    log = deployment.tw("tasks", "logs", "landing", "wait", run_id).stdout
    assert "Found file" in log and "orders.csv" in log


def test_external_sensor_trigger_operator_and_marker_across_dags(deployment: Deployment) -> None:
    deployment.write_dag("cross", CROSS_DAG)
    deployment.parse()
    deployment.start_scheduler()
    child_run = deployment.tw("dags", "trigger", "child", "-l", LOGICAL).stdout.strip()
    wait_for(lambda: ti(deployment, "child", child_run, "wait").state == "up_for_reschedule",  # type: ignore[attr-defined]
               timeout=60, what="the sensor to wait", details=deployment.dump_logs)  # fmt: skip
    controller_run = deployment.tw("dags", "trigger", "controller", "-l", LOGICAL).stdout.strip()
    assert deployment.wait_run("controller", controller_run) == "success", deployment.dump_logs()
    parent_run = f"from-{controller_run}"
    assert deployment.run_state("parent", parent_run) == "success"
    with deployment.sessions() as session:
        pushed = xcom.get_xcom(session=session, dag_id="controller", run_id=controller_run, task_id="trigger",
                               key="trigger_run_id")  # fmt: skip
        link = xcom.get_xcom(session=session, dag_id="controller", run_id=controller_run, task_id="trigger",
                             key="_link_TriggerDagRunLink")  # fmt: skip
    assert pushed == parent_run
    assert link == f"/dags/parent?run_id={quote(parent_run, safe='')}"
    assert deployment.wait_run("child", child_run) == "success", deployment.dump_logs()
    wait_try = ti(deployment, "child", child_run, "wait").try_number  # type: ignore[attr-defined]

    cleared = deployment.tw("tasks", "clear", "parent", "-t", "^marker$", "--run-id", parent_run, "-y")
    assert "Cleared 3 task instance(s)" in cleared.stdout, cleared.stdout
    assert deployment.wait_run("parent", parent_run) == "success", deployment.dump_logs()
    wait_for(lambda: ti(deployment, "child", child_run, "use").try_number == 2,  # type: ignore[attr-defined]
               timeout=60, what="the child's tasks to run again", details=deployment.dump_logs)  # fmt: skip
    assert deployment.wait_run("child", child_run) == "success", deployment.dump_logs()
    assert ti(deployment, "child", child_run, "wait").try_number == wait_try + 1  # type: ignore[attr-defined]
