"""Dynamic task mapping: one task instance per element of a list that an upstream task returns."""

from datetime import datetime

from tradewind import BashOperator, dag, task


@dag(
    dag_id="example_dynamic_mapping",
    description="Fan out over an upstream task's output with .expand()",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
)
def example_dynamic_mapping():
    @task
    def list_numbers() -> list[int]:
        return [1, 2, 3]

    @task
    def square(number: int, power: int) -> int:
        return number**power

    @task
    def total(squares: list[int]) -> int:
        result = sum(squares)
        if result != 14:
            raise ValueError(f"expected 1 + 4 + 9 = 14, got {result}")
        return result

    squares = square.partial(power=2).expand(number=list_numbers())
    total(squares)

    # Classic operators map too: one Bash task per command.
    BashOperator.partial(task_id="echo").expand(bash_command=["echo one", "echo two"])


example_dynamic_mapping()
