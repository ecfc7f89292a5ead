"""Retries: a task that fails on its first try and succeeds on the retry, one second later."""

from datetime import datetime, timedelta

from tradewind import DAG, BashOperator, PythonOperator


def flaky(**context: object) -> str:
    try_number = context["ti"].try_number  # type: ignore[attr-defined]
    if try_number == 1:
        raise RuntimeError("failing the first try on purpose; the retry will succeed")
    return f"succeeded on try {try_number}"


with DAG(
    dag_id="example_retries",
    description="A task that fails once and succeeds on retry",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=1)},
):
    python_flaky = PythonOperator(task_id="flaky_python", python_callable=flaky)
    # The same idea in shell: the template renders the try number before the command runs.
    bash_flaky = BashOperator(
        task_id="flaky_bash",
        bash_command='echo "try {{ ti.try_number }}"; test {{ ti.try_number }} -gt 1',
        retry_exponential_backoff=True,
        max_retry_delay=timedelta(seconds=5),
    )
    python_flaky >> bash_flaky
