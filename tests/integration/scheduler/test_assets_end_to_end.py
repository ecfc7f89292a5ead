"""Assets with the real scheduler and the LocalExecutor: a producer's success, with extra set by task code,
starts the DAG scheduled on the asset, whose task reads the event's extra through inlet_events and
triggering_asset_events."""

from __future__ import annotations

from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for
from tradewind.core.states import DagRunType
from tradewind.store import asset_queue, dag_runs, xcom

DAGS = """
from datetime import datetime
from tradewind import DAG, task
from tradewind.sdk.assets import Asset

orders = Asset("s3://warehouse/orders", extra={"owner": "sales"})

with DAG("produce_orders", schedule=None, start_date=datetime(2026, 1, 1)):

    @task(outlets=[orders])
    def load(*, outlet_events=None):
        outlet_events[orders].extra = {"rows": 7}

    load()

with DAG("report_orders", schedule=[orders], start_date=datetime(2026, 1, 1)):

    @task(inlets=[orders])
    def report(*, inlet_events=None, triggering_asset_events=None):
        [triggered_by] = triggering_asset_events[orders]
        return [inlet_events[orders][-1].extra["rows"], triggered_by.extra["rows"], triggered_by.source_dag_id]

    report()
"""


def test_a_producer_success_starts_the_consumer_which_reads_the_event(deployment: Deployment) -> None:
    deployment.write_dag("orders", DAGS)
    deployment.parse()
    deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "produce_orders").stdout.strip()
    assert deployment.wait_run("produce_orders", run_id) == "success", deployment.dump_logs()

    def consumer_runs() -> list[tuple[int, str, str]]:
        with deployment.sessions() as session:
            runs, _ = dag_runs.list_dag_runs(
                session=session, dag_id="report_orders", run_type=DagRunType.ASSET_TRIGGERED
            )
            return [(r.id, r.run_id, r.state) for r in runs]

    wait_for(lambda: bool(consumer_runs()), timeout=60, what="the asset-triggered run",
               details=deployment.dump_logs)  # fmt: skip
    [(run_pk, consumer_run, _)] = consumer_runs()
    assert deployment.wait_run("report_orders", consumer_run) == "success", deployment.dump_logs()
    with deployment.sessions() as session:
        [event] = asset_queue.consumed_events(session=session, dag_run_ids=[run_pk])[run_pk]
        value = xcom.get_xcom(
            session=session, dag_id="report_orders", run_id=consumer_run, task_id="report",
            key="return_value", map_index=None, default=None,
        )  # fmt: skip
    assert (event["uri"], event["extra"], event["source_run_id"]) == (
        "s3://warehouse/orders",
        {"rows": 7},
        run_id,
    )
    assert value == [7, 7, "produce_orders"]
