"""`tradewind dags test` next to a running scheduler (as a user tries a DAG beside `tradewind standalone`):
the test runs every task of its run in its own process and prints their logs, the scheduler never touches
that run, and the DAGs the scheduler's own settings load (the examples) stay active."""

from __future__ import annotations

from sqlalchemy import select

from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for
from tradewind.store.tables import DagModel, DagRunModel, TaskInstanceModel

#: Five tasks at once: a scheduler that took `test` runs would grab some of them while the test runs others.
FAN = """
from datetime import datetime
from tradewind import DAG, BashOperator
with DAG("fan", schedule=None, start_date=datetime(2026, 1, 1)):
    for i in range(5):
        BashOperator(task_id=f"t{i}", bash_command=f"sleep 0.3; echo output of t{i}")
"""


def _active_examples(deployment: Deployment) -> set[str]:
    with deployment.sessions() as session:
        return set(session.scalars(
            select(DagModel.dag_id).where(DagModel.is_active.is_(True), DagModel.dag_id.like("example_%"))
        ))


def test_dags_test_runs_its_own_tasks_and_leaves_the_schedulers_dags_alone(deployment: Deployment) -> None:
    deployment.write_dag("fan", FAN)
    service_env = dict(deployment.env)
    deployment.env["TRADEWIND__CORE__LOAD_EXAMPLES"] = "true"  # the service's settings: examples on
    deployment.start_scheduler()
    deployment.env = service_env  # `dags test` runs with the user's own settings: no examples
    wait_for(lambda: len(_active_examples(deployment)) >= 10, timeout=60, what="the example DAGs parsed",
               details=deployment.dump_logs)
    examples = _active_examples(deployment)

    out = deployment.tw("dags", "test", "fan", timeout=180)

    for i in range(5):  # each task ran here: its log is printed by the test itself
        assert f"--- t{i} try 1 ---" in out.stdout
        assert f"output of t{i}" in out.stdout
    with deployment.sessions() as session:
        run = session.scalars(select(DagRunModel).where(DagRunModel.dag_id == "fan")).one()
        tries = session.scalars(select(TaskInstanceModel).where(TaskInstanceModel.dag_id == "fan")).all()
    assert run.state == "success" and run.triggered_by == "test"
    assert {(ti.task_id, ti.state, ti.try_number, ti.executor) for ti in tries} == {
        (f"t{i}", "success", 1, "inline") for i in range(5)
    }
    assert _active_examples(deployment) == examples  # nothing deactivated by the test's own parse


#: A parent that triggers a child and waits for it (Airflow's example_external_task has this shape).
PARENT_AND_CHILD = """
from datetime import datetime
from tradewind import DAG, BashOperator
from tradewind.sdk.operators.trigger_dagrun import TriggerDagRunOperator
with DAG("child", schedule=None, start_date=datetime(2026, 1, 1)):
    BashOperator(task_id="work", bash_command="echo child ran as $AIRFLOW_CTX_DAG_RUN_ID")
with DAG("parent", schedule=None, start_date=datetime(2026, 1, 1)):
    TriggerDagRunOperator(task_id="trigger", trigger_dag_id="child", wait_for_completion=True, poke_interval=1)
"""


def test_dags_test_runs_the_runs_its_tasks_trigger_and_a_scheduler_leaves_them_alone(
    deployment: Deployment,
) -> None:
    """`dags test parent` runs the child run its TriggerDagRunOperator waits for (instead of waiting for
    ever); a scheduler running beside it never takes the child run, which belongs to the test."""
    deployment.write_dag("family", PARENT_AND_CHILD)
    deployment.start_scheduler()

    out = deployment.tw("dags", "test", "parent", timeout=180)

    assert "run " in out.stdout and out.stdout.rstrip().endswith("success"), out.stdout + out.stderr
    with deployment.sessions() as session:
        child = session.scalars(select(DagRunModel).where(DagRunModel.dag_id == "child")).one()
        child_tis = session.scalars(select(TaskInstanceModel).where(TaskInstanceModel.dag_id == "child")).all()
    assert child.state == "success"
    assert child.triggered_by is not None and child.triggered_by.startswith("test:")
    # The test ran the child's task itself (inline): the scheduler's executor never did.
    assert [(ti.task_id, ti.state, ti.executor) for ti in child_tis] == [("work", "success", "inline")]
    assert "child ran as" in out.stdout
