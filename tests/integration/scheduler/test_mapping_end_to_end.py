"""Dynamic mapping (expand_kwargs, XComArg.map/zip/concat, mapped task groups) and Airflow 2 context names
through the real scheduler, LocalExecutor and runner processes, and through `tradewind dags test`."""

from __future__ import annotations

from typing import Any

from tests.conftest import ON_SQLITE_ONLY
from tests.integration.scheduler.conftest import Deployment
from tradewind.store import task_instances, xcom

MAPPING = """
from datetime import datetime
from tradewind import DAG, BashOperator, TaskSkipped, task, task_group

def skip_two(n):
    if n == 2:
        raise TaskSkipped("two is skipped")
    return n * 10

with DAG("mapping_features", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
    @task
    def numbers():
        return [1, 2, 3]

    @task
    def letters():
        return ["a", "b"]

    @task
    def configs():
        return [{"a": 1, "b": 10}, {"a": 2, "b": 20}]

    @task
    def add(a, b):
        return a + b

    @task
    def show(x):
        return x

    nums, chars = numbers(), letters()
    add.expand_kwargs(configs())
    show.override(task_id="mapped").expand(x=nums.map(skip_two))
    show.override(task_id="zipped").expand(x=nums.zip(chars, fillvalue="-"))
    show.override(task_id="chained").expand(x=nums.concat(chars))
    BashOperator.partial(task_id="echo").expand_kwargs(
        [{"bash_command": "echo one"}, {"bash_command": "echo $WORD", "env": {"WORD": "two"}}]
    )

    @task
    def check(x, offset):
        if x == 2:
            raise ValueError("two fails")
        return x * 100 + offset

    @task
    def after(y):
        return y + 1

    @task_group
    def per_number(x, offset):
        return after(check(x, offset))

    @task(trigger_rule="all_done")
    def collect(values):
        return sorted(values)

    collect(per_number.partial(offset=5).expand(x=nums))
"""


def _states(deployment: Deployment, dag_id: str, run_id: str) -> dict[tuple[str, int], str | None]:
    with deployment.sessions() as session:
        tis, _ = task_instances.list_task_instances(session=session, dag_id=dag_id, run_id=run_id)
        return {(ti.task_id, ti.map_index): ti.state for ti in tis}


def _xcom(deployment: Deployment, dag_id: str, run_id: str, task_id: str) -> Any:
    with deployment.sessions() as session:
        return xcom.get_xcom(session=session, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=None)


def test_mapping_features_run_through_the_scheduler(deployment: Deployment) -> None:
    deployment.write_dag("mapping_features", MAPPING)
    deployment.parse()
    deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "mapping_features").stdout.strip()
    assert deployment.wait_run("mapping_features", run_id, timeout=120) == "success", deployment.dump_logs()
    states = _states(deployment, "mapping_features", run_id)

    def per_index(task_id: str) -> list[str | None]:
        return [state for (tid, _), state in sorted(states.items()) if tid == task_id]

    assert per_index("add") == ["success", "success"]
    assert _xcom(deployment, "mapping_features", run_id, "add") == [11, 22]
    assert per_index("mapped") == ["success", "skipped", "success"]
    assert _xcom(deployment, "mapping_features", run_id, "mapped") == [10, 30]
    assert _xcom(deployment, "mapping_features", run_id, "zipped") == [[1, "a"], [2, "b"], [3, "-"]]
    assert _xcom(deployment, "mapping_features", run_id, "chained") == [1, 2, 3, "a", "b"]
    assert _xcom(deployment, "mapping_features", run_id, "echo") == ["one", "two"]
    # Each instance of the group runs on its own: index 1 fails, and only its downstream in the group.
    assert per_index("per_number.check") == ["success", "failed", "success"]
    assert per_index("per_number.after") == ["success", "upstream_failed", "success"]
    assert _xcom(deployment, "mapping_features", run_id, "per_number.after") == [106, 306]
    assert per_index("collect") == ["success"]
    assert _xcom(deployment, "mapping_features", run_id, "collect") == [106, 306]
    log = deployment.tw("tasks", "logs", "mapping_features", "mapped", run_id, "--map-index", "1").stdout
    assert "two is skipped" in log


@ON_SQLITE_ONLY
def test_dags_test_runs_a_mapped_task_group(deployment: Deployment) -> None:
    deployment.write_dag("mapping_features", MAPPING)
    out = deployment.tw("dags", "test", "mapping_features", check=False, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [[cell.strip() for cell in line.split("│") if cell.strip()] for line in out.stdout.splitlines()]
    group_rows = sorted((r[1], r[2]) for r in rows if len(r) >= 3 and r[0] == "per_number.after")
    assert group_rows == [("0", "success"), ("1", "upstream_failed"), ("2", "success")]
    assert out.stdout.rstrip().endswith("success")


LEGACY = """
from datetime import datetime
from tradewind import DAG, BashOperator, PythonOperator
from tradewind.sdk.timetables.interval import CronDataIntervalTimetable

def report(execution_date, **context):
    print("prev_ds=" + str(context["prev_ds"]) + " next=" + str(context["next_execution_date"]))

with DAG("legacy_names", schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
         start_date=datetime(2026, 1, 1), catchup=False):
    BashOperator(task_id="templated", bash_command="echo run {{ execution_date }} tomorrow {{ tomorrow_ds }}")
    PythonOperator(task_id="python", python_callable=report)
"""


@ON_SQLITE_ONLY
def test_airflow_2_names_render_with_airflow_values_and_a_note(deployment: Deployment) -> None:
    deployment.write_dag("legacy_names", LEGACY)
    deployment.parse()
    deployment.tw("dags", "pause", "legacy_names")  # only the backfilled run below
    deployment.start_scheduler()
    window = ["-s", "2026-01-02", "-e", "2026-01-02"]
    out = deployment.tw("dags", "backfill", "legacy_names", *window, "--wait", "--timeout", "90")
    run_id = out.stdout.split()[0]
    assert deployment.run_state("legacy_names", run_id) == "success", deployment.dump_logs()
    templated = deployment.tw("tasks", "logs", "legacy_names", "templated", run_id).stdout
    assert "run 2026-01-02 00:00:00+00:00 tomorrow 2026-01-03" in templated
    assert templated.count("The context name 'execution_date' is deprecated") == 1
    assert templated.count("The context name 'tomorrow_ds' is deprecated") == 1
    python = deployment.tw("tasks", "logs", "legacy_names", "python", run_id).stdout
    assert "prev_ds=2026-01-01 next=2026-01-03 00:00:00+00:00" in python
    assert "'prev_ds' is deprecated" in python and "'next_execution_date' is deprecated" in python
    assert "'yesterday_ds' is deprecated" not in python  # passed to **context but never used
