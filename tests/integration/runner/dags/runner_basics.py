"""DAG file for the runner tests: every way a try can end, plus templating, XCom, mapping and branching.

Task code records what it did as lines in files under $TW_TEST_MARKERS, so a test can prove whether user
code ran (and how often).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tradewind import DAG, BaseOperator, BashOperator, PythonOperator, TaskSkipped, Variable, task
from tradewind.providers.smtp.notifications.smtp import SmtpNotifier


def mark(name: str, line: str = "ran") -> None:
    with open(Path(os.environ["TW_TEST_MARKERS"]) / name, "a") as handle:
        handle.write(line + "\n")


def fail() -> None:
    mark("python_fail")
    raise ValueError("boom from python_fail")


def skip() -> None:
    raise TaskSkipped("nothing to do today")


def read_secret() -> str:
    value = Variable.get("db_password")
    print(f"connecting with {value}")
    return "connected"


def read_connections() -> dict[str, Any]:
    """One connection stored in the database (encrypted), one from TRADEWIND_CONN_ENV_API (JSON form)."""
    from tradewind.sdk.hooks import BaseHook

    stored = BaseHook.get_connection("stored_db")
    from_env = BaseHook.get_connection("env_api")
    token = stored.extra_dejson.get("api_token")
    print(f"stored: {stored.get_uri()} password {stored.password} token {token}")
    print(f"env: login {from_env.login} password {from_env.password}")
    return {
        "stored": [stored.conn_type, stored.host, stored.login, stored.port, stored.schema],
        "stored_extra": stored.extra_dejson,
        "stored_password": stored.password,
        "env": [from_env.conn_type, from_env.host, from_env.login, from_env.password],
    }


def environment_probe() -> dict[str, Any]:
    """What task code can see of the process it runs in: its environment, now and as the process started."""
    with open("/proc/self/environ", "rb") as handle:
        initial = handle.read().decode(errors="replace")
    import sys

    return {"environ": dict(os.environ), "initial": initial, "orm_loaded": "sqlalchemy" in sys.modules}


def fail_for_alerts() -> None:
    raise RuntimeError("disk <full> on the warehouse & more")


def on_retry(context: dict[str, Any]) -> None:
    mark("callbacks", f"retry {context['ti'].try_number} {type(context['exception']).__name__}")


def on_failure(context: dict[str, Any]) -> None:
    mark("callbacks", f"failure {context['ti'].try_number} {type(context['exception']).__name__}")


def on_success(context: dict[str, Any]) -> None:
    mark("callbacks", f"success {context['ti'].try_number}")
    raise RuntimeError("a broken callback must not change the outcome")


class Waiter(BaseOperator):
    """Runs until stopped from outside; on_kill leaves a marker."""

    def execute(self, context: Any) -> None:
        mark("waiter", "started")
        print("waiter started", flush=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.05)

    def on_kill(self) -> None:
        mark("waiter", "on_kill")


with DAG(
    "runner_basics",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    params={"who": "world"},
) as dag:
    bash_echo = BashOperator(
        task_id="bash_echo",
        bash_command='echo "hello {{ params.who }} on {{ ds }}"; echo to-stderr >&2; echo last-line',
        env={"API_TOKEN": "very-secret-token", "PLAIN": "{{ ds_nodash }}"},
        on_success_callback=on_success,
    )
    python_fail = PythonOperator(
        task_id="python_fail",
        python_callable=fail,
        retries=1,
        retry_delay=timedelta(seconds=30),
        retry_exponential_backoff=True,
        on_retry_callback=on_retry,
        on_failure_callback=[on_failure],
    )
    python_skip = PythonOperator(task_id="python_skip", python_callable=skip)
    bash_timeout = BashOperator(
        task_id="bash_timeout",
        bash_command="echo sleeping; sleep 31.37; echo woke up",
        execution_timeout=timedelta(seconds=1),
    )
    waiter = Waiter(task_id="waiter")
    secret = PythonOperator(task_id="read_secret", python_callable=read_secret)
    probe = PythonOperator(task_id="environment_probe", python_callable=environment_probe)
    connections = PythonOperator(task_id="read_connections", python_callable=read_connections)
    conn_template = BashOperator(task_id="conn_template", bash_command="echo host={{ conn.stored_db.host }}")
    # Email alerts (email_on_failure / email_on_retry are on by default, as in Airflow) and a mail notifier.
    email_alerts = PythonOperator(
        task_id="email_alerts",
        python_callable=fail_for_alerts,
        retries=1,
        retry_delay=timedelta(seconds=30),
        email=["oncall@example.com", "lead@example.com"],
    )
    notify_by_mail = PythonOperator(
        task_id="notify_by_mail",
        python_callable=fail_for_alerts,
        email="quiet@example.com",
        email_on_failure=False,
        on_failure_callback=SmtpNotifier(
            to="team@example.com",
            from_email="bot@example.com",
            subject="{{ ti.task_id }} failed in {{ run_id }}",
        ),
    )

    @task(multiple_outputs=True)
    def outputs() -> dict[str, int]:
        return {"a": 1, "b": 2}

    @task
    def make_list() -> list[int]:
        return [1, 2, 3]

    @task
    def double(x: int) -> int:
        mark("double", str(x))
        return x * 2

    @task.branch
    def choose() -> str:
        return "branch_a"

    outputs()
    double.expand(x=make_list())
    echo_each = BashOperator.partial(task_id="echo_each").expand(bash_command=["echo first", "echo second"])
    choose() >> [
        BashOperator(task_id="branch_a", bash_command="true"),
        BashOperator(task_id="branch_b", bash_command="true"),
    ]
