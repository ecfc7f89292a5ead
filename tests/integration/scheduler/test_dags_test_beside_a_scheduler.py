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
