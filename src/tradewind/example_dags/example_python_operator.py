"""PythonOperator: call a Python function with positional and keyword arguments and the task context."""

from datetime import datetime

from tradewind import DAG, PythonOperator


def greet(name: str, *, punctuation: str = ".") -> str:
    message = f"Hello, {name}{punctuation}"
    print(message)
    return message


def show_context(**context: object) -> None:
    # Context values (ds, run_id, ti, params ...) arrive as keyword arguments.
    print(f"logical date {context['ds']}, run {context['run_id']}")


with DAG(
    dag_id="example_python_operator",
    description="Call Python functions with PythonOperator",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
):
    hello = PythonOperator(
        task_id="greet",
        python_callable=greet,
        op_args=["Tradewind"],
        op_kwargs={"punctuation": "!"},
    )
    context = PythonOperator(task_id="show_context", python_callable=show_context)
    hello >> context
