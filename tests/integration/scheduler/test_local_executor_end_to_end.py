"""The real scheduler with the LocalExecutor: runs reach their final states, retries and timeouts work,
SIGTERM stops it cleanly, and a killed scheduler's work is finished by the next one."""

from __future__ import annotations

import signal

from tests.conftest import ON_SQLITE_ONLY
from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for
from tradewind.core.keys import TaskInstanceKey
from tradewind.store import task_instances

PIPELINE = """
from datetime import datetime, timedelta
from tradewind import DAG, BashOperator, PythonOperator, task

def flaky(ti):
    if ti.try_number < 2:
        raise RuntimeError("first try fails on purpose")
    return "recovered"

with DAG("pipeline", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
    hello = BashOperator(task_id="hello", bash_command="echo hello {{ ds }} from {{ params.who }}",
                         params={"who": "tests"})
    retry = PythonOperator(task_id="retry", python_callable=flaky, retries=2, retry_delay=timedelta(seconds=0))

    @task
    def numbers():
        return [1, 2, 3]

    @task
    def double(x):
        return x * 2

    @task
    def total(values):
        return sum(values)

    hello >> retry >> total(double.expand(x=numbers()))
"""


def test_a_pipeline_runs_green_with_retries_mapping_and_xcom(deployment: Deployment) -> None:
    deployment.write_dag("pipeline", PIPELINE)
    deployment.parse()
    deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "pipeline").stdout.strip()
    assert deployment.wait_run("pipeline", run_id) == "success", deployment.dump_logs()
    with deployment.sessions() as session:
        retry = task_instances.get_task_instance(session=session, key=TaskInstanceKey("pipeline", run_id, "retry"))
        assert retry.try_number == 2
    states = deployment.tw("tasks", "states-for-dag-run", "pipeline", run_id, "-o", "json").stdout
    assert '"double"' in states and states.count('"success"') >= 6
    log = deployment.tw("tasks", "logs", "pipeline", "hello", run_id).stdout
    assert "hello" in log and "from tests" in log


@ON_SQLITE_ONLY
def test_trigger_wait_exit_codes(deployment: Deployment) -> None:
    deployment.write_dag("ok_and_bad", """
        from datetime import datetime
        from tradewind import DAG, BashOperator
        with DAG("ok", schedule=None, start_date=datetime(2026, 1, 1)):
            BashOperator(task_id="t", bash_command="true")
        with DAG("bad", schedule=None, start_date=datetime(2026, 1, 1)):
            BashOperator(task_id="t", bash_command="exit 3")
    """)
    deployment.parse()
    deployment.start_scheduler()
    ok = deployment.tw("dags", "trigger", "ok", "--wait", "--timeout", "60", check=False)
    bad = deployment.tw("dags", "trigger", "bad", "--wait", "--timeout", "60", check=False)
    assert ok.returncode == 0, ok.stderr
    assert bad.returncode == 1
    assert bad.stdout.strip().startswith("manual__")


@ON_SQLITE_ONLY
def test_execution_timeout_kills_the_task(deployment: Deployment) -> None:
    deployment.write_dag("slow", """
        from datetime import datetime, timedelta
        from tradewind import DAG, BashOperator
        with DAG("slow", schedule=None, start_date=datetime(2026, 1, 1)):
            BashOperator(task_id="sleepy", bash_command="sleep 60", execution_timeout=timedelta(seconds=1))
    """)
    deployment.parse()
    deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "slow").stdout.strip()
    assert deployment.wait_run("slow", run_id, timeout=40) == "failed"


@ON_SQLITE_ONLY
def test_sigterm_stops_the_scheduler_cleanly(deployment: Deployment) -> None:
    proc = deployment.start_scheduler()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_a_killed_scheduler_is_replaced_and_every_task_ends_right(deployment: Deployment) -> None:
    deployment.env["TRADEWIND__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD"] = "3"
    deployment.write_dag("many", """
        from datetime import datetime
        from tradewind import DAG, BashOperator
        with DAG("many", schedule=None, start_date=datetime(2026, 1, 1)):
            for i in range(12):
                BashOperator(task_id=f"t{i}", bash_command="sleep 0.3; echo $TW_TASK >> ran.txt",
                             env={"TW_TASK": f"t{i}"}, append_env=True, cwd=str(__import__('pathlib').Path(__file__).parent))
    """)
    deployment.parse()
    first = deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "many").stdout.strip()

    def some_ran() -> bool:
        path = deployment.dags / "ran.txt"
        return path.exists() and len(path.read_text().split()) >= 2

    wait_for(some_ran, timeout=30, what="a few tasks to finish")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    deployment.start_scheduler()
    assert deployment.wait_run("many", run_id, timeout=90) == "success", deployment.dump_logs()
    ran = (deployment.dags / "ran.txt").read_text().split()
    assert sorted(ran) == sorted(f"t{i}" for i in range(12)), "each task ran exactly once"


def test_a_task_process_killed_mid_run_is_retried_with_the_reason_recorded(deployment: Deployment) -> None:
    deployment.write_dag("killed", """
        from datetime import datetime, timedelta
        from tradewind import DAG, BashOperator
        with DAG("killed", schedule=None, start_date=datetime(2026, 1, 1)):
            BashOperator(
                task_id="victim",
                bash_command="if [ {{ ti.try_number }} -eq 1 ]; then kill -9 $PPID; sleep 5; fi; echo survived",
                retries=1,
                retry_delay=timedelta(seconds=0),
            )
    """)
    deployment.parse()
    deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "killed").stdout.strip()
    assert deployment.wait_run("killed", run_id) == "success", deployment.dump_logs()
    with deployment.sessions() as session:
        from tradewind.store import task_history

        tries = task_history.list_tries(session=session, key=TaskInstanceKey("killed", run_id, "victim"))
    first = next(t for t in tries if t.try_number == 1)
    assert first.state == "up_for_retry"
    assert "SIGKILL" in (first.state_reason or "")
    assert "survived" in deployment.tw("tasks", "logs", "killed", "victim", run_id, "--try-number", "2").stdout


@ON_SQLITE_ONLY
def test_jobs_check_reports_scheduler_liveness(deployment: Deployment) -> None:
    assert deployment.tw("jobs", "check", "--job-type", "scheduler", check=False).returncode == 1
    proc = deployment.start_scheduler()
    alive = deployment.tw("jobs", "check", "--job-type", "scheduler", "--local", check=False)
    assert alive.returncode == 0, alive.stdout
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert deployment.tw("jobs", "check", "--job-type", "scheduler", check=False).returncode == 1
