"""PythonOperator: call Python functions with arguments and the task context, and read a Variable.

Set the variable with `tradewind variables set example_audience team` (or the environment variable
TRADEWIND_VAR_EXAMPLE_AUDIENCE); without it, the default is used.
"""

from datetime import datetime

from tradewind import DAG, PythonOperator, Variable


def greet(name: str, *, punctuation: str = ".") -> str:
    message = f"Hello, {name}{punctuation}"
    print(message)
    return message


def show_context(**context: object) -> None:
    # Context values (ds, run_id, ti, params ...) arrive as keyword arguments.
    print(f"logical date {context['ds']}, run {context['run_id']}")


def read_variable() -> str:
    audience = Variable.get("example_audience", default_var="everyone")
    print(f"the audience is {audience}")
    return audience


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
    variable = PythonOperator(task_id="read_variable", python_callable=read_variable)
    hello >> context >> variable
