"""TaskFlow: @dag and @task functions whose return values flow to the next task through XCom."""

from datetime import datetime

from tradewind import dag, task


@dag(
    dag_id="example_taskflow",
    description="Extract, transform and load with @task functions passing data through XCom",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
)
def example_taskflow():
    @task
    def extract() -> dict[str, float]:
        return {"apples": 3.0, "pears": 2.5, "plums": 4.25}

    @task
    def transform(prices: dict[str, float]) -> dict[str, float]:
        return {"total": sum(prices.values()), "items": float(len(prices))}

    @task
    def load(summary: dict[str, float]) -> None:
        if summary["total"] != 9.75:
            raise ValueError(f"unexpected total {summary['total']}")
        print(f"{summary['items']:.0f} items cost {summary['total']:.2f} in all")

    load(transform(extract()))


example_taskflow()
