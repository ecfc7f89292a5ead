"""Retry policies and the task state store through the real scheduler, LocalExecutor and runner processes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for
from tradewind.store import task_instances, xcom
from tradewind.store.tables import TaskInstanceModel
from tradewind.store.task_state import TaskScope, get_task_state

POLICIES = """
from datetime import datetime, timedelta
from tradewind import DAG, task
from tradewind.sdk.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule

POLICY = ExceptionRetryPolicy(rules=[
    RetryRule(exception=PermissionError, action=RetryAction.FAIL, reason="no access: retrying cannot help"),
    RetryRule(exception="builtins.TimeoutError", retry_delay=timedelta(hours=1), reason="backing off"),
])

with DAG("retry_policies", schedule=None, start_date=datetime(2026, 1, 1)):
    @task(retries=3, retry_delay=0, retry_policy=POLICY)
    def denied():
        raise PermissionError("denied")

    @task(retries=2, retry_delay=0, retry_policy=POLICY)
    def slow():
        raise TimeoutError("the API is slow")

    @task(retries=1, retry_delay=0, retry_policy=POLICY)
    def unmatched():
        raise ValueError("plain failure")

    denied(), slow(), unmatched()
"""

TASK_STATE = """
import asyncio
from datetime import datetime
from tradewind import DAG, task

with DAG("task_state", schedule=None, start_date=datetime(2026, 1, 1)):
    @task(retries=1, retry_delay=0)
    def resume(task_state_store=None, ti=None):
        job = task_state_store.get("job")
        if job is None:
            task_state_store.set("job", f"submitted by try {ti.try_number}")
            raise RuntimeError("lost the worker after submitting")
        return job

    @task(retries=1, retry_delay=0)
    def per_index(x, task_state_store=None, ti=None):
        if task_state_store.get("x") is None:
            task_state_store.set("x", x * 10)
            raise RuntimeError("first try fails")
        return [task_state_store.get("x"), ti.try_number]

    @task(retries=1, retry_delay=0)
    async def checkpoint(task_state_store=None, ti=None):
        done = await task_state_store.aget("done", default=[])
        for page in range(len(done) + 1, 5):
            await asyncio.sleep(0)
            done.append(page)
            await task_state_store.aset("done", done)
            if ti.try_number == 1 and page == 2:
                raise RuntimeError("crashed after page 2")
        return done

    resume()
    per_index.expand(x=[1, 2])
    checkpoint()
"""


def _ti(deployment: Deployment, dag_id: str, run_id: str, task_id: str) -> TaskInstanceModel:
    with deployment.sessions() as session:
        tis, _ = task_instances.list_task_instances(
            session=session, dag_id=dag_id, run_id=run_id, task_ids=[task_id]
        )
        return tis[0]


def _xcom(deployment: Deployment, run_id: str, task_id: str) -> Any:
    with deployment.sessions() as session:
        return xcom.get_xcom(
            session=session, dag_id="task_state", run_id=run_id, task_id=task_id, map_index=None
        )


def test_a_retry_policy_fails_at_once_retries_after_its_delay_or_falls_through(
    deployment: Deployment,
) -> None:
    deployment.write_dag("retry_policies", POLICIES)
    deployment.parse()
    deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "retry_policies").stdout.strip()

    def state(task_id: str) -> str | None:
        return _ti(deployment, "retry_policies", run_id, task_id).state

    for task_id, expected in (("denied", "failed"), ("slow", "up_for_retry"), ("unmatched", "failed")):
        wait_for(
            lambda t=task_id, e=expected: state(t) == e,
            timeout=90,
            what=f"{task_id} {expected}",
            details=deployment.dump_logs,
        )

    denied = _ti(deployment, "retry_policies", run_id, "denied")
    assert (denied.try_number, denied.next_retry_at) == (1, None)  # three retries left, none used
    assert denied.state_reason == "no access: retrying cannot help"

    slow = _ti(deployment, "retry_policies", run_id, "slow")
    assert slow.try_number == 1
    assert slow.state_reason == "backing off"
    assert slow.end_date is not None and slow.next_retry_at == slow.end_date + timedelta(hours=1)

    unmatched = _ti(deployment, "retry_policies", run_id, "unmatched")  # the task's own retries decided
    assert (unmatched.try_number, unmatched.state_reason) == (2, "ValueError: plain failure")

    log = deployment.tw("tasks", "logs", "retry_policies", "slow", run_id).stdout
    assert "Retry policy decision: retry, delay 1:00:00 (backing off)" in log
    log = deployment.tw("tasks", "logs", "retry_policies", "denied", run_id).stdout
    assert "Retry policy decision: fail (no access: retrying cannot help)" in log


def test_task_state_survives_retries_per_map_index_and_from_async_tasks(deployment: Deployment) -> None:
    deployment.write_dag("task_state", TASK_STATE)
    deployment.parse()
    deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "task_state").stdout.strip()
    assert deployment.wait_run("task_state", run_id, timeout=120) == "success", deployment.dump_logs()

    assert _xcom(deployment, run_id, "resume") == "submitted by try 1"
    assert _xcom(deployment, run_id, "per_index") == [[10, 2], [20, 2]]
    assert _xcom(deployment, run_id, "checkpoint") == [1, 2, 3, 4]
    with deployment.sessions() as session:
        stored = {
            (task_id, index): {
                key: get_task_state(session=session, scope=TaskScope("task_state", run_id, task_id, index), key=key)
            }
            for task_id, index, key in (
                ("resume", -1, "job"), ("per_index", 0, "x"), ("per_index", 1, "x"), ("checkpoint", -1, "done")
            )
        }  # fmt: skip
    assert stored == {
        ("resume", -1): {"job": "submitted by try 1"},
        ("per_index", 0): {"x": 10},
        ("per_index", 1): {"x": 20},
        ("checkpoint", -1): {"done": [1, 2, 3, 4]},
    }


AIRFLOW_NAMES = """
from datetime import datetime, timedelta

from airflow.sdk import DAG, ExceptionRetryPolicy, RetryAction, RetryRule, task
from airflow.sdk.execution_time.context import NEVER_EXPIRE

POLICY = ExceptionRetryPolicy(rules=[
    RetryRule(exception="builtins.ConnectionError", retry_delay=timedelta(seconds=0), reason="flaky link"),
    RetryRule(exception=KeyError, action=RetryAction.FAIL),
])

with DAG(dag_id="airflow_state", schedule=None, start_date=datetime(2026, 1, 1)):
    @task(retries=1, retry_delay=timedelta(hours=1), retry_policy=POLICY)
    def flaky(task_state_store=None, ti=None):
        if task_state_store.get("attempts") is None:
            task_state_store.set("attempts", 1, retention=NEVER_EXPIRE)
            raise ConnectionError("dropped")
        return task_state_store.get("attempts") + ti.try_number

    flaky()
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_airflow_names_for_policies_and_task_state_under_dags_test(deployment: Deployment) -> None:
    deployment.write_dag("airflow_state", AIRFLOW_NAMES)
    out = deployment.tw("dags", "test", "airflow_state", check=False, timeout=120)
    # The rule's zero delay, not the task's hour, let try 2 run at once; it read what try 1 stored.
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Retry policy decision: retry, delay 0:00:00 (flaky link)" in out.stdout
    assert "Returned value was: 3" in out.stdout
