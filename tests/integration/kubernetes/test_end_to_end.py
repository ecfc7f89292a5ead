"""The scheduler with the Kubernetes executor, end to end on the fake cluster: example DAGs run green,
output survives the pods, and a scheduler killed mid-run is replaced without running any task twice."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.kubernetes.deployment import KubernetesDeployment
from tests.waiting import wait_for

import tradewind.example_dags
from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import log_relative_path
from tradewind.store import jobs, task_instances

EXAMPLES = Path(tradewind.example_dags.__file__).parent


def _heartbeat_age(dep: KubernetesDeployment) -> float:
    with dep.sessions() as session:
        latest = jobs.latest_heartbeat(session=session, job_type="scheduler")
    return (utcnow() - latest).total_seconds() if latest is not None else 0.0


@pytest.fixture
def k8s_deployment(tw_home: Path, db_url: str) -> Iterator[KubernetesDeployment]:
    deployment = KubernetesDeployment(tw_home, db_url)
    try:
        yield deployment
    finally:
        deployment.stop_all()


PROBE = """
    from datetime import datetime
    from tradewind import DAG, task

    with DAG("probe", schedule=None, start_date=datetime(2026, 1, 1)):
        @task
        def environment():
            import os
            with open("/proc/self/environ", "rb") as handle:
                initial = handle.read().decode(errors="replace")
            print("database settings seen:", [n for n in os.environ if "DATABASE" in n], "DATABASE" in initial)
            print("token in environment:", "TRADEWIND_TASK_TOKEN" in os.environ)

        environment()
"""


def test_example_dag_runs_in_pods(k8s_deployment: KubernetesDeployment) -> None:
    """...in pods that hold no database credentials and no token in their spec."""
    dep = k8s_deployment
    shutil.copy(EXAMPLES / "example_bash_operator.py", dep.dags)
    dep.write_dag("probe", PROBE)
    dep.parse()
    dep.start_scheduler()
    run_id = dep.tw("dags", "trigger", "example_bash_operator").stdout.strip()
    probe_run = dep.tw("dags", "trigger", "probe").stdout.strip()
    assert dep.wait_run("example_bash_operator", run_id, timeout=120) == "success", dep.dump_logs()
    assert dep.wait_run("probe", probe_run, timeout=60) == "success", dep.dump_logs()
    probe_log = (dep.home / "logs" / log_relative_path(TaskInstanceKey("probe", probe_run, "environment"), 1))
    text = probe_log.read_text()
    assert "database settings seen: [] False" in text
    assert "token in environment: False" in text  # the runner took it out before task code ran
    key = TaskInstanceKey("example_bash_operator", run_id, "use_env")
    log = (dep.home / "logs" / log_relative_path(key, 1)).read_text()
    assert log.count("greeting is hello from Tradewind") == 1  # the shared logs claim holds it: not copied again
    assert "[kubernetes] --- output of pod default/example-bash-operator-use-env-" in log
    wait_for(lambda: not dep.core.list_namespaced_pod("default", label_selector="tradewind-worker=true").items,
               timeout=30, what="the finished pods to be deleted")


#: Adoption is the executor's and the fake cluster's: the database makes no difference (SQLite only, to save
#: 20 s of the suite's 25-minute budget; the PostgreSQL variants of the scheduler restart tests remain).
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_killed_scheduler_is_replaced_and_no_task_runs_twice(k8s_deployment: KubernetesDeployment) -> None:
    dep = k8s_deployment
    dep.env["TRADEWIND__KUBERNETES__DELETE_WORKER_PODS"] = "false"  # keep every pod, to count them
    # A killed scheduler is dead to the next one after 3 heartbeat intervals, not the default 30 s.
    dep.env["TRADEWIND__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD"] = "3"
    dep.write_dag("fanout", """
        from datetime import datetime
        from pathlib import Path
        from tradewind import DAG, BashOperator
        here = str(Path(__file__).parent)
        with DAG("fanout", schedule=None, start_date=datetime(2026, 1, 1)):
            for i in range(6):
                BashOperator(task_id=f"t{i}", bash_command=f"sleep 6; echo t{i} >> {here}/ran.txt")
    """)
    dep.parse()
    first = dep.start_scheduler()
    run_id = dep.tw("dags", "trigger", "fanout").stdout.strip()

    def some_running() -> bool:
        with dep.sessions() as session:
            tis, _count = task_instances.list_task_instances(session=session, dag_id="fanout", run_id=run_id)
            return sum(1 for ti in tis if ti.state == "running") >= 2

    wait_for(some_running, timeout=60, what="tasks to start in pods", details=dep.dump_logs)
    with dep.sessions() as session:
        tis, _count = task_instances.list_task_instances(session=session, dag_id="fanout", run_id=run_id)
    running_at_kill = {ti.task_id for ti in tis if ti.state == "running"}
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    wait_for(lambda: _heartbeat_age(dep) > 3.5, timeout=30, what="the killed scheduler to look dead")
    dep.start_scheduler()
    assert dep.wait_run("fanout", run_id, timeout=120) == "success", dep.dump_logs()
    # Every pod, adopted or finished while no scheduler watched, ends archived and labelled kept.
    wait_for(lambda: all(p.metadata.labels.get("tradewind-kept") == "true" for p in
                           dep.core.list_namespaced_pod("default", label_selector="tradewind-worker=true").items),
               timeout=60, what="every pod to be settled", details=dep.dump_logs)
    ran = (dep.dags / "ran.txt").read_text().split()
    assert sorted(ran) == sorted(f"t{i}" for i in range(6)), "each task ran exactly once"
    with dep.sessions() as session:
        tis, _count = task_instances.list_task_instances(session=session, dag_id="fanout", run_id=run_id)
    # The tries running when the scheduler died were adopted: each ended as its first try, not run again.
    assert {(ti.task_id, ti.state, ti.try_number) for ti in tis if ti.task_id in running_at_kill} == {
        (task_id, "success", 1) for task_id in running_at_kill
    }
    for ti in tis:
        pods = dep.core.list_namespaced_pod(
            "default", label_selector=f"tradewind-worker=true,task_id={ti.task_id},try_number={ti.try_number}").items
        assert len(pods) == 1, f"{ti.task_id} try {ti.try_number} has {len(pods)} pods"
