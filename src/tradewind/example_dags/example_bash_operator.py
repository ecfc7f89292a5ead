"""BashOperator: shell commands, environment variables, and a fan-out joined again."""

from datetime import datetime

from tradewind import DAG, BashOperator, EmptyOperator

with DAG(
    dag_id="example_bash_operator",
    description="Run shell commands with BashOperator",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    doc_md="Three shell commands run side by side after `start`, then `report` runs once all succeed.",
):
    start = EmptyOperator(task_id="start")
    commands = [
        BashOperator(task_id="print_date", bash_command="date -u"),
        BashOperator(task_id="count_to_three", bash_command="for i in 1 2 3; do echo $i; done"),
        BashOperator(
            task_id="use_env",
            bash_command='echo "greeting is $GREETING"',
            env={"GREETING": "hello from Tradewind"},
        ),
    ]
    report = BashOperator(task_id="report", bash_command="echo all commands finished for run {{ run_id }}")
    start >> commands >> report
