"""The web pages: DAG list filters and paging, import errors, the graph's data, trigger form, confirmations,
task try page."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.integration.api.conftest import DAG_ID, NOW, Site, build_dag, seed_dag
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import log_relative_path
from tradewind.store import import_errors, task_instances
from tradewind.store.engine import transaction
from tradewind.store.tables import DagRunModel

HTML = {"accept": "text/html"}


def runs(site: Site) -> int:
    with site.factory() as session:
        return int(session.scalar(select(func.count()).select_from(DagRunModel)) or 0)


def test_dag_list_filters_pages_and_reports_import_errors(site: Site) -> None:
    for i in range(60):
        seed_dag(site.factory, build_dag(f"bulk_{i:02d}", tags=["bulk"]))
    client, _ = site.login("viewer")
    first = client.get("/dags", headers=HTML).text
    assert "bulk_00" in first and "bulk_49" in first and "bulk_50" not in first and "page 1 of 2" in first
    assert "failed to import" not in first
    second = client.get("/dags?page=2", headers=HTML).text
    assert "shop_orders" in second and "bulk_59" in second
    tagged = client.get("/dags?tag=shop", headers=HTML).text
    assert "shop_orders" in tagged and "bulk_01" not in tagged
    searched = client.get("/dags?q=ORDERS", headers=HTML).text
    assert "shop_orders" in searched and "bulk_01" not in searched
    assert "No DAGs match" in client.get("/dags?status=paused", headers=HTML).text

    with transaction(site.factory) as session:
        import_errors.record_import_error(
            session=session,
            filename="/dags/broken.py",
            lineno=2,
            message="SyntaxError: invalid syntax",
            now=NOW,
        )
    banner = client.get("/dags", headers=HTML).text
    assert "1 DAG file failed to import" in banner
    listing = client.get("/import-errors", headers=HTML).text
    assert "/dags/broken.py" in listing and "SyntaxError: invalid syntax" in listing


def test_viewers_see_no_action_buttons(site: Site) -> None:
    viewer, _ = site.login("viewer")
    op, _ = site.login("op")
    assert 'data-testid="trigger-link"' not in viewer.get("/dags", headers=HTML).text
    assert 'data-testid="trigger-link"' in op.get("/dags", headers=HTML).text
    assert "Delete" not in op.get(f"/dags/{DAG_ID}/details", headers=HTML).text


def test_graph_data_lays_out_left_to_right_and_carries_states(site: Site) -> None:
    client, csrf = site.login("op")
    client.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r1"}, headers={"x-csrf-token": csrf})
    client.patch(
        f"/api/v1/dags/{DAG_ID}/dagRuns/r1/taskInstances/extract",
        json={"new_state": "success"},
        headers={"x-csrf-token": csrf},
    )
    data = client.get(f"/dags/{DAG_ID}/graph-data?run_id=r1").json()
    nodes = {n["key"]: n for n in data["nodes"]}
    assert set(nodes) == {"t:extract", "t:process.clean", "t:process.enrich", "t:load", "t:notify"}
    for edge in data["edges"]:
        assert nodes[edge["source"]]["x"] < nodes[edge["target"]]["x"]
    box = data["group_boxes"][0]
    assert [g["id"] for g in data["group_boxes"]] == ["process"]
    for member in ("t:process.clean", "t:process.enrich"):
        node = nodes[member]
        assert box["x"] < node["x"] and node["x"] + node["w"] < box["x"] + box["w"]
        assert box["y"] < node["y"] and node["y"] + node["h"] < box["y"] + box["h"]
    assert data["tasks"]["extract"] == "success" and data["tasks"]["load"] == "none"
    assert data["group_states"] == {"process": "none"} and data["finished"] is False

    folded = client.get(f"/dags/{DAG_ID}/graph-data?run_id=r1&collapsed=process").json()
    keys = {n["key"] for n in folded["nodes"]}
    assert keys == {"t:extract", "g:process", "t:load", "t:notify"}
    assert {"source": "t:extract", "target": "g:process"} in folded["edges"]

    states = client.get(f"/dags/{DAG_ID}/runs/r1/states").json()
    assert states["run_state"] == "queued" and states["group_states"]["process"] == "none"


def test_trigger_form_validates_params_and_creates_nothing_on_error(site: Site) -> None:
    client, csrf = site.login("op")
    form = client.get(f"/dags/{DAG_ID}/trigger", headers=HTML).text
    assert 'name="param__count"' in form and 'value="3"' in form

    bad = client.post(
        f"/dags/{DAG_ID}/trigger",
        data={"mode": "form", "param__count": "0", "param__label": "x", "csrf_token": csrf},
        headers=HTML,
    )
    assert bad.status_code == 422 and "count" in bad.text and 'value="0"' in bad.text
    malformed = client.post(
        f"/dags/{DAG_ID}/trigger",
        data={"mode": "json", "conf_json": "{not json", "csrf_token": csrf},
        headers=HTML,
    )
    assert malformed.status_code == 422 and "not valid JSON" in malformed.text
    no_csrf = client.post(f"/dags/{DAG_ID}/trigger", data={"mode": "json", "conf_json": "{}"}, headers=HTML)
    assert no_csrf.status_code == 403
    assert client.post("/dags/ghost/trigger", data={"csrf_token": csrf}, headers=HTML).status_code == 404
    assert runs(site) == 0

    good = client.post(
        f"/dags/{DAG_ID}/trigger",
        data={"mode": "form", "param__count": "7", "param__label": "adhoc", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert good.status_code == 303 and "run_id=manual__" in good.headers["location"]
    run = client.get(f"/api/v1/dags/{DAG_ID}/dagRuns").json()["dag_runs"][0]
    assert run["conf"] == {"count": 7, "label": "adhoc"}


def test_clearing_a_task_asks_for_confirmation_first(site: Site) -> None:
    client, csrf = site.login("op")
    client.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r1"}, headers={"x-csrf-token": csrf})
    for task_id in ("load", "notify"):
        client.patch(
            f"/api/v1/dags/{DAG_ID}/dagRuns/r1/taskInstances/{task_id}",
            json={"new_state": "failed"},
            headers={"x-csrf-token": csrf},
        )
    url = f"/dags/{DAG_ID}/runs/r1/tasks/load/clear"
    confirm = client.post(url, data={"downstream": "1", "csrf_token": csrf}, headers=HTML)
    assert confirm.status_code == 200 and 'data-testid="confirm"' in confirm.text
    assert "<li>load</li>" in confirm.text and "<li>notify</li>" in confirm.text
    with site.factory() as session:
        key = TaskInstanceKey(DAG_ID, "r1", "notify")
        assert task_instances.get_task_instance(session=session, key=key).state == "failed"
    done = client.post(
        url, data={"downstream": "1", "confirmed": "1", "csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    with site.factory() as session:
        assert task_instances.get_task_instance(session=session, key=key).state is None
    audit = client.get("/audit-log", headers=HTML).text
    assert "clear" in audit and "mark_failed" in audit


def test_task_page_shows_the_try_and_its_log(site: Site) -> None:
    client, _ = site.login("viewer")
    op = site.client()
    op.auth = ("op", "op-pass-123")
    op.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": "r1"})
    key = TaskInstanceKey(DAG_ID, "r1", "extract")
    with transaction(site.factory) as session:
        ti = task_instances.get_task_instance(session=session, key=key)
        ti.try_number, ti.state, ti.hostname, ti.executor = 1, "running", "worker-7", "kubernetes"
        ti.external_executor_id = "shop-orders-extract-abc12"
        ti.rendered_fields = {"bash_command": "echo 3"}
    path = site.settings.base_log_folder / log_relative_path(key, 1)
    path.parent.mkdir(parents=True)
    path.write_text("2026-03-01T12:00:00Z hello from extract\n")
    page = client.get(f"/dags/{DAG_ID}/runs/r1/tasks/extract", headers=HTML).text
    assert "shop-orders-extract-abc12" in page and "worker-7" in page and "echo 3" in page
    assert 'data-url="/api/v1/dags/shop_orders/dagRuns/r1/taskInstances/extract/logs/1"' in page
    assert "Clear" not in page  # viewers get no actions
    assert client.get(f"/dags/{DAG_ID}/runs/r1/tasks/ghost", headers=HTML).status_code == 404


def test_dag_tabs_render(site: Site) -> None:
    client, _ = site.login("viewer")
    details = client.get(f"/dags/{DAG_ID}/details", headers=HTML).text
    assert "<h1>Shop orders</h1>" in details and "<strong>orders</strong>" in details
    code = client.get(f"/dags/{DAG_ID}/code", headers=HTML).text
    assert "the shop_orders DAG" in code
    assert "No runs yet" in client.get(f"/dags/{DAG_ID}/grid", headers=HTML).text
    assert client.get(f"/dags/{DAG_ID}/runs", headers=HTML).status_code == 200
    assert client.get("/dags/ghost", headers=HTML).status_code == 404


def test_doc_md_cannot_inject_script(site: Site) -> None:
    sdag = build_dag("sneaky")
    sdag.doc_md = "<script>alert(1)</script>"
    seed_dag(site.factory, sdag)
    client, _ = site.login("viewer")
    page = client.get("/dags/sneaky/details", headers=HTML)
    assert "<script>alert(1)</script>" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
