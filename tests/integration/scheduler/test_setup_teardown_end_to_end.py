"""Setup and teardown tasks with the real scheduler, LocalExecutor and runner processes: the teardown cleans
up after failed work and the run fails because of the work; a failed teardown alone leaves the run green."""

from __future__ import annotations

from tests.integration.scheduler.conftest import Deployment

CLUSTER = """
from datetime import datetime
from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import setup, task, teardown
from tradewind.sdk.context import get_current_context
from tradewind.sdk.edges import Label

with DAG("cluster", schedule=None, start_date=datetime(2026, 1, 1), dag_display_name="Cluster job") as dag:
    @setup
    def create_cluster():
        return "c-" + get_current_context()["run_id"][:6]

    def conf(name):
        return get_current_context()["dag_run"].conf.get(name, True)

    @task
    def query(cluster):
        if not conf("work_ok"):
            raise RuntimeError("the query failed on purpose")
        return cluster

    @teardown
    def delete_cluster(cluster):
        if not conf("teardown_ok"):
            raise RuntimeError("the teardown failed on purpose")
        print("deleted", cluster)

    cluster = create_cluster()
    query(cluster) >> Label("clean up") >> delete_cluster(cluster)
"""


def test_teardown_runs_after_failed_work_and_its_own_failure_does_not_fail_the_run(
    deployment: Deployment,
) -> None:
    deployment.write_dag("cluster", CLUSTER)
    deployment.parse()
    deployment.start_scheduler()

    failing = deployment.tw("dags", "trigger", "cluster", "--conf", '{"work_ok": false}').stdout.strip()
    assert deployment.wait_run("cluster", failing) == "failed", deployment.dump_logs()
    states = deployment.tw("tasks", "states-for-dag-run", "cluster", failing, "-o", "json").stdout
    assert '"delete_cluster"' in states
    assert '"upstream_failed"' not in states and states.count('"success"') == 2  # setup and teardown
    log = deployment.tw("tasks", "logs", "cluster", "delete_cluster", failing).stdout
    assert "deleted c-manual" in log

    teardown_fails = deployment.tw("dags", "trigger", "cluster", "--conf", '{"teardown_ok": false}').stdout
    assert deployment.wait_run("cluster", teardown_fails.strip()) == "success", deployment.dump_logs()
