"""Display names and edge labels as authored reach the web pages and the REST API: the DAG list, the DAG
page title, graph nodes and edges, grid rows, the task page and the DAG JSON."""

from __future__ import annotations

from datetime import datetime

from tests.integration.api.conftest import Site, seed_dag
from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.sdk.dag import DAG
from tradewind.sdk.edges import Label
from tradewind.sdk.operators.empty import EmptyOperator

HTML = {"accept": "text/html"}
DAG_ID = "labelled"


def labelled_dag() -> SerializedDag:
    with DAG(DAG_ID, start_date=datetime(2026, 1, 1), dag_display_name="Sales ✨ report") as dag:
        check = EmptyOperator(task_id="check", task_display_name="Check the inputs")
        good = EmptyOperator(task_id="good")
        bad = EmptyOperator(task_id="bad")
        check >> Label("inputs ok") >> good
        check >> Label("inputs missing") >> bad
    return serialize_dag(dag, fileloc=f"/dags/{DAG_ID}.py", relative_fileloc=f"{DAG_ID}.py")


def test_display_names_and_labels_are_shown_and_served(site: Site) -> None:
    seed_dag(site.factory, labelled_dag())
    client, _ = site.login("viewer")

    listing = client.get("/dags", headers=HTML).text
    assert "Sales ✨ report" in listing
    assert "Sales ✨ report" in client.get("/dags?q=sales", headers=HTML).text

    page = client.get(f"/dags/{DAG_ID}", headers=HTML).text
    assert "<title>Sales ✨ report" in page and 'data-testid="dag-title">Sales ✨ report</a>' in page

    graph = client.get(f"/dags/{DAG_ID}/graph-data").json()
    labels = {n["id"]: n["label"] for n in graph["nodes"]}
    assert labels == {"check": "Check the inputs", "good": "good", "bad": "bad"}
    edges = {(e["source"], e["target"]): e.get("label") for e in graph["edges"]}
    assert edges == {("t:check", "t:good"): "inputs ok", ("t:check", "t:bad"): "inputs missing"}

    dag_json = client.get(f"/api/v1/dags/{DAG_ID}").json()
    assert dag_json["dag_id"] == DAG_ID and dag_json["dag_display_name"] == "Sales ✨ report"
    tasks = {
        t["task_id"]: t["task_display_name"]
        for t in client.get(f"/api/v1/dags/{DAG_ID}/tasks").json()["tasks"]
    }
    assert tasks["check"] == "Check the inputs" and tasks["good"] == "good"

    op = site.client()
    op.auth = ("op", "op-pass-123")
    assert op.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r1"}).status_code == 200
    grid = client.get(f"/dags/{DAG_ID}/grid", headers=HTML).text
    assert '<span title="check">Check the inputs</span>' in grid
    task_page = client.get(f"/dags/{DAG_ID}/runs/r1/tasks/check", headers=HTML).text
    assert 'data-testid="task-display-name">Check the inputs</span>' in task_page


def test_a_dag_without_display_names_shows_its_ids(site: Site) -> None:
    client, _ = site.login("viewer")
    dag_json = client.get("/api/v1/dags/shop_orders").json()
    assert dag_json["dag_display_name"] == "shop_orders"
    graph = client.get("/dags/shop_orders/graph-data").json()
    assert all(n["label"] == n["id"] for n in graph["nodes"])
    assert all("label" not in e for e in graph["edges"])
