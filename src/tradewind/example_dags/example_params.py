"""Params: typed run parameters with defaults, validated against their schema when a run is triggered.

Trigger it with conf, for instance `tradewind dags trigger example_params --conf '{"count": 5}'`;
`{"count": 0}` is refused because `count` must be between 1 and 10.
"""

from datetime import datetime

from tradewind import DAG, Param, PythonOperator


def report(**context: object) -> None:
    params = context["params"]
    count = params["count"]  # type: ignore[index]
    name = params["name"]  # type: ignore[index]
    if not 1 <= count <= 10:
        raise ValueError(f"count {count} escaped validation")
    for _ in range(count):
        print(f"hello {name}")


with DAG(
    dag_id="example_params",
    description="Run parameters with defaults and validation",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    params={
        "count": Param(2, type="integer", minimum=1, maximum=10, description="How many greetings"),
        "name": Param("world", type="string", minLength=1, description="Who to greet"),
        "mode": Param("polite", enum=["polite", "casual"]),
    },
):
    PythonOperator(task_id="report", python_callable=report)
