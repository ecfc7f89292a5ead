"""The UI's live state feed (/ui/live) as pages use it: what each key answers, ETag/304 while nothing
changed, a new body when a state moves on, ``active`` false once nothing shown is queued or running; and
which pages follow what (only what is unfinished when the page is drawn)."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from urllib.parse import quote

from starlette.testclient import TestClient

from tests.integration.api.conftest import DAG_ID, NOW, Site
from tradewind.store.engine import transaction
from tradewind.store.tables import DagRunModel, TaskInstanceHistoryModel, TaskInstanceModel

HTML = {"accept": "text/html"}


def page(client: TestClient, url: str) -> str:
    """The page's HTML with character references decoded, as the browser reads attribute values."""
    return html.unescape(client.get(url, headers=HTML).text)


def key(*parts: object) -> str:
    return json.dumps(list(parts))


def live(client: TestClient, *keys: str, etag: str | None = None) -> tuple[int, dict[str, object], str]:
    headers = {"If-None-Match": etag} if etag else {}
    response = client.get("/ui/live", params=[("key", k) for k in keys], headers=headers)
    body = response.json() if response.status_code == 200 else {}
    return response.status_code, body, response.headers.get("etag", "")


def trigger(site: Site, run_id: str) -> None:
    op = site.client()
    op.auth = ("op", "op-pass-123")
    assert op.post(f"/api/v1/dags/{DAG_ID}/dagRuns", json={"dag_run_id": run_id}).status_code == 200


def set_states(site: Site, run_id: str, run_state: str, tasks: dict[str, str | None]) -> None:
    """Move a run and its task instances on, as the scheduler and the runner would."""
    with transaction(site.factory) as session:
        run = session.query(DagRunModel).filter_by(dag_id=DAG_ID, run_id=run_id).one()
        run.state = run_state
        run.start_date = run.start_date or NOW
        if run_state in ("success", "failed"):
            run.end_date = NOW + timedelta(seconds=90)
        for ti in session.query(TaskInstanceModel).filter_by(dag_id=DAG_ID, run_id=run_id):
            if ti.task_id in tasks:
                ti.state = tasks[ti.task_id]
                ti.try_number = max(ti.try_number, 1)
                ti.queued_at = NOW
                ti.start_date = NOW + timedelta(seconds=2)
                if tasks[ti.task_id] in ("success", "failed"):
                    ti.end_date = NOW + timedelta(seconds=12)
                    ti.duration = 10.0


def test_run_key_answers_304_until_the_state_moves_on_then_stops_being_active(site: Site) -> None:
    client, _ = site.login("viewer")
    trigger(site, "r1")
    run = key("run", DAG_ID, "r1")
    status, body, etag = live(client, run)
    assert status == 200 and etag
    assert body["active"] is True
    assert body["items"][run]["state"] == "queued"  # type: ignore[index]
    assert live(client, run, etag=etag)[0] == 304
    assert live(client, run, etag=f'W/{etag}, "other"')[0] == 304

    set_states(site, "r1", "running", {"extract": "running"})
    status, body, etag2 = live(client, run, etag=etag)
    assert status == 200 and etag2 != etag
    assert body["items"][run]["state"] == "running" and body["active"] is True  # type: ignore[index]

    set_states(site, "r1", "success", dict.fromkeys(("extract", "process.clean"), "success"))
    status, body, _ = live(client, run, etag=etag2)
    assert status == 200
    item = body["items"][run]  # type: ignore[index]
    assert (item["state"], item["duration"], body["active"]) == ("success", 90.0, False)
    assert item["end_date"].startswith("2026-03-01T12:01:30")


