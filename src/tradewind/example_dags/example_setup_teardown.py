"""Setup and teardown tasks, edge labels and display names: a scratch directory is created, used and always
removed, whatever happens to the work in between; labels name the edges of the graph view."""

from datetime import datetime

from tradewind import DAG, BashOperator, EmptyOperator, Label, get_current_context, setup, task, teardown
from tradewind.sdk.operators.weekday_branch import BranchDayOfWeekOperator
from tradewind.sdk.weekday import WeekDay

with DAG(
    dag_id="example_setup_teardown",
    dag_display_name="Example: setup and teardown",
    description="A resource made by a setup task and removed by its teardown, even when the work fails",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
):

    @setup
    def make_scratch() -> str:
        path = f"/tmp/tradewind-example-{get_current_context()['run_id'].replace(':', '-')}"
        print(f"creating {path}")
        return path

    @teardown
    def remove_scratch(path: str) -> None:
        print(f"removing {path}")

    @task(task_display_name="Write the report")
    def write_report(path: str) -> str:
        return f"{path}/report.txt"

    scratch = make_scratch()
    with scratch >> remove_scratch(scratch):
        report = write_report(scratch)
        count = BashOperator(
            task_id="count_lines",
            bash_command="echo 3",
            output_processor=int,  # the pushed value is the number, not the text
        )
        report >> Label("report written") >> count

    is_weekend = BranchDayOfWeekOperator(
        task_id="is_weekend",
        week_day={WeekDay.SATURDAY, WeekDay.SUNDAY},
        use_task_logical_date=True,
        follow_task_ids_if_true="weekend",
        follow_task_ids_if_false="weekday",
    )
    weekend = EmptyOperator(task_id="weekend")
    weekday = EmptyOperator(task_id="weekday")
    count >> is_weekend
    is_weekend >> Label("Saturday or Sunday") >> weekend
    is_weekend >> Label("Monday to Friday") >> weekday
