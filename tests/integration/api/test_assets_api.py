"""Assets over HTTP: /api/v1/datasets (Airflow 2 names), /api/v2/assets, events created by external
producers, the events a run consumed in the run JSON, and the asset page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.testclient import TestClient

from tests.integration.api.conftest import NOW, PASSWORDS, Site, seed_dag
from tradewind.core.serialized_dag import SerializedDag, SerializedTask
from tradewind.scheduler.asset_runs import create_asset_triggered_runs
from tradewind.sdk.assets import Asset
from tradewind.sdk.schedules import timetable_from_schedule, timetable_to_dict
from tradewind.store import assets, audit
from tradewind.store.engine import transaction
from tradewind.store.serialized_dag_cache import SerializedDagCache

ORDERS = Asset("s3://shop/orders")


def seed_lineage(site: Site) -> None:
    producer = SerializedDag(
        dag_id="load_orders", fileloc="/dags/load.py",
        tasks=[SerializedTask(task_id="load", operator="BashOperator", outlets=[ORDERS.to_condition()])],  # type: ignore[call-arg]
    )  # fmt: skip
    consumer = SerializedDag(
        dag_id="report_orders", fileloc="/dags/report.py",
        timetable=timetable_to_dict(timetable_from_schedule([ORDERS])),
        tasks=[SerializedTask(task_id="report", operator="BashOperator")],
    )  # fmt: skip
    for sdag in (producer, consumer):
        seed_dag(site.factory, sdag)
    with transaction(site.factory) as session:
        assets.sync_dag_references(session=session, sdags=[producer, consumer], now=NOW)


def as_user(site: Site, role: str) -> TestClient:
    client = site.client()
    client.auth = (role, PASSWORDS[role])
    return client


def test_datasets_list_and_get_by_uri_show_producers_and_consumers(site: Site) -> None:
    seed_lineage(site)
    viewer = as_user(site, "viewer")
    listed = viewer.get("/api/v1/datasets").json()
    assert listed["total_entries"] == 1
    [dataset] = listed["datasets"]
    assert dataset["uri"] == "s3://shop/orders"
    assert dataset["consuming_dags"] == [{"dag_id": "report_orders", "created_at": None, "updated_at": None}]
    assert [(t["dag_id"], t["task_id"]) for t in dataset["producing_tasks"]] == [("load_orders", "load")]
    got = viewer.get(f"/api/v1/datasets/{quote('s3://shop/orders', safe='')}")
    assert got.status_code == 200 and got.json()["id"] == dataset["id"]
    assert viewer.get(f"/api/v1/datasets/{quote('s3://shop/none', safe='')}").status_code == 404
    assert viewer.get("/api/v1/datasets?uri_pattern=nothing").json()["total_entries"] == 0


def test_an_external_event_is_audited_queued_and_consumed_by_a_run_visible_in_both_apis(site: Site) -> None:
    seed_lineage(site)
    assert (
        as_user(site, "viewer")
        .post("/api/v1/datasets/events", json={"dataset_uri": "s3://shop/orders"})
        .status_code
        == 403
    )
    op = as_user(site, "op")
    created = op.post("/api/v1/datasets/events", json={"dataset_uri": "s3://shop/orders", "extra": {"n": 1}})
    assert created.status_code == 200, created.text
    body = created.json()
    assert (body["dataset_uri"], body["extra"], body["source_dag_id"]) == ("s3://shop/orders", {"n": 1}, None)
    assert op.post("/api/v1/datasets/events", json={"dataset_uri": "s3://shop/unknown"}).status_code == 404

    asset_id = body["dataset_id"]
    v2 = op.post("/api/v2/assets/events", json={"asset_id": asset_id, "extra": {"n": 2}})
    assert v2.status_code == 201 and v2.json()["name"] == "s3://shop/orders"
    with site.factory() as session:
        entries, _ = audit.list_audit(session=session, event="asset_event_create")
        assert len(entries) == 2

    with transaction(site.factory) as session:
        assert create_asset_triggered_runs(session=session, cache=SerializedDagCache(), now=NOW) == 1
    runs = op.get("/api/v1/dags/report_orders/dagRuns").json()["dag_runs"]
    [run] = runs
    assert run["run_type"] == "dataset_triggered"  # Airflow 2's name in /api/v1
    assert [(e["dataset_uri"], e["extra"]) for e in run["consumed_asset_events"]] == [
        ("s3://shop/orders", {"n": 1}), ("s3://shop/orders", {"n": 2}),
    ]  # fmt: skip
    one = op.get(f"/api/v1/dags/report_orders/dagRuns/{quote(run['dag_run_id'], safe='')}").json()
    assert len(one["consumed_asset_events"]) == 2
    upstream = op.get(
        f"/api/v1/dags/report_orders/dagRuns/{quote(run['dag_run_id'], safe='')}/upstreamDatasetEvents"
    )
    assert upstream.json()["total_entries"] == 2
    v2_run = op.get(f"/api/v2/dags/report_orders/dagRuns/{quote(run['dag_run_id'], safe='')}").json()
    assert [e["asset_id"] for e in v2_run["consumed_asset_events"]] == [asset_id, asset_id]
    assert (v2_run["run_type"], v2_run["triggered_by"]) == ("asset_triggered", "asset")

    events = op.get("/api/v1/datasets/events?order_by=-timestamp").json()
    assert events["total_entries"] == 2
    assert {(r["dag_id"], r["run_id"]) for e in events["dataset_events"] for r in e["created_dagruns"]} == {
        ("report_orders", run["dag_run_id"])
    }
    assert op.get("/api/v2/assets/events").json()["total_entries"] == 2
    runs_page = op.get("/dags/report_orders/runs", headers={"accept": "text/html"}).text
    assert runs_page.count('data-testid="consumed-asset-event"') == 2
    assert op.get(f"/api/v2/assets/{asset_id}").json()["scheduled_dags"] == [{"dag_id": "report_orders"}]


def test_the_asset_page_shows_lineage_and_latest_events(site: Site) -> None:
    seed_lineage(site)
    op = as_user(site, "op")
    op.post("/api/v1/datasets/events", json={"dataset_uri": "s3://shop/orders", "extra": {"batch": "b-17"}})
    client, _ = site.login("viewer")
    page = client.get("/assets", headers={"accept": "text/html"})
    assert page.status_code == 200
    text: Any = page.text
    assert "s3://shop/orders" in text and "load_orders" in text and "report_orders" in text
    assert "b-17" in text and "from the API" in text
