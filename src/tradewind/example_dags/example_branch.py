"""Branching: BranchPythonOperator and @task.branch run only the path they choose; the rest is skipped."""

from datetime import datetime

from tradewind import DAG, BranchPythonOperator, EmptyOperator, task


def choose_by_weekday(**context: object) -> str:
    logical_date = context["logical_date"]
    return "weekend" if logical_date.weekday() >= 5 else "weekday"  # type: ignore[attr-defined]


with DAG(
    dag_id="example_branch",
    description="Choose a path at run time with BranchPythonOperator and @task.branch",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
):
    branch = BranchPythonOperator(task_id="choose_by_weekday", python_callable=choose_by_weekday)
    weekday = EmptyOperator(task_id="weekday")
    weekend = EmptyOperator(task_id="weekend")
    # The branch not taken is skipped: this join runs when no upstream failed and one succeeded.
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    branch >> [weekday, weekend] >> join

    @task.branch
    def choose_size() -> str:
        return "small"

    small = EmptyOperator(task_id="small")
    large = EmptyOperator(task_id="large")
    done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")
    join >> choose_size() >> [small, large] >> done