def test_each_key_kind_answers_what_its_page_shows(site: Site) -> None:
    client, _ = site.login("viewer")
    trigger(site, "r1")
    set_states(site, "r1", "running", {"extract": "success", "process.clean": "running"})
    keys = {
        "dag": key("dag", DAG_ID),
        "runs": key("runs", DAG_ID),
        "grid": key("grid", DAG_ID),
        "tasks": key("tasks", DAG_ID, "r1"),
        "ti": key("ti", DAG_ID, "r1", "extract", -1),
    }
    status, body, _ = live(client, *keys.values())
    assert status == 200 and body["active"] is True
    items = body["items"]
    assert isinstance(items, dict)
    assert items[keys["dag"]]["last_run"]["run_id"] == "r1"
    assert [r["state"] for r in items[keys["dag"]]["runs"]] == ["running"]
    assert items[keys["runs"]]["runs"][0]["run_id"] == "r1" and items[keys["runs"]]["total"] == 1
    assert items[keys["grid"]]["tasks"]["r1"]["process.clean"] == "running"
    tasks = items[keys["tasks"]]
    assert tasks["run"]["state"] == "running"
    assert tasks["tasks"]["extract"] == {
        "state": "success",
        "try_number": 1,
        "start_date": (NOW + timedelta(seconds=2)).isoformat(),
        "end_date": (NOW + timedelta(seconds=12)).isoformat(),
        "duration": 10.0,
    }
    assert tasks["group_states"]["process"] == "running"
    ti = items[keys["ti"]]
    assert (ti["state"], ti["try_number"], ti["duration"]) == ("success", 1, 10.0)
    assert [(t["try_number"], t["state"], t["duration"]) for t in ti["tries"]] == [(1, "success", 10.0)]


def test_mapped_instances_are_counted_by_state(site: Site) -> None:
    client, _ = site.login("viewer")
    trigger(site, "r1")
    with transaction(site.factory) as session:
        session.query(TaskInstanceModel).filter_by(dag_id=DAG_ID, run_id="r1", task_id="load").delete()
        for index, state in enumerate(["success", "success", "failed"]):
            session.add(
                TaskInstanceModel(
                    dag_id=DAG_ID, run_id="r1", task_id="load", map_index=index, state=state, try_number=1
                )
            )
    tasks = key("tasks", DAG_ID, "r1")
    item = live(client, tasks)[1]["items"][tasks]  # type: ignore[index]
    assert item["tasks"]["load"]["mapped"] == {"total": 3, "states": {"failed": 1, "success": 2}}
    assert item["tasks"]["load"]["state"] == "failed"


def test_unknown_things_are_null_and_bad_keys_are_refused(site: Site) -> None:
    client, _ = site.login("viewer")
    run = key("run", DAG_ID, "no-such-run")
    status, body, _ = live(client, run)
    assert status == 200 and body == {"items": {run: None}, "active": False}
    for bad in ["not json", key("run", DAG_ID), key("bogus", DAG_ID), key("ti", DAG_ID, "r", "t", "x")]:
        response = client.get("/ui/live", params={"key": bad})
        assert response.status_code == 400, bad
        assert "key" in response.json()["detail"]
    too_many = [("key", key("run", DAG_ID, f"r{i}")) for i in range(201)]
    assert client.get("/ui/live", params=too_many).status_code == 400
    assert site.client().get("/ui/live", params={"key": run}).status_code == 401


def test_pages_follow_only_what_is_unfinished_when_drawn(site: Site) -> None:
    client, _ = site.login("viewer")
    trigger(site, "r1")
    run = key("run", DAG_ID, "r1")
    assert f"data-live='{key('dag', DAG_ID)}'" in page(client, "/dags")
    assert f"data-live='{run}' data-live-field=\"state\"" in page(client, f"/dags/{DAG_ID}/runs")
    graph = page(client, f"/dags/{DAG_ID}")
    assert f"data-live='{key('runs', DAG_ID)}' data-live-field=\"run-options\"" in graph
    task = page(client, f"/dags/{DAG_ID}/runs/r1/tasks/extract")
    ti = key("ti", DAG_ID, "r1", "extract", -1)
    assert f"data-live='{ti}' data-live-field=\"state\"" in task
    assert 'data-live-grid="true"' in client.get(f"/dags/{DAG_ID}/grid", headers=HTML).text

    set_states(site, "r1", "success", dict.fromkeys(("extract", "process.clean"), "success"))
    for url in ["/dags", f"/dags/{DAG_ID}/runs", f"/dags/{DAG_ID}", f"/dags/{DAG_ID}/runs/r1/tasks/extract"]:
        assert "data-live=" not in page(client, url), url  # an idle page asks nothing
    assert 'data-live-grid="false"' in client.get(f"/dags/{DAG_ID}/grid", headers=HTML).text


