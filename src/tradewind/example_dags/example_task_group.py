"""Task groups: tasks grouped (and nested) under one name; their ids are prefixed by the group id."""

from datetime import datetime

from tradewind import DAG, EmptyOperator, TaskGroup, chain, task

with DAG(
    dag_id="example_task_group",
    description="Group tasks with TaskGroup; ids become group.task",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
):
    start = EmptyOperator(task_id="start")

    with TaskGroup(group_id="extract", tooltip="Fetch the inputs") as extract:
        EmptyOperator(task_id="orders")  # id: extract.orders
        EmptyOperator(task_id="customers")  # id: extract.customers

    with TaskGroup(group_id="process") as process:

        @task
        def clean() -> str:
            return "clean"

        with TaskGroup(group_id="checks"):  # ids: process.checks.rows, process.checks.schema
            chain(EmptyOperator(task_id="rows"), EmptyOperator(task_id="schema"))

        clean()

    end = EmptyOperator(task_id="end")
    start >> extract >> process >> end