def test_the_queued_flash_of_a_trigger_follows_its_run(site: Site) -> None:
    client, csrf = site.login("op")
    response = client.post(
        f"/dags/{DAG_ID}/trigger",
        data={"csrf_token": csrf, "mode": "json", "conf_json": "{}", "run_id": "from_ui"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"], headers=HTML).text
    flash = re.search(r'<div class="flash"[^>]*>', page)
    assert flash is not None and "is queued" in page
    follow = json.dumps(["run", DAG_ID, "from_ui"]).replace('"', "&#34;")
    assert f'data-live="{follow}"' in flash.group(0) and 'data-live-while="queued"' in flash.group(0)
    again = client.get(f"/dags/{DAG_ID}", headers=HTML).text
    assert 'class="flash"' not in again  # shown once


def test_graph_data_carries_durations_tries_and_mapped_counts(site: Site) -> None:
    client, _ = site.login("viewer")
    trigger(site, "r1")
    set_states(site, "r1", "running", {"extract": "success"})
    data = client.get(f"/dags/{DAG_ID}/graph-data", params={"run_id": "r1"}).json()
    assert data["details"]["extract"]["try_number"] == 1
    assert data["details"]["extract"]["duration"] == 10.0


def test_task_page_lists_every_try_and_what_ran_it(site: Site) -> None:
    client, _ = site.login("viewer")
    trigger(site, "r1")
    with transaction(site.factory) as session:
        session.add(
            TaskInstanceHistoryModel(
                dag_id=DAG_ID, run_id="r1", task_id="extract", map_index=-1, try_number=1, state="failed",
                start_date=NOW, end_date=NOW + timedelta(seconds=5), duration=5.0, executor="kubernetes",
                external_executor_id="etl-ns/extract-try-1", hostname="node-a", state_reason="OOMKilled",
            )
        )  # fmt: skip
        ti = session.query(TaskInstanceModel).filter_by(dag_id=DAG_ID, run_id="r1", task_id="extract").one()
        ti.try_number, ti.state, ti.executor = 2, "running", "kubernetes"
        ti.external_executor_id, ti.start_date = "etl-ns/extract-try-2", NOW + timedelta(seconds=30)
    page = client.get(f"/dags/{DAG_ID}/runs/r1/tasks/extract", headers=HTML).text
    table = page[page.index('data-testid="tries-table"') :]
    assert '<tr data-try="1"' in table and '<tr data-try="2"' in table and "OOMKilled" in table
    assert 'data-testid="pod-name">extract-try-2<' in page and 'data-testid="pod-namespace">etl-ns<' in page
    earlier = client.get(f"/dags/{DAG_ID}/runs/r1/tasks/extract?try_number=1", headers=HTML).text
    assert 'data-testid="pod-name">extract-try-1<' in earlier and 'data-testid="xcoms-earlier-try"' in earlier
    assert "OOMKilled" in earlier
    with transaction(site.factory) as session:
        ti = session.query(TaskInstanceModel).filter_by(dag_id=DAG_ID, run_id="r1", task_id="extract").one()
        ti.executor, ti.external_executor_id = "celery", "5f0c-celery-id"
    page = client.get(f"/dags/{DAG_ID}/runs/r1/tasks/extract", headers=HTML).text
    assert 'data-testid="celery-task-id">5f0c-celery-id<' in page


def test_task_page_follow_key_names_the_task_instance(site: Site) -> None:
    client, _ = site.login("viewer")
    trigger(site, "r1")
    text = page(client, f"/dags/{DAG_ID}/runs/{quote('r1')}/tasks/load")
    ti = key("ti", DAG_ID, "r1", "load", -1)
    assert text.count(f"data-live='{ti}'") >= 5  # badge, state, try, start, end, duration, new-try
